package logical

import (
	"fmt"
	"math"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/quiverdb/quiver/qerr"
)

// selectItem is one output column of a SELECT before projection.
type selectItem struct {
	expr  Expr
	name  string
	alias bool         // name is an explicit alias
	ast   ast.ExprNode // nil for `*` expansions
}

func (b *Binder) bindSelect(sel *ast.SelectStmt, parent *scope, outer *[]*ColumnRef) (Node, error) {
	return b.withCTEs(sel.With, func() (Node, error) { return b.bindSelectBody(sel, parent, outer) })
}

func (b *Binder) bindSelectBody(sel *ast.SelectStmt, parent *scope, outer *[]*ColumnRef) (Node, error) {
	if sel.Kind == ast.SelectStmtKindValues || sel.Kind == ast.SelectStmtKindTable {
		return nil, qerr.New(qerr.Unimplemented, "VALUES/TABLE statements are not supported")
	}
	// FROM
	var node Node
	sc := &scope{parent: parent, outer: outer}
	if sel.From == nil || sel.From.TableRefs == nil {
		node = &Values{Rows: [][]Expr{{}}}
	} else {
		n, cols, err := b.bindFrom(sel.From.TableRefs, parent, outer)
		if err != nil {
			return nil, err
		}
		node, sc.cols = n, cols
	}
	// WHERE
	if sel.Where != nil {
		pred, err := b.bindPredicate(sel.Where, &exprCtx{scope: sc, clause: "where clause"})
		if err != nil {
			return nil, err
		}
		node = &Filter{Input: node, Predicate: pred}
	}

	win := &winState{named: map[string]*ast.WindowSpec{}}
	for i := range sel.WindowSpecs {
		win.named[sel.WindowSpecs[i].Name.L] = &sel.WindowSpecs[i]
	}
	grouping := sel.GroupBy != nil || hasAggregate(sel.Fields, sel.Having, sel.OrderBy)
	var ag *aggState
	if grouping {
		ag = &aggState{byKey: map[string]int{}}
	}

	// GROUP BY (FROM columns first, then select aliases, then ordinals)
	if sel.GroupBy != nil {
		for _, it := range sel.GroupBy.Items {
			e, err := b.bindGroupItem(it.Expr, sel.Fields.Fields, sc)
			if err != nil {
				return nil, err
			}
			if _, dup := ag.groupIdx(e); !dup {
				ag.groups = append(ag.groups, e)
			}
		}
		if sel.GroupBy.Rollup {
			ag.rollup = b.rollupLevel()
		}
	}

	// SELECT list
	ctx := &exprCtx{scope: sc, clause: "field list", agg: ag, win: win}
	var items []selectItem
	for _, f := range sel.Fields.Fields {
		if f.WildCard != nil {
			exp, err := expandStar(sc, f.WildCard)
			if err != nil {
				return nil, err
			}
			items = append(items, exp...)
			continue
		}
		e, err := b.bindExpr(f.Expr, ctx)
		if err != nil {
			return nil, err
		}
		it := selectItem{expr: e, ast: f.Expr, name: f.AsName.O, alias: f.AsName.O != ""}
		if !it.alias {
			it.name = fieldName(f)
		}
		items = append(items, it)
	}
	aliasOf := func(name string) (Expr, bool, error) {
		for _, it := range items {
			if strings.EqualFold(it.name, name) && it.ast != nil {
				// HAVING runs before window functions are computed.
				if hasWindow(it.ast) {
					return nil, false, qerr.New(qerr.InvalidArgument, "You cannot use the alias '%s' of an expression containing a window function in this context.'", it.name)
				}
				return it.expr, true, nil
			}
		}
		return nil, false, nil
	}

	// HAVING
	var having Expr
	if sel.Having != nil {
		// Without GROUP BY or aggregates MySQL applies HAVING to each row.
		hctx := &exprCtx{scope: sc, clause: "having clause", agg: ag, win: nil, alias: aliasOf}
		h, err := b.bindPredicate(sel.Having.Expr, hctx)
		if err != nil {
			return nil, err
		}
		having = h
	}

	// ORDER BY: keys are select outputs (by index) or hidden expressions.
	visible := len(items)
	var keys []orderKey
	if sel.OrderBy != nil {
		octx := &exprCtx{scope: sc, clause: "order clause", agg: ag, win: win}
		for _, by := range sel.OrderBy.Items {
			idx, err := b.resolveOrderItem(by.Expr, items, octx)
			if err != nil {
				return nil, err
			}
			if idx < 0 {
				e, err := b.bindExpr(by.Expr, octx)
				if err != nil {
					return nil, err
				}
				idx = len(items)
				items = append(items, selectItem{expr: e, name: exprName(by.Expr), ast: by.Expr})
			}
			keys = append(keys, orderKey{item: idx, desc: by.Desc})
		}
	}

	// Aggregation: substitute group keys and check ONLY_FULL_GROUP_BY.
	if grouping {
		agg := &Aggregate{Input: node, GroupBy: ag.groups, Aggs: ag.calls, AggFields: ag.fields}
		subst := map[string]*ColumnRef{}
		groupIDs := map[ColumnID]bool{}
		for _, g := range ag.groups {
			f := Field{Type: Type(g), Nullable: nullable(g) || ag.rollup != nil, Name: g.String()}
			if r, ok := g.(*ColumnRef); ok {
				f.Name = r.Name
			}
			if r, ok := g.(*ColumnRef); ok && ag.rollup == nil {
				f.ID = r.ID
			} else {
				f.ID = b.NewID()
			}
			agg.GroupFields = append(agg.GroupFields, f)
			groupIDs[f.ID] = true
			subst[g.String()] = &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable}
		}
		if ag.rollup != nil {
			groupIDs[ag.rollup.ID] = true
		}
		fix := func(e Expr, what string, n int) (Expr, error) {
			e = substitute(e, subst)
			if bad := b.ungrouped(e, sc, groupIDs); bad != "" {
				if what == "having clause" {
					// MySQL names the column as written, without db.table.
					return nil, qerr.New(qerr.NotFound, "Unknown column '%s' in 'having clause'", bad[strings.LastIndex(bad, ".")+1:])
				}
				return nil, qerr.New(qerr.InvalidArgument, "Expression #%d of %s is not in GROUP BY clause and contains nonaggregated column '%s' which is not functionally dependent on columns in GROUP BY clause; this is incompatible with sql_mode=only_full_group_by", n, what, bad)
			}
			return e, nil
		}
		var err error
		for i := range items {
			what, n := "SELECT list", i+1
			if i >= visible {
				what, n = "ORDER BY clause", orderPos(keys, i)
			}
			if items[i].expr, err = fix(items[i].expr, what, n); err != nil {
				return nil, err
			}
		}
		if having != nil {
			if having, err = fix(having, "having clause", 0); err != nil {
				return nil, err
			}
		}
		for _, w := range win.calls {
			for i := range w.Args {
				if w.Args[i], err = fix(w.Args[i], "SELECT list", 1); err != nil {
					return nil, err
				}
			}
			for i := range w.PartitionBy {
				if w.PartitionBy[i], err = fix(w.PartitionBy[i], "SELECT list", 1); err != nil {
					return nil, err
				}
			}
			for i := range w.OrderBy {
				if w.OrderBy[i].Expr, err = fix(w.OrderBy[i].Expr, "SELECT list", 1); err != nil {
					return nil, err
				}
			}
		}
		node = agg
		if ag.rollup != nil {
			order, err := b.rollup(agg, ag.rollup)
			if err != nil {
				return nil, err
			}
			if sel.OrderBy == nil {
				// MySQL returns each super-aggregate row after its groups.
				node = &Sort{Input: agg, Keys: order}
			}
		}
	}
	if having != nil {
		node = &Filter{Input: node, Predicate: having}
	}
	if len(win.calls) > 0 {
		node = &Window{Input: node, Funcs: win.calls, Fields: win.fields}
	}

	// Projection of the select list plus hidden ORDER BY columns.
	proj := &Project{Input: node}
	used := map[ColumnID]bool{}
	for i, it := range items {
		f := Field{Name: it.name, Type: Type(it.expr), Nullable: nullable(it.expr)}
		if r, ok := it.expr.(*ColumnRef); ok && !used[r.ID] {
			f.ID = r.ID
		} else {
			f.ID = b.NewID()
		}
		if i >= visible {
			f.Name = "__order" + fmt.Sprint(i-visible)
		}
		used[f.ID] = true
		proj.Exprs = append(proj.Exprs, it.expr)
		proj.Fields = append(proj.Fields, f)
	}
	node = proj
	if sel.Distinct {
		if visible < len(items) {
			k := keys[0]
			for _, kk := range keys {
				if kk.item >= visible {
					k = kk
					break
				}
			}
			return nil, qerr.New(qerr.InvalidArgument, "Expression #%d of ORDER BY clause is not in SELECT list, references column '%s' which is not in SELECT list; this is incompatible with DISTINCT", orderPos(keys, k.item), items[k.item].name)
		}
		d := &Aggregate{Input: node}
		for _, f := range proj.Fields {
			d.GroupBy = append(d.GroupBy, &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable})
			d.GroupFields = append(d.GroupFields, f)
		}
		node = d
	}
	if len(keys) > 0 {
		s := &Sort{Input: node}
		for _, k := range keys {
			f := proj.Fields[k.item]
			s.Keys = append(s.Keys, SortExpr{Expr: &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable}, Desc: k.desc, NullsFirst: !k.desc})
		}
		node = s
	}
	var err error
	if node, err = b.bindLimit(node, sel.Limit); err != nil {
		return nil, err
	}
	if visible < len(items) {
		node = projectFields(node, proj.Fields[:visible])
	}
	return node, nil
}

// orderKey is one ORDER BY key: an index into the select items.
type orderKey struct {
	item int
	desc bool
}

// orderPos is the 1-based ORDER BY position of a select item (for messages).
func orderPos(keys []orderKey, item int) int {
	for i, k := range keys {
		if k.item == item {
			return i + 1
		}
	}
	return 1
}

// fieldName is the user-visible name of an unaliased select field: a bare
// column keeps its name, anything else the expression text as written.
func fieldName(f *ast.SelectField) string {
	if v, ok := f.Expr.(ast.ValueExpr); ok {
		if s, ok := v.GetValue().(string); ok {
			return s
		}
	}
	if _, ok := f.Expr.(*ast.ColumnNameExpr); !ok && f.AsName.L == "" {
		if t := strings.TrimSpace(f.Text()); t != "" {
			return t
		}
	}
	return exprName(f.Expr)
}

func exprName(e ast.ExprNode) string {
	if c, ok := e.(*ast.ColumnNameExpr); ok {
		return c.Name.Name.O
	}
	// MySQL names a string literal column by its value.
	if v, ok := e.(ast.ValueExpr); ok {
		if s, ok := v.GetValue().(string); ok {
			return s
		}
	}
	if t := strings.TrimSpace(e.Text()); t != "" {
		return t
	}
	if t := restoreSQL(e); t != "" {
		return t
	}
	return "?column?"
}

// restoreSQL prints n in the parser's canonical form ("" if it cannot).
func restoreSQL(n ast.Node) string {
	var sb strings.Builder
	if err := n.Restore(format.NewRestoreCtx(format.DefaultRestoreFlags, &sb)); err != nil {
		return ""
	}
	return sb.String()
}

// expandStar expands `*` or `t.*`.
func expandStar(sc *scope, w *ast.WildCardField) ([]selectItem, error) {
	var out []selectItem
	for _, c := range sc.cols {
		if c.usingDup && w.Table.L == "" {
			continue
		}
		if w.Table.L != "" && !strings.EqualFold(c.Qualifier, w.Table.O) {
			continue
		}
		if w.Schema.L != "" && !strings.EqualFold(c.db, w.Schema.O) {
			continue
		}
		out = append(out, selectItem{expr: c.ref(), name: c.Name})
	}
	if len(out) == 0 {
		if w.Table.L != "" {
			return nil, qerr.New(qerr.NotFound, "Unknown table '%s'", w.Table.O)
		}
		return nil, qerr.New(qerr.InvalidArgument, "No tables used")
	}
	return out, nil
}

// bindGroupItem binds one GROUP BY item: an ordinal, a FROM column, a select
// alias, or an expression over FROM columns.
func (b *Binder) bindGroupItem(e ast.ExprNode, fields []*ast.SelectField, sc *scope) (Expr, error) {
	ctx := &exprCtx{scope: sc, clause: "group statement"}
	if n, ok := ordinal(e); ok {
		if n < 1 || n > len(fields) || fields[n-1].WildCard != nil {
			return nil, qerr.New(qerr.NotFound, "Unknown column '%d' in 'group statement'", n)
		}
		e = fields[n-1].Expr
		if hasAggregate(e) {
			return nil, qerr.New(qerr.InvalidArgument, "Can't group on '%s'", fieldName(fields[n-1]))
		}
		return b.bindExpr(e, ctx)
	}
	if cn, ok := e.(*ast.ColumnNameExpr); ok && cn.Name.Table.L == "" {
		if _, found, err := sc.resolve(cn.Name, ctx.clause); err != nil || found {
			if err != nil {
				return nil, err
			}
			return b.bindExpr(e, ctx)
		}
		for _, f := range fields {
			if f.AsName.L == cn.Name.Name.L && f.Expr != nil {
				if hasAggregate(f.Expr) {
					return nil, qerr.New(qerr.InvalidArgument, "Can't group on '%s'", f.AsName.O)
				}
				return b.bindExpr(f.Expr, ctx)
			}
		}
	}
	return b.bindExpr(e, ctx)
}

// ordinal recognizes an integer literal position (GROUP BY 1 / ORDER BY 1).
func ordinal(e ast.ExprNode) (int, bool) {
	if p, ok := e.(*ast.PositionExpr); ok && p.P == nil {
		return p.N, true
	}
	if v, ok := e.(ast.ValueExpr); ok {
		switch x := v.GetValue().(type) {
		case int64:
			return int(x), true
		case uint64:
			return int(x), true
		}
	}
	return 0, false
}

// resolveOrderItem returns the select item an ORDER BY key names (ordinal,
// alias, or an expression equal to a select expression), or -1.
func (b *Binder) resolveOrderItem(e ast.ExprNode, items []selectItem, ctx *exprCtx) (int, error) {
	if n, ok := ordinal(e); ok {
		if n < 1 || n > len(items) {
			return 0, qerr.New(qerr.NotFound, "Unknown column '%d' in 'order clause'", n)
		}
		return n - 1, nil
	}
	if cn, ok := e.(*ast.ColumnNameExpr); ok && cn.Name.Table.L == "" {
		for i, it := range items {
			if it.alias && strings.EqualFold(it.name, cn.Name.Name.O) {
				return i, nil
			}
		}
	}
	bound, err := b.bindExpr(e, ctx)
	if err != nil {
		return 0, err
	}
	for i, it := range items {
		if it.expr.String() == bound.String() {
			return i, nil
		}
	}
	return -1, nil
}

// substitute replaces subexpressions equal to a GROUP BY key by a reference
// to the key's output column.
func substitute(e Expr, keys map[string]*ColumnRef) Expr {
	if len(keys) == 0 {
		return e
	}
	if r, ok := keys[e.String()]; ok {
		return r
	}
	ch := e.Children()
	if len(ch) == 0 {
		return e
	}
	nch := make([]Expr, len(ch))
	for i, c := range ch {
		nch[i] = substitute(c, keys)
	}
	n, err := e.WithChildren(nch...)
	if err != nil {
		return e
	}
	return n
}

// ungrouped returns the name of a column of sc (the FROM scope) still
// referenced by e after group-key substitution, or "".
func (b *Binder) ungrouped(e Expr, sc *scope, grouped map[ColumnID]bool) string {
	bad := ""
	walkExpr(e, func(x Expr) {
		if r, ok := x.(*ColumnRef); ok && bad == "" && sc.has(r.ID) && !grouped[r.ID] {
			bad = b.origin[r.ID]
			if bad == "" {
				bad = r.Name
			}
		}
	})
	return bad
}

// walkExpr visits e and its children (not the plans of subqueries).
func walkExpr(e Expr, f func(Expr)) {
	f(e)
	for _, c := range e.Children() {
		walkExpr(c, f)
	}
}

// nullable is a conservative nullability of a bound expression.
func nullable(e Expr) bool {
	switch x := e.(type) {
	case *ColumnRef:
		return x.Nullable
	case *Literal:
		return !x.Value.IsValid()
	case *Cast:
		return nullable(x.Expr) || !sameTypeFamily(Type(x.Expr), x.Type)
	case *Call:
		switch x.Func {
		case "is_null", "is_not_null", "is_true", "is_not_true", "is_false", "is_not_false", "<=>":
			return false
		case "/", "div", "%", "nullif":
			return true
		}
		for _, a := range x.Args {
			if nullable(a) {
				return true
			}
		}
		return false
	}
	return true
}

func sameTypeFamily(a, b arrow.DataType) bool {
	num := func(t arrow.DataType) bool {
		return arrow.IsInteger(t.ID()) || arrow.IsFloating(t.ID()) || arrow.IsDecimal(t.ID())
	}
	return arrow.TypeEqual(a, b) || num(a) && num(b)
}

func (b *Binder) bindLimit(node Node, l *ast.Limit) (Node, error) {
	if l == nil {
		return node, nil
	}
	lim := &Limit{Input: node, Count: -1}
	val := func(e ast.ExprNode) (int64, error) {
		if v, ok := e.(ast.ValueExpr); ok {
			if u, ok := v.GetValue().(uint64); ok && u > math.MaxInt64 {
				// LIMIT 18446744073709551615 is MySQL's "all rows"; no
				// result has more than MaxInt64.
				return math.MaxInt64, nil
			}
		}
		if n, ok := ordinal(e); ok && n >= 0 {
			return int64(n), nil
		}
		return 0, qerr.New(qerr.InvalidArgument, "Incorrect arguments to LIMIT")
	}
	var err error
	if l.Count != nil {
		if lim.Count, err = val(l.Count); err != nil {
			return nil, err
		}
	}
	if l.Offset != nil {
		if lim.Offset, err = val(l.Offset); err != nil {
			return nil, err
		}
	}
	return lim, nil
}

// projectFields keeps only the given columns of node (by ID).
func projectFields(node Node, fields []Field) Node {
	p := &Project{Input: node, Fields: append([]Field{}, fields...)}
	for _, f := range fields {
		p.Exprs = append(p.Exprs, &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable})
	}
	return p
}

// ---- set operations ----

func (b *Binder) bindSetOpr(s *ast.SetOprStmt, parent *scope, outer *[]*ColumnRef) (Node, error) {
	return b.withCTEs(s.With, func() (Node, error) {
		return b.bindSetOprList(s.SelectList, s.OrderBy, s.Limit, parent, outer)
	})
}

func (b *Binder) bindSetOprList(l *ast.SetOprSelectList, orderBy *ast.OrderByClause, limit *ast.Limit, parent *scope, outer *[]*ColumnRef) (Node, error) {
	return b.withCTEs(l.With, func() (Node, error) {
		// INTERSECT binds tighter than UNION and EXCEPT: runs of INTERSECT
		// fold into one term first, then the terms fold left to right.
		type setOpr struct {
			kind SetOpKind
			all  bool
		}
		var terms []Node
		var oprs []setOpr
		for i, sel := range l.Selects {
			var n Node
			var op *ast.SetOprType
			var err error
			switch x := sel.(type) {
			case *ast.SelectStmt:
				op = x.AfterSetOperator
				n, err = b.bindSelect(x, parent, outer)
			case *ast.SetOprSelectList:
				op = x.AfterSetOperator
				n, err = b.bindSetOprList(x, x.OrderBy, x.Limit, parent, outer)
			default:
				err = qerr.New(qerr.Unimplemented, "unsupported set operand %T", sel)
			}
			if err != nil {
				return nil, err
			}
			if i == 0 {
				terms = append(terms, n)
				continue
			}
			kind, all := Union, false
			if op != nil {
				switch *op {
				case ast.UnionAll:
					all = true
				case ast.Except:
					kind = Except
				case ast.ExceptAll:
					kind, all = Except, true
				case ast.Intersect:
					kind = Intersect
				case ast.IntersectAll:
					kind, all = Intersect, true
				}
			}
			if kind != Intersect {
				terms = append(terms, n)
				oprs = append(oprs, setOpr{kind, all})
				continue
			}
			if terms[len(terms)-1], err = b.setOp(kind, all, terms[len(terms)-1], n); err != nil {
				return nil, err
			}
		}
		acc := terms[0]
		for i, o := range oprs {
			var err error
			if acc, err = b.setOp(o.kind, o.all, acc, terms[i+1]); err != nil {
				return nil, err
			}
		}
		if l.OrderBy != nil && orderBy == nil {
			orderBy, limit = l.OrderBy, l.Limit
		}
		return b.orderLimitOver(acc, orderBy, limit, parent)
	})
}

func (b *Binder) setOp(kind SetOpKind, all bool, left, right Node) (Node, error) {
	var inputs []Node
	if prev, ok := left.(*SetOp); ok && kind == Union && prev.Kind == Union && prev.All == all {
		inputs = append(inputs, prev.Inputs...)
	} else {
		inputs = append(inputs, left)
	}
	inputs = append(inputs, right)
	n := inputs[0].Schema().Len()
	for _, in := range inputs[1:] {
		if in.Schema().Len() != n {
			return nil, qerr.New(qerr.InvalidArgument, "The used SELECT statements have a different number of columns")
		}
	}
	out := &SetOp{Kind: kind, All: all}
	types := make([]arrow.DataType, n)
	for c := 0; c < n; c++ {
		ts := make([]arrow.DataType, len(inputs))
		null := false
		for i, in := range inputs {
			ts[i] = in.Schema().Fields[c].Type
			null = null || in.Schema().Fields[c].Nullable
		}
		t, err := b.funcs().CommonType(ts...)
		if err != nil {
			return nil, err
		}
		types[c] = t
		f0 := inputs[0].Schema().Fields[c]
		out.Fields = append(out.Fields, Field{ID: b.NewID(), Name: f0.Name, Type: t, Nullable: null})
	}
	for i, in := range inputs {
		out.Inputs = append(out.Inputs, castColumns(in, types, b))
		_ = i
	}
	return out, nil
}

// castColumns projects node's columns to the given types where they differ.
func castColumns(node Node, types []arrow.DataType, b *Binder) Node {
	fs := node.Schema().Fields
	need := false
	for i, f := range fs {
		need = need || !arrow.TypeEqual(f.Type, types[i])
	}
	if !need {
		return node
	}
	p := &Project{Input: node}
	for i, f := range fs {
		var e Expr = &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable}
		nf := f
		if !arrow.TypeEqual(f.Type, types[i]) {
			e = &Cast{Expr: e, Type: types[i]}
			nf.ID, nf.Type = b.NewID(), types[i]
		}
		p.Exprs = append(p.Exprs, e)
		p.Fields = append(p.Fields, nf)
	}
	return p
}

// orderLimitOver applies ORDER BY/LIMIT to a set operation's result, whose
// columns are referenced by name or position.
func (b *Binder) orderLimitOver(node Node, orderBy *ast.OrderByClause, limit *ast.Limit, parent *scope) (Node, error) {
	if orderBy != nil {
		sc := &scope{parent: parent}
		for _, f := range node.Schema().Fields {
			sc.cols = append(sc.cols, scopeCol{Field: f})
		}
		ctx := &exprCtx{scope: sc, clause: "order clause"}
		s := &Sort{Input: node}
		var extra []Expr
		for _, by := range orderBy.Items {
			var e Expr
			if n, ok := ordinal(by.Expr); ok {
				if n < 1 || n > len(sc.cols) {
					return nil, qerr.New(qerr.NotFound, "Unknown column '%d' in 'order clause'", n)
				}
				e = sc.cols[n-1].ref()
			} else {
				var err error
				if e, err = b.bindExpr(by.Expr, ctx); err != nil {
					return nil, err
				}
			}
			if _, ok := e.(*ColumnRef); !ok {
				extra = append(extra, e)
			}
			s.Keys = append(s.Keys, SortExpr{Expr: e, Desc: by.Desc, NullsFirst: !by.Desc})
		}
		if len(extra) > 0 {
			// Computed keys: project them, sort, project them away.
			fields := node.Schema().Fields
			p := projectFields(node, fields).(*Project)
			for i, k := range s.Keys {
				if _, ok := k.Expr.(*ColumnRef); ok {
					continue
				}
				f := Field{ID: b.NewID(), Name: fmt.Sprintf("__order%d", i), Type: Type(k.Expr), Nullable: true}
				p.Exprs = append(p.Exprs, k.Expr)
				p.Fields = append(p.Fields, f)
				s.Keys[i].Expr = &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: true}
			}
			s.Input = p
			lim, err := b.bindLimit(s, limit)
			if err != nil {
				return nil, err
			}
			return projectFields(lim, fields), nil
		}
		node = s
	}
	return b.bindLimit(node, limit)
}

// nullLiteral is a typed NULL.
func nullLiteral(t arrow.DataType) *Literal {
	return &Literal{Value: scalar.MakeNullScalar(t)}
}
