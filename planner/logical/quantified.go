package logical

import (
	"fmt"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	"github.com/quiverdb/quiver/qerr"
)

// bindQuantified binds `x op ANY|ALL (subquery)` for op in <, <=, >, >= as a
// scalar subquery over one aggregate of the subquery's column s:
//
//	ANY: CASE WHEN COUNT(*) = 0 THEN FALSE WHEN x op ext(s) THEN TRUE
//	          WHEN x IS NULL OR COUNT(s) < COUNT(*) THEN NULL ELSE FALSE END
//	ALL: CASE WHEN COUNT(*) = 0 THEN TRUE WHEN NOT (x op ext(s)) THEN FALSE
//	          WHEN x IS NULL OR COUNT(s) < COUNT(*) THEN NULL ELSE TRUE END
//
// where ext is the extreme that decides the comparison (ANY >: MIN, ALL >:
// MAX, and the reverse for <), which gives MySQL's results on empty sets
// and NULLs on either side.
func (b *Binder) bindQuantified(sq *ast.SubqueryExpr, op string, all bool, needle ast.ExprNode, ctx *exprCtx) (Expr, error) {
	var outer []*ColumnRef
	plan, err := b.bindQuery(sq.Query, ctx.scope, &outer)
	if err != nil {
		return nil, err
	}
	fs := plan.Schema().Fields
	if len(fs) != 1 {
		return nil, qerr.New(qerr.InvalidArgument, "Operand should contain 1 column(s)")
	}
	x, err := b.bindExpr(needle, ctx)
	if err != nil {
		return nil, err
	}
	ext := "max"
	if (op == ">" || op == ">=") != all {
		ext = "min"
	}
	s := &ColumnRef{ID: fs[0].ID, Name: fs[0].Name, Type: fs[0].Type, Nullable: fs[0].Nullable}
	agg := &Aggregate{Input: plan}
	var cols []*ColumnRef
	for _, c := range []struct {
		name string
		args []Expr
	}{{ext, []Expr{s}}, {"count_star", nil}, {"count", []Expr{s}}} {
		ts := make([]arrow.DataType, len(c.args))
		for i, a := range c.args {
			ts[i] = Type(a)
		}
		sig, err := b.funcs().ResolveAggregate(c.name, ts, false)
		if err != nil {
			return nil, err
		}
		f := Field{ID: b.NewID(), Name: c.name, Type: sig.Return, Nullable: c.name == ext}
		agg.Aggs = append(agg.Aggs, &AggregateCall{Func: c.name, Args: castArgs(c.args, sig.Args), Type: sig.Return})
		agg.AggFields = append(agg.AggFields, f)
		cols = append(cols, &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable})
	}
	extreme, rows, nonNull := cols[0], cols[1], cols[2]
	calls := []struct {
		name string
		args []Expr
	}{
		{op, []Expr{x, extreme}},
		{"=", []Expr{rows, &Literal{Value: scalar.NewInt64Scalar(0)}}},
		{"is_null", []Expr{x}},
		{"<", []Expr{nonNull, rows}},
	}
	bound := make([]Expr, len(calls))
	for i, c := range calls {
		if bound[i], err = b.call(c.name, c.args); err != nil {
			return nil, err
		}
	}
	cmp, empty, unknown := bound[0], bound[1], bound[2]
	if unknown, err = b.call("or", []Expr{unknown, bound[3]}); err != nil {
		return nil, err
	}
	boolT := arrow.FixedWidthTypes.Boolean
	lit := func(v bool) Expr { return &Literal{Value: scalar.NewBooleanScalar(v)} }
	c := &Case{Whens: []Expr{empty, cmp, unknown}, Thens: []Expr{lit(false), lit(true), &Literal{Value: scalar.MakeNullScalar(boolT)}}, Else: lit(false), Type: boolT}
	if all {
		notCmp, err := b.call("not", []Expr{cmp})
		if err != nil {
			return nil, err
		}
		c.Whens[1] = notCmp
		c.Thens[0], c.Thens[1], c.Else = lit(true), lit(false), lit(true)
	}
	// x is evaluated inside the subquery: its columns are outer references.
	walkExpr(x, func(e Expr) {
		switch r := e.(type) {
		case *ColumnRef:
			outer = append(outer, r)
		case *Subquery:
			outer = append(outer, r.OuterRefs...)
		}
	})
	out := Field{ID: b.NewID(), Name: "quantified", Type: boolT, Nullable: true}
	proj := &Project{Input: agg, Exprs: []Expr{c}, Fields: []Field{out}}
	quant := "ANY"
	if all {
		quant = "ALL"
	}
	text := fmt.Sprintf("%s %s %s (%s)", x, op, quant, subqueryText(sq.Query))
	return &Subquery{Kind: ScalarSubquery, Plan: proj, OuterRefs: outer, Type: boolT, Text: text}, nil
}

// bindQuantifiedOp maps the operator: = ALL is <= ALL AND >= ALL, <> ANY is
// < ANY OR > ANY (same results on empty sets and NULLs).
func (b *Binder) bindQuantifiedOp(sq *ast.SubqueryExpr, op opcode.Op, all bool, needle ast.ExprNode, ctx *exprCtx) (Expr, error) {
	ops := map[opcode.Op]string{opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">="}
	if name, ok := ops[op]; ok {
		return b.bindQuantified(sq, name, all, needle, ctx)
	}
	var pair [2]string
	join := "and"
	switch {
	case op == opcode.EQ && all:
		pair = [2]string{"<=", ">="}
	case op == opcode.NE && !all:
		pair, join = [2]string{"<", ">"}, "or"
	default:
		return nil, qerr.New(qerr.Unimplemented, "comparison %s with ANY/ALL is not supported", op)
	}
	var args []Expr
	for _, o := range pair {
		e, err := b.bindQuantified(sq, o, all, needle, ctx)
		if err != nil {
			return nil, err
		}
		args = append(args, e)
	}
	return b.call(join, args)
}
