package logical

import (
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/quiverdb/quiver/qerr"
)

// exprCtx is where an expression is bound.
type exprCtx struct {
	scope  *scope
	clause string                                // for error messages: 'field list', 'where clause', ...
	agg    *aggState                             // nil: aggregates are not allowed here
	win    *winState                             // nil: window functions are not allowed here
	alias  func(name string) (Expr, bool, error) // select-alias fallback (HAVING)
}

// aggState collects the aggregates of one SELECT (deduplicated).
type aggState struct {
	groups []Expr
	rollup *Field // WITH ROLLUP: the level column (see rollup.go)
	calls  []*AggregateCall
	fields []Field
	byKey  map[string]int
}

func (a *aggState) groupIdx(e Expr) (int, bool) {
	for i, g := range a.groups {
		if g.String() == e.String() {
			return i, true
		}
	}
	return -1, false
}

// winState collects the window functions of one SELECT.
type winState struct {
	named  map[string]*ast.WindowSpec
	calls  []*WindowCall
	fields []Field
}

func (b *Binder) funcs() FunctionResolver { return b.env.Funcs }

// bindPredicate binds a boolean condition (non-boolean values are cast, as
// MySQL tests them for truth).
func (b *Binder) bindPredicate(e ast.ExprNode, ctx *exprCtx) (Expr, error) {
	x, err := b.bindExpr(e, ctx)
	if err != nil {
		return nil, err
	}
	return toBool(x), nil
}

func toBool(x Expr) Expr {
	t := Type(x)
	if t.ID() == arrow.BOOL {
		return x
	}
	if p, ok := x.(*Param); ok && t.ID() == arrow.NULL {
		p.Type = arrow.FixedWidthTypes.Boolean
		return p
	}
	return &Cast{Expr: x, Type: arrow.FixedWidthTypes.Boolean}
}

// call resolves a scalar function and inserts the casts its signature asks for.
func (b *Binder) call(name string, args []Expr) (Expr, error) {
	// Untyped parameters take the type of the first typed argument.
	var hint arrow.DataType
	for _, a := range args {
		if t := Type(a); t.ID() != arrow.NULL {
			hint = t
			break
		}
	}
	ts := make([]arrow.DataType, len(args))
	consts := make([]scalar.Scalar, len(args))
	for i, a := range args {
		if p, ok := a.(*Param); ok && p.Type.ID() == arrow.NULL && hint != nil {
			p.Type = hint
		}
		ts[i] = Type(a)
		if l, ok := a.(*Literal); ok {
			consts[i] = l.Value
		}
	}
	sig, err := b.funcs().Resolve(name, ts, consts)
	if err != nil {
		if qerr.KindOf(err) == qerr.NotFound {
			return nil, qerr.New(qerr.NotFound, "FUNCTION %s.%s does not exist", b.env.CurrentSchema, name)
		}
		return nil, err
	}
	// Hex literals wanted as numbers become numbers; type the call again.
	changed := false
	for i, a := range args {
		if n := hexNumber(a, sig.Args[i]); n != a {
			args[i], ts[i], consts[i], changed = n, Type(n), n.(*Literal).Value, true
		}
	}
	if changed {
		if sig, err = b.funcs().Resolve(name, ts, consts); err != nil {
			return nil, err
		}
	}
	return &Call{Func: name, Args: castArgs(args, sig.Args), Type: sig.Return}, nil
}

// hexNumber turns a hex or bit literal of at most 8 bytes into its unsigned
// value when it is used as type want, a number; else it returns e.
func hexNumber(e Expr, want arrow.DataType) Expr {
	l, ok := e.(*Literal)
	if !ok || !l.Hex || want == nil || !l.Value.IsValid() {
		return e
	}
	switch want.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32,
		arrow.UINT64, arrow.FLOAT32, arrow.FLOAT64, arrow.DECIMAL128, arrow.BOOL:
	default:
		return e
	}
	bs, ok := l.Value.(*scalar.Binary)
	if !ok || bs.Value.Len() > 8 {
		return e
	}
	var v uint64
	for _, c := range bs.Data() {
		v = v<<8 | uint64(c)
	}
	return &Literal{Value: scalar.NewUint64Scalar(v)}
}

func castArgs(args []Expr, types []arrow.DataType) []Expr {
	out := make([]Expr, len(args))
	for i, a := range args {
		out[i] = a
		if i < len(types) && types[i] != nil {
			out[i] = castTo(a, types[i])
		}
	}
	return out
}

// castTo wraps e in a Cast unless it already has type t (a NULL literal or
// an untyped parameter simply takes the type).
func castTo(e Expr, t arrow.DataType) Expr {
	if arrow.TypeEqual(Type(e), t) {
		return e
	}
	if l, ok := e.(*Literal); ok && !l.Value.IsValid() {
		return nullLiteral(t)
	}
	if p, ok := e.(*Param); ok && p.Type.ID() == arrow.NULL {
		p.Type = t
		return p
	}
	return &Cast{Expr: e, Type: t}
}

var binaryOps = map[opcode.Op]string{
	opcode.LogicAnd: "and", opcode.LogicOr: "or", opcode.LogicXor: "xor",
	opcode.GE: ">=", opcode.LE: "<=", opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.GT: ">",
	opcode.NullEQ: "<=>", opcode.Plus: "+", opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/",
	opcode.IntDiv: "div", opcode.Mod: "%", opcode.And: "&", opcode.Or: "|", opcode.Xor: "^",
	opcode.LeftShift: "<<", opcode.RightShift: ">>",
}

// Function aliases to canonical names.
var funcAlias = map[string]string{
	"ucase": "upper", "lcase": "lower", "octet_length": "length", "character_length": "char_length",
	"substr": "substring", "mid": "substring", "ceiling": "ceil", "pow": "power", "dayofmonth": "day",
	"mod": "%", "ifnull": "coalesce", "regexp_like": "regexp", "adddate": "date_add", "subdate": "date_sub",
	"position": "locate", ast.InsertFunc: "insert",
}

func (b *Binder) bindExprs(es []ast.ExprNode, ctx *exprCtx) ([]Expr, error) {
	out := make([]Expr, len(es))
	for i, e := range es {
		x, err := b.bindExpr(e, ctx)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func (b *Binder) bindExpr(e ast.ExprNode, ctx *exprCtx) (Expr, error) {
	switch x := e.(type) {
	case *test_driver.ParamMarkerExpr:
		// Keyed by text offset: a CTE bound twice reuses its parameters.
		p, ok := b.params[x.Offset]
		if !ok {
			p = &Param{Type: arrow.Null}
			b.params[x.Offset] = p
		}
		return p, nil
	case *test_driver.ValueExpr:
		return literal(x)
	case *ast.ParenthesesExpr:
		return b.bindExpr(x.Expr, ctx)
	case *ast.ColumnNameExpr:
		return b.bindColumn(x.Name, ctx)
	case *ast.BinaryOperationExpr:
		name, ok := binaryOps[x.Op]
		if !ok {
			return nil, qerr.New(qerr.Unimplemented, "operator %s is not supported", x.Op)
		}
		if isRow(x.L) || isRow(x.R) {
			return b.bindRowCompare(name, x.L, x.R, ctx)
		}
		args, err := b.bindExprs([]ast.ExprNode{x.L, x.R}, ctx)
		if err != nil {
			return nil, err
		}
		return b.call(name, args)
	case *ast.UnaryOperationExpr:
		v, err := b.bindExpr(x.V, ctx)
		if err != nil {
			return nil, err
		}
		switch x.Op {
		case opcode.Plus:
			return v, nil
		case opcode.Minus:
			return b.negate(v)
		case opcode.Not, opcode.Not2:
			return b.call("not", []Expr{v})
		case opcode.BitNeg:
			return b.call("~", []Expr{v})
		}
		return nil, qerr.New(qerr.Unimplemented, "operator %s is not supported", x.Op)
	case *ast.BetweenExpr:
		args, err := b.bindExprs([]ast.ExprNode{x.Expr, x.Left, x.Right}, ctx)
		if err != nil {
			return nil, err
		}
		ge, err := b.call(">=", []Expr{args[0], args[1]})
		if err != nil {
			return nil, err
		}
		le, err := b.call("<=", []Expr{args[0], args[2]})
		if err != nil {
			return nil, err
		}
		return b.maybeNot(b.call("and", []Expr{ge, le}))(x.Not)
	case *ast.IsNullExpr:
		v, err := b.bindExpr(x.Expr, ctx)
		if err != nil {
			return nil, err
		}
		if x.Not {
			return b.call("is_not_null", []Expr{v})
		}
		return b.call("is_null", []Expr{v})
	case *ast.IsTruthExpr:
		v, err := b.bindExpr(x.Expr, ctx)
		if err != nil {
			return nil, err
		}
		name := map[[2]bool]string{{true, false}: "is_true", {true, true}: "is_not_true", {false, false}: "is_false", {false, true}: "is_not_false"}[[2]bool{x.True != 0, x.Not}]
		return b.call(name, []Expr{v})
	case *ast.PatternLikeOrIlikeExpr:
		args, err := b.bindExprs([]ast.ExprNode{x.Expr, x.Pattern}, ctx)
		if err != nil {
			return nil, err
		}
		if !x.IsLike {
			for i := range args {
				if args[i], err = b.call("lower", []Expr{args[i]}); err != nil {
					return nil, err
				}
			}
		}
		if x.EscapeExplicit {
			args = append(args, &Literal{Value: scalar.NewStringScalar(string([]byte{x.Escape}))})
		}
		return b.maybeNot(b.call("like", args))(x.Not)
	case *ast.PatternRegexpExpr:
		args, err := b.bindExprs([]ast.ExprNode{x.Expr, x.Pattern}, ctx)
		if err != nil {
			return nil, err
		}
		return b.maybeNot(b.call("regexp", args))(x.Not)
	case *ast.PatternInExpr:
		return b.bindIn(x, ctx)
	case *ast.CaseExpr:
		return b.bindCase(x, ctx)
	case *ast.FuncCastExpr:
		return b.bindCast(x, ctx)
	case *ast.FuncCallExpr:
		return b.bindFunc(x, ctx)
	case *ast.AggregateFuncExpr:
		return b.bindAggregate(strings.ToLower(x.F), x.Args, x.Distinct, x.Order, ctx)
	case *ast.WindowFuncExpr:
		return b.bindWindow(x, ctx)
	case *ast.SubqueryExpr:
		return b.bindSubquery(x, ScalarSubquery, nil, ctx)
	case *ast.ExistsSubqueryExpr:
		sq, ok := x.Sel.(*ast.SubqueryExpr)
		if !ok {
			return nil, qerr.New(qerr.Unimplemented, "EXISTS over %T", x.Sel)
		}
		return b.maybeNot(b.bindSubquery(sq, ExistsSubquery, nil, ctx))(x.Not)
	case *ast.CompareSubqueryExpr:
		sq, ok := x.R.(*ast.SubqueryExpr)
		if !ok {
			return nil, qerr.New(qerr.Unimplemented, "comparison with %T", x.R)
		}
		switch {
		case x.Op == opcode.EQ && !x.All:
			return b.bindSubquery(sq, InSubquery, x.L, ctx)
		case x.Op == opcode.NE && x.All:
			return b.maybeNot(b.bindSubquery(sq, InSubquery, x.L, ctx))(true)
		}
		return b.bindQuantifiedOp(sq, x.Op, x.All, x.L, ctx)
	case *ast.RowExpr:
		return nil, qerr.New(qerr.InvalidArgument, "Operand should contain 1 column(s)")
	case *ast.VariableExpr:
		return nil, qerr.New(qerr.Unimplemented, "variables are not supported in expressions")
	case *ast.SetCollationExpr:
		// Strings always compare as utf8mb4_bin: a utf8mb4 COLLATE changes
		// nothing (a _ci collation is a documented difference).
		c := strings.ToLower(x.Collate)
		if c != "binary" && !strings.HasPrefix(c, "utf8mb4_") && !strings.HasPrefix(c, "utf8mb3_") && !strings.HasPrefix(c, "utf8_") {
			return nil, qerr.New(qerr.InvalidArgument, "COLLATION '%s' is not valid for CHARACTER SET 'utf8mb4'", x.Collate)
		}
		return b.bindExpr(x.Expr, ctx)
	case *ast.DefaultExpr:
		return nil, qerr.New(qerr.Unimplemented, "DEFAULT is not supported")
	}
	return nil, qerr.New(qerr.Unimplemented, "expression %T is not supported", e)
}

// maybeNot wraps a result in not(...) when neg is set.
func (b *Binder) maybeNot(e Expr, err error) func(neg bool) (Expr, error) {
	return func(neg bool) (Expr, error) {
		if err != nil || !neg {
			return e, err
		}
		return b.call("not", []Expr{e})
	}
}

func isRow(e ast.ExprNode) bool {
	_, ok := e.(*ast.RowExpr)
	return ok
}

// bindRowCompare compares rows, either side possibly a subquery of one row
// and several columns: = and <=> are the conjunction over the columns, <>
// its negation, <, <=, >, >= lexicographic (MySQL: the first pair that is
// not equal decides, NULL when that pair is unknown).
func (b *Binder) bindRowCompare(op string, l, r ast.ExprNode, ctx *exprCtx) (Expr, error) {
	ls, err := b.rowItems(l, ctx)
	if err != nil {
		return nil, err
	}
	rs, err := b.rowItems(r, ctx)
	if err != nil {
		return nil, err
	}
	if len(ls) != len(rs) {
		return nil, qerr.New(qerr.InvalidArgument, "Operand should contain %d column(s)", len(ls))
	}
	cmp := func(i int, op string) (Expr, error) {
		if ls[i].sq == nil && rs[i].sq == nil && (isRow(ls[i].node) || isRow(rs[i].node)) {
			return b.bindRowCompare(op, ls[i].node, rs[i].node, ctx)
		}
		x, err := b.bindRowItem(ls[i], ctx)
		if err != nil {
			return nil, err
		}
		y, err := b.bindRowItem(rs[i], ctx)
		if err != nil {
			return nil, err
		}
		return b.call(op, []Expr{x, y})
	}
	switch op {
	case "=", "<>", "<=>":
		elem := map[string]string{"<>": "="}[op] + strings.TrimPrefix(op, "<>")
		var out Expr
		for i := range ls {
			c, err := cmp(i, elem)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = c
			} else if out, err = b.call("and", []Expr{out, c}); err != nil {
				return nil, err
			}
		}
		return b.maybeNot(out, nil)(op == "<>")
	case "<", "<=", ">", ">=":
		// From the last column: x_i < y_i OR (x_i = y_i AND rest).
		out, err := cmp(len(ls)-1, op)
		if err != nil {
			return nil, err
		}
		for i := len(ls) - 2; i >= 0; i-- {
			first, err := cmp(i, op[:1])
			if err != nil {
				return nil, err
			}
			same, err := cmp(i, "=")
			if err != nil {
				return nil, err
			}
			if out, err = b.call("and", []Expr{same, out}); err != nil {
				return nil, err
			}
			if out, err = b.call("or", []Expr{first, out}); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	return nil, qerr.New(qerr.Unimplemented, "row comparison with %s is not supported", op)
}

// rowItem is one element of a row operand: an expression (maybe a nested
// row), or column col of a row subquery, bound afresh on every use so that
// each use plans its own subquery.
type rowItem struct {
	node ast.ExprNode
	sq   *ast.SubqueryExpr
	col  int
}

func (b *Binder) rowItems(e ast.ExprNode, ctx *exprCtx) ([]rowItem, error) {
	switch x := e.(type) {
	case *ast.RowExpr:
		items := make([]rowItem, len(x.Values))
		for i, v := range x.Values {
			items[i] = rowItem{node: v}
		}
		return items, nil
	case *ast.SubqueryExpr:
		var refs []*ColumnRef
		plan, err := b.bindQuery(x.Query, ctx.scope, &refs)
		if err != nil {
			return nil, err
		}
		if n := len(plan.Schema().Fields); n > 1 {
			items := make([]rowItem, n)
			for i := range items {
				items[i] = rowItem{sq: x, col: i}
			}
			return items, nil
		}
	}
	return []rowItem{{node: e}}, nil
}

func (b *Binder) bindRowItem(it rowItem, ctx *exprCtx) (Expr, error) {
	if it.sq == nil {
		return b.bindExpr(it.node, ctx)
	}
	var refs []*ColumnRef
	plan, err := b.bindQuery(it.sq.Query, ctx.scope, &refs)
	if err != nil {
		return nil, err
	}
	f := plan.Schema().Fields[it.col]
	if p, ok := plan.(*Project); ok {
		// Narrowing the projection keeps the shapes decorrelation knows.
		plan = &Project{Input: p.Input, Exprs: p.Exprs[it.col : it.col+1], Fields: p.Fields[it.col : it.col+1]}
	} else {
		plan = &Project{Input: plan, Exprs: []Expr{&ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable}}, Fields: []Field{f}}
	}
	return &Subquery{Kind: ScalarSubquery, Plan: plan, OuterRefs: refs, Type: f.Type, Text: fmt.Sprintf("%s #%d", subqueryText(it.sq.Query), it.col+1)}, nil
}

// negate folds -literal (so -5 stays a BIGINT literal) or calls neg.
func (b *Binder) negate(v Expr) (Expr, error) {
	if l, ok := v.(*Literal); ok && l.Value.IsValid() {
		switch s := l.Value.(type) {
		case *scalar.Int64:
			if s.Value != -s.Value || s.Value == 0 {
				return &Literal{Value: scalar.NewInt64Scalar(-s.Value)}, nil
			}
		case *scalar.Uint64:
			// -9223372036854775808 is the smallest BIGINT, not a DECIMAL (MySQL).
			if s.Value == 1<<63 {
				return &Literal{Value: scalar.NewInt64Scalar(math.MinInt64)}, nil
			}
			return decimalLiteral("-" + strconv.FormatUint(s.Value, 10))
		case *scalar.Float64:
			return &Literal{Value: scalar.NewFloat64Scalar(-s.Value)}, nil
		case *scalar.Decimal128:
			return &Literal{Value: scalar.NewDecimal128Scalar(s.Value.Negate(), s.Type)}, nil
		}
	}
	return b.call("neg", []Expr{v})
}

// groupedColumn reports whether name is a FROM column of this query that is
// also a GROUP BY key.
func (ctx *exprCtx) groupedColumn(name string) bool {
	if ctx.agg == nil {
		return false
	}
	for _, c := range ctx.scope.match("", "", name) {
		for _, g := range ctx.agg.groups {
			if r, ok := g.(*ColumnRef); ok && r.ID == c.ID {
				return true
			}
		}
	}
	return false
}

func (b *Binder) bindColumn(cn *ast.ColumnName, ctx *exprCtx) (Expr, error) {
	if ctx.scope == nil {
		return nil, unknownColumn(cn, ctx.clause)
	}
	// HAVING prefers a select alias over a FROM column, unless that column
	// is a GROUP BY key (MySQL's rule for names that are both).
	if ctx.alias != nil && cn.Table.L == "" {
		e, ok, err := ctx.alias(cn.Name.O)
		if err != nil {
			return nil, err
		}
		if ok && !ctx.groupedColumn(cn.Name.L) {
			return e, nil
		}
	}
	ref, found, err := ctx.scope.resolve(cn, ctx.clause)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, unknownColumn(cn, ctx.clause)
	}
	return ref, nil
}

func (b *Binder) bindIn(x *ast.PatternInExpr, ctx *exprCtx) (Expr, error) {
	if x.Sel != nil {
		sq, ok := x.Sel.(*ast.SubqueryExpr)
		if !ok {
			return nil, qerr.New(qerr.Unimplemented, "IN over %T", x.Sel)
		}
		return b.maybeNot(b.bindSubquery(sq, InSubquery, x.Expr, ctx))(x.Not)
	}
	if isRow(x.Expr) {
		// (a, b) IN ((1, 2), ...) → OR of row equalities.
		var out Expr
		for _, v := range x.List {
			c, err := b.bindRowCompare("=", x.Expr, v, ctx)
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = c
			} else if out, err = b.call("or", []Expr{out, c}); err != nil {
				return nil, err
			}
		}
		return b.maybeNot(out, nil)(x.Not)
	}
	args, err := b.bindExprs(append([]ast.ExprNode{x.Expr}, x.List...), ctx)
	if err != nil {
		return nil, err
	}
	if b.mixedIn(args) {
		// MySQL compares each pair in its own type when the list mixes
		// strings and numbers: '1.0' IN ('1', 2) is 0 (string '1.0' <> '1',
		// number 1.0 <> 2), not a numeric compare with every element.
		var out Expr
		for _, v := range args[1:] {
			c, err := b.call("=", []Expr{args[0], v})
			if err != nil {
				return nil, err
			}
			if out == nil {
				out = c
			} else if out, err = b.call("or", []Expr{out, c}); err != nil {
				return nil, err
			}
		}
		return b.maybeNot(out, nil)(x.Not)
	}
	return b.maybeNot(b.call("in", args))(x.Not)
}

// mixedIn reports whether x IN (list) compares x as a string with some
// elements and as a number or date with others.
func (b *Binder) mixedIn(args []Expr) bool {
	class := func(t arrow.DataType) int {
		switch t.ID() {
		case arrow.NULL:
			return -1
		case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW, arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW:
			return 0
		}
		return 1
	}
	seen := -1
	lt := Type(args[0])
	for _, v := range args[1:] {
		sig, err := b.funcs().Resolve("=", []arrow.DataType{lt, Type(v)}, nil)
		if err != nil || len(sig.Args) != 2 {
			return false
		}
		c := class(sig.Args[0])
		if c < 0 {
			continue
		}
		if seen >= 0 && c != seen {
			return true
		}
		seen = c
	}
	return false
}

func (b *Binder) bindCase(x *ast.CaseExpr, ctx *exprCtx) (Expr, error) {
	var value Expr
	if x.Value != nil {
		v, err := b.bindExpr(x.Value, ctx)
		if err != nil {
			return nil, err
		}
		value = v
	}
	c := &Case{}
	for _, w := range x.WhenClauses {
		cond, err := b.bindExpr(w.Expr, ctx)
		if err != nil {
			return nil, err
		}
		if value != nil {
			if cond, err = b.call("=", []Expr{value, cond}); err != nil {
				return nil, err
			}
		}
		then, err := b.bindExpr(w.Result, ctx)
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, toBool(cond))
		c.Thens = append(c.Thens, then)
	}
	if x.ElseClause != nil {
		e, err := b.bindExpr(x.ElseClause, ctx)
		if err != nil {
			return nil, err
		}
		c.Else = e
	}
	return b.unifyCase(c)
}

// unifyCase gives all branches their common type.
func (b *Binder) unifyCase(c *Case) (Expr, error) {
	ts := make([]arrow.DataType, 0, len(c.Thens)+1)
	for _, t := range c.Thens {
		ts = append(ts, Type(t))
	}
	if c.Else != nil {
		ts = append(ts, Type(c.Else))
	}
	t, err := b.funcs().CommonType(ts...)
	if err != nil {
		return nil, err
	}
	if t.ID() == arrow.DECIMAL128 {
		// Branches unify like COALESCE arguments, which knows that an
		// integer literal (ELSE 0) widens a decimal only by its digits.
		consts := make([]scalar.Scalar, len(ts))
		for i, e := range append(append([]Expr{}, c.Thens...), c.Else) {
			if l, ok := e.(*Literal); ok && i < len(ts) {
				consts[i] = l.Value
			}
		}
		sig, err := b.funcs().Resolve("coalesce", ts, consts)
		if err != nil {
			return nil, err
		}
		t = sig.Return
	}
	c.Type = t
	for i := range c.Thens {
		c.Thens[i] = castTo(c.Thens[i], t)
	}
	if c.Else != nil {
		c.Else = castTo(c.Else, t)
		if l, ok := c.Else.(*Literal); ok && !l.Value.IsValid() {
			c.Else = nil
		}
	}
	return c, nil
}

func (b *Binder) bindCast(x *ast.FuncCastExpr, ctx *exprCtx) (Expr, error) {
	v, err := b.bindExpr(x.Expr, ctx)
	if err != nil {
		return nil, err
	}
	t, err := ArrowType(x.Tp)
	if err != nil {
		return nil, err
	}
	if t.ID() == arrow.UINT64 && arrow.IsDecimal(Type(v).ID()) {
		// A negative DECIMAL casts to UNSIGNED as 0 (MySQL), unlike an
		// integer, which wraps (CAST(-1 AS UNSIGNED) is 2^64-1).
		if v, err = b.call("greatest", []Expr{v, &Literal{Value: scalar.NewInt64Scalar(0)}}); err != nil {
			return nil, err
		}
	}
	// CAST keeps MySQL's compute types: CAST(x AS SIGNED) is BIGINT etc.
	c := castTo(hexNumber(v, t), t)
	if n := x.Tp.GetFlen(); t.ID() == arrow.STRING && n > 0 {
		// CAST(x AS CHAR(n)) keeps the first n characters (MySQL truncates).
		return b.call("left", []Expr{c, &Literal{Value: scalar.NewInt64Scalar(int64(n))}})
	}
	if n := x.Tp.GetFlen(); t.ID() == arrow.BINARY && n > 0 {
		// CAST(x AS BINARY(n)) is exactly n bytes: truncated or padded with 0x00.
		return b.call("cast_binary", []Expr{c, &Literal{Value: scalar.NewInt64Scalar(int64(n))}})
	}
	return c, nil
}

func unitLiteral(e ast.ExprNode) (Expr, bool) {
	if u, ok := e.(*ast.TimeUnitExpr); ok {
		return &Literal{Value: scalar.NewStringScalar(strings.ToUpper(u.Unit.String()))}, true
	}
	return nil, false
}

func (b *Binder) bindFunc(x *ast.FuncCallExpr, ctx *exprCtx) (Expr, error) {
	name := x.FnName.L
	switch name {
	case ast.DateLiteral, ast.TimestampLiteral, ast.TimeLiteral:
		return typedLiteral(name, x.Args)
	case "now", "current_timestamp", "localtime", "localtimestamp", "sysdate", "utc_timestamp":
		now, err := nowWithFsp(b.env.Now, name, x.Args)
		if err != nil {
			return nil, err
		}
		us := now.UnixMicro()
		if name != "utc_timestamp" {
			us += localOffset(now)
		}
		return &Literal{Value: scalar.NewTimestampScalar(arrow.Timestamp(us), &arrow.TimestampType{Unit: arrow.Microsecond})}, nil
	case "curdate", "current_date":
		return &Literal{Value: scalar.NewDate32Scalar(arrow.Date32FromTime(b.env.Now.Add(time.Duration(localOffset(b.env.Now)) * time.Microsecond).UTC()))}, nil
	case "utc_date":
		return &Literal{Value: scalar.NewDate32Scalar(arrow.Date32FromTime(b.env.Now.UTC()))}, nil
	case "curtime", "current_time", "utc_time":
		n, err := nowWithFsp(b.env.Now, name, x.Args)
		if err != nil {
			return nil, err
		}
		if n = n.In(time.Local); name == "utc_time" {
			n = n.UTC()
		}
		us := int64(n.Hour()*3600+n.Minute()*60+n.Second())*1e6 + int64(n.Nanosecond()/1e3)
		return &Literal{Value: scalar.NewTime64Scalar(arrow.Time64(us), arrow.FixedWidthTypes.Time64us)}, nil
	case ast.CharFunc:
		// The parser appends the USING charset (or NULL): without one CHAR()
		// is VARBINARY, with one a string.
		if len(x.Args) < 2 {
			return nil, errParamCount("char")
		}
		args, err := b.bindExprs(x.Args[:len(x.Args)-1], ctx)
		if err != nil {
			return nil, err
		}
		c, err := b.call("char", args)
		if v, ok := x.Args[len(x.Args)-1].(*test_driver.ValueExpr); err == nil && ok && v.Kind() != test_driver.KindNull {
			return castTo(c, arrow.BinaryTypes.String), nil
		}
		return c, err
	case "unix_timestamp":
		if len(x.Args) == 0 {
			return &Literal{Value: scalar.NewInt64Scalar(b.env.Now.Unix())}, nil
		}
	case "from_unixtime":
		// FROM_UNIXTIME(t, format) = DATE_FORMAT(FROM_UNIXTIME(t), format).
		if len(x.Args) == 2 {
			args, err := b.bindExprs(x.Args, ctx)
			if err != nil {
				return nil, err
			}
			t, err := b.call("from_unixtime", args[:1])
			if err != nil {
				return nil, err
			}
			return b.call("date_format", []Expr{t, args[1]})
		}
	case "atan":
		if len(x.Args) == 2 {
			name = "atan2"
		}
	case "charset", "collation":
		// Strings are utf8mb4 compared as utf8mb4_bin; binary strings are binary.
		if len(x.Args) != 1 {
			return nil, errParamCount(name)
		}
		v, err := b.bindExpr(x.Args[0], ctx)
		if err != nil {
			return nil, err
		}
		cs := map[bool]string{true: "utf8mb4", false: "binary"}[Type(v).ID() == arrow.STRING || Type(v).ID() == arrow.LARGE_STRING]
		if name == "collation" && cs == "utf8mb4" {
			cs = "utf8mb4_bin"
		}
		return &Literal{Value: scalar.NewStringScalar(cs)}, nil
	case "database", "schema":
		if b.env.CurrentSchema == "" {
			return nullLiteral(arrow.BinaryTypes.String), nil
		}
		return &Literal{Value: scalar.NewStringScalar(b.env.CurrentSchema)}, nil
	case "version":
		return &Literal{Value: scalar.NewStringScalar("8.0.36-quiver")}, nil
	case "any_value":
		return b.bindAggregate("any_value", x.Args, false, nil, ctx)
	case "grouping":
		return b.bindGrouping(x.Args, ctx)
	case "if":
		if len(x.Args) != 3 {
			return nil, errParamCount(name)
		}
		args, err := b.bindExprs(x.Args, ctx)
		if err != nil {
			return nil, err
		}
		return b.unifyCase(&Case{Whens: []Expr{toBool(args[0])}, Thens: []Expr{args[1]}, Else: args[2]})
	case "convert":
		// CONVERT(x USING charset): strings are utf8 throughout.
		if len(x.Args) == 2 {
			v, err := b.bindExpr(x.Args[0], ctx)
			if err != nil {
				return nil, err
			}
			return castTo(v, arrow.BinaryTypes.String), nil
		}
	case "trim":
		return b.bindTrim(x.Args, ctx)
	case "dayname", "monthname", "weekofyear", "microsecond":
		// Spelled with the kernels of DATE_FORMAT, WEEK and EXTRACT.
		if len(x.Args) != 1 {
			return nil, errParamCount(name)
		}
		v, err := b.bindExpr(x.Args[0], ctx)
		if err != nil {
			return nil, err
		}
		str := func(s string) Expr { return &Literal{Value: scalar.NewStringScalar(s)} }
		switch name {
		case "dayname":
			return b.call("date_format", []Expr{v, str("%W")})
		case "monthname":
			return b.call("date_format", []Expr{v, str("%M")})
		case "weekofyear":
			return b.call("week", []Expr{v, &Literal{Value: scalar.NewInt64Scalar(3)}})
		}
		return b.call("extract", []Expr{str("MICROSECOND"), v})
	case "date_add", "date_sub", "adddate", "subdate", "extract", "timestampdiff", "timestampadd":
		args := make([]Expr, 0, len(x.Args))
		var unit Expr
		for _, a := range x.Args {
			if u, ok := unitLiteral(a); ok {
				unit = u
				continue
			}
			v, err := b.bindExpr(a, ctx)
			if err != nil {
				return nil, err
			}
			args = append(args, v)
		}
		if unit == nil {
			break
		}
		if alias, ok := funcAlias[name]; ok {
			name = alias
		}
		switch name {
		case "date_add", "date_sub":
			return b.call(name, append(args, unit))
		case "timestampadd": // TIMESTAMPADD(unit, n, d) = DATE_ADD(d, INTERVAL n unit)
			if len(args) != 2 {
				return nil, errParamCount(name)
			}
			return b.call("date_add", []Expr{args[1], args[0], unit})
		default: // extract(unit, x), timestampdiff(unit, a, b)
			return b.call(name, append([]Expr{unit}, args...))
		}
	}
	if alias, ok := funcAlias[name]; ok {
		name = alias
	}
	args, err := b.bindExprs(x.Args, ctx)
	if err != nil {
		return nil, err
	}
	return b.call(name, args)
}

func (b *Binder) bindTrim(as []ast.ExprNode, ctx *exprCtx) (Expr, error) {
	dir := "BOTH"
	var args []Expr
	for _, a := range as {
		if d, ok := a.(*ast.TrimDirectionExpr); ok {
			switch d.Direction {
			case ast.TrimLeading:
				dir = "LEADING"
			case ast.TrimTrailing:
				dir = "TRAILING"
			}
			continue
		}
		v, err := b.bindExpr(a, ctx)
		if err != nil {
			return nil, err
		}
		args = append(args, v)
	}
	if len(args) == 2 {
		if l, ok := args[1].(*Literal); ok && l.Value.IsValid() && l.Value.String() == " " {
			args = args[:1]
		}
	}
	if len(args) == 1 {
		return b.call(map[string]string{"BOTH": "trim", "LEADING": "ltrim", "TRAILING": "rtrim"}[dir], args)
	}
	return b.call("trim_chars", append(args, &Literal{Value: scalar.NewStringScalar(dir)}))
}

// localOffset is the session-local UTC offset in microseconds (NOW() is
// local time without a zone, as in MySQL).
func localOffset(t time.Time) int64 {
	_, off := t.In(time.Local).Zone()
	return int64(off) * 1e6
}

// literal converts a parser value to a typed Literal (MySQL 8 literal types).
func literal(v *test_driver.ValueExpr) (Expr, error) {
	switch v.Kind() {
	case test_driver.KindNull:
		return nullLiteral(arrow.Null), nil
	case test_driver.KindInt64:
		return &Literal{Value: scalar.NewInt64Scalar(v.GetInt64())}, nil
	case test_driver.KindUint64:
		return &Literal{Value: scalar.NewUint64Scalar(v.GetUint64())}, nil
	case test_driver.KindFloat32, test_driver.KindFloat64:
		return &Literal{Value: scalar.NewFloat64Scalar(v.GetFloat64())}, nil
	case test_driver.KindString:
		return &Literal{Value: scalar.NewStringScalar(v.GetString())}, nil
	case test_driver.KindBytes, test_driver.KindBinaryLiteral, test_driver.KindMysqlBit:
		var bs []byte
		if v.Kind() == test_driver.KindBytes {
			bs = v.GetBytes()
		} else {
			bs = v.GetBinaryLiteral()
		}
		return &Literal{Value: scalar.NewBinaryScalar(memoryBuffer(bs), arrow.BinaryTypes.Binary), Hex: v.Kind() != test_driver.KindBytes}, nil
	case test_driver.KindMysqlDecimal:
		return decimalLiteral(v.GetMysqlDecimal().String())
	}
	return nil, qerr.New(qerr.Unimplemented, "literal of kind %d is not supported", v.Kind())
}

// decimalLiteral types "12.50" as DECIMAL(4,2) (precision = significant
// integer digits + scale).
func decimalLiteral(s string) (Expr, error) {
	digits := strings.TrimLeft(strings.TrimPrefix(s, "-"), "0")
	intPart, frac, _ := strings.Cut(digits, ".")
	scale := len(frac)
	prec := max(len(intPart), 1) + scale
	if prec > 38 {
		// Too wide for DECIMAL: MySQL switches to DOUBLE.
		f, _, err := big.ParseFloat(s, 10, 64, big.ToNearestEven)
		if err != nil {
			return nil, qerr.New(qerr.InvalidArgument, "invalid number %s", s)
		}
		v, _ := f.Float64()
		return &Literal{Value: scalar.NewFloat64Scalar(v)}, nil
	}
	n, err := decimal128.FromString(s, int32(prec), int32(scale))
	if err != nil {
		return nil, qerr.New(qerr.InvalidArgument, "invalid decimal %s", s)
	}
	return &Literal{Value: scalar.NewDecimal128Scalar(n, &arrow.Decimal128Type{Precision: int32(prec), Scale: int32(scale)})}, nil
}

var dateLayouts = []string{"2006-01-02", "2006-1-2", "20060102"}
var tsLayouts = []string{"2006-01-02 15:04:05.999999", "2006-01-02T15:04:05.999999", "2006-1-2 15:4:5.999999", "2006-01-02 15:04", "2006-01-02"}

// typedLiteral builds DATE 'x' / TIMESTAMP 'x' / TIME 'x'.
func typedLiteral(kind string, args []ast.ExprNode) (Expr, error) {
	v, ok := args[0].(*test_driver.ValueExpr)
	if !ok || v.Kind() != test_driver.KindString {
		return nil, qerr.New(qerr.InvalidArgument, "Incorrect literal")
	}
	s := strings.TrimSpace(v.GetString())
	switch kind {
	case ast.DateLiteral:
		for _, l := range dateLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return &Literal{Value: scalar.NewDate32Scalar(arrow.Date32FromTime(t))}, nil
			}
		}
		return nil, qerr.New(qerr.InvalidArgument, "Incorrect DATE value: '%s'", s)
	case ast.TimestampLiteral:
		for _, l := range tsLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return &Literal{Value: scalar.NewTimestampScalar(arrow.Timestamp(t.UnixMicro()), &arrow.TimestampType{Unit: arrow.Microsecond})}, nil
			}
		}
		return nil, qerr.New(qerr.InvalidArgument, "Incorrect DATETIME value: '%s'", s)
	}
	for _, l := range []string{"15:04:05.999999", "15:04"} {
		if t, err := time.Parse(l, s); err == nil {
			us := int64(t.Hour()*3600+t.Minute()*60+t.Second())*1e6 + int64(t.Nanosecond()/1000)
			return &Literal{Value: scalar.NewTime64Scalar(arrow.Time64(us), arrow.FixedWidthTypes.Time64us)}, nil
		}
	}
	return nil, qerr.New(qerr.InvalidArgument, "Incorrect TIME value: '%s'", s)
}

// nowWithFsp is the statement time truncated to the fractional-second
// precision argument of NOW([fsp]) and its kin: whole seconds by default.
func nowWithFsp(now time.Time, name string, args []ast.ExprNode) (time.Time, error) {
	if len(args) > 1 {
		return now, errParamCount(name)
	}
	fsp := int64(0)
	if len(args) == 1 {
		v, ok := args[0].(*test_driver.ValueExpr)
		if !ok || (v.Kind() != test_driver.KindInt64 && v.Kind() != test_driver.KindUint64) {
			return now, qerr.New(qerr.InvalidArgument, "You have an error in your SQL syntax near '%s'", name)
		}
		if fsp = v.GetInt64(); v.Kind() == test_driver.KindUint64 || fsp > 6 {
			return now, qerr.New(qerr.InvalidArgument, "Too-big precision %d specified for '%s'. Maximum is 6.", v.GetUint64(), name)
		}
	}
	step := time.Second
	for ; fsp > 0; fsp-- {
		step /= 10
	}
	return now.Truncate(step), nil
}

func errParamCount(name string) error {
	return qerr.New(qerr.InvalidArgument, "Incorrect parameter count in the call to native function '%s'", name)
}
