package logical

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/quiverdb/quiver/qerr"
)

func memoryBuffer(b []byte) *memory.Buffer { return memory.NewBufferBytes(b) }

// Aggregate name aliases to canonical names.
var aggAlias = map[string]string{
	"std": "stddev_pop", "stddev": "stddev_pop", "variance": "var_pop",
}

// hasAggregate reports whether any of the nodes contains an aggregate call
// outside subqueries (window aggregates do not count).
func hasAggregate(nodes ...ast.Node) bool {
	v := &aggFinder{}
	for _, n := range nodes {
		if n == nil || isNilNode(n) {
			continue
		}
		n.Accept(v)
	}
	return v.found
}

func isNilNode(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.FieldList:
		return x == nil
	case *ast.HavingClause:
		return x == nil
	case *ast.OrderByClause:
		return x == nil
	}
	return false
}

type aggFinder struct{ found bool }

func (v *aggFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.AggregateFuncExpr:
		v.found = true
		return n, true
	case *ast.FuncCallExpr:
		if x.FnName.L == "any_value" {
			v.found = true
			return n, true
		}
	case *ast.SubqueryExpr, *ast.WindowFuncExpr:
		return n, true
	}
	return n, false
}

func (v *aggFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// hasWindow reports whether n contains a window function outside subqueries.
func hasWindow(n ast.Node) bool {
	v := &winFinder{}
	n.Accept(v)
	return v.found
}

type winFinder struct{ found bool }

func (v *winFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.WindowFuncExpr:
		v.found = true
		return n, true
	case *ast.SubqueryExpr:
		return n, true
	}
	return n, false
}

func (v *winFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// bindAggregate registers an aggregate call and returns a reference to its
// output column.
func (b *Binder) bindAggregate(name string, as []ast.ExprNode, distinct bool, order *ast.OrderByClause, ctx *exprCtx) (Expr, error) {
	if ctx.agg == nil {
		return nil, qerr.New(qerr.InvalidArgument, "Invalid use of group function")
	}
	if a, ok := aggAlias[name]; ok {
		name = a
	}
	call, err := b.aggregateCall(name, as, distinct, order, &exprCtx{scope: ctx.scope, clause: ctx.clause})
	if err != nil {
		return nil, err
	}
	key := call.String() + "|" + call.Separator
	for _, o := range call.OrderBy {
		key += "|" + o.String()
	}
	i, ok := ctx.agg.byKey[key]
	if !ok || containsSubquery(call.Args) {
		// Subqueries print alike whatever their body: never shared.
		i = len(ctx.agg.calls)
		ctx.agg.byKey[key] = i
		ctx.agg.calls = append(ctx.agg.calls, call)
		null := !(name == "count" || name == "count_star")
		ctx.agg.fields = append(ctx.agg.fields, Field{ID: b.NewID(), Name: call.String(), Type: call.Type, Nullable: null})
	}
	f := ctx.agg.fields[i]
	return &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable}, nil
}

// aggregateCall binds an aggregate's arguments (in argCtx: no nested
// aggregates) and types it.
func (b *Binder) aggregateCall(name string, as []ast.ExprNode, distinct bool, order *ast.OrderByClause, argCtx *exprCtx) (*AggregateCall, error) {
	call := &AggregateCall{Func: name, Distinct: distinct}
	if name == "group_concat" {
		call.Separator = ","
		if n := len(as); n > 1 {
			if v, ok := as[n-1].(*test_driver.ValueExpr); ok && v.Kind() == test_driver.KindString {
				call.Separator = v.GetString()
				as = as[:n-1]
			}
		}
		if order != nil {
			for _, by := range order.Items {
				e, err := b.bindExpr(by.Expr, argCtx)
				if err != nil {
					return nil, err
				}
				call.OrderBy = append(call.OrderBy, SortExpr{Expr: e, Desc: by.Desc, NullsFirst: !by.Desc})
			}
		}
	}
	for _, a := range as {
		if hasAggregate(a) {
			return nil, qerr.New(qerr.InvalidArgument, "Invalid use of group function")
		}
		e, err := b.bindExpr(a, argCtx)
		if err != nil {
			return nil, err
		}
		call.Args = append(call.Args, e)
	}
	// COUNT(*) and COUNT(<non-null constant>) count rows.
	if name == "count" && !distinct && len(call.Args) == 1 {
		if l, ok := call.Args[0].(*Literal); ok && l.Value.IsValid() {
			call.Func, call.Args = "count_star", nil
		}
	}
	ts := make([]arrow.DataType, len(call.Args))
	for i, a := range call.Args {
		ts[i] = Type(a)
	}
	sig, err := b.funcs().ResolveAggregate(call.Func, ts, distinct)
	if err != nil {
		if qerr.KindOf(err) == qerr.NotFound {
			return nil, qerr.New(qerr.NotFound, "FUNCTION %s.%s does not exist", b.env.CurrentSchema, name)
		}
		return nil, err
	}
	call.Args = castArgs(call.Args, sig.Args)
	call.Type = sig.Return
	return call, nil
}

// bindWindow registers a window function and returns a reference to its
// output column.
func (b *Binder) bindWindow(x *ast.WindowFuncExpr, ctx *exprCtx) (Expr, error) {
	if ctx.win == nil {
		return nil, qerr.New(qerr.InvalidArgument, "You cannot use the window function '%s' in this context.'", x.Name)
	}
	spec := &x.Spec
	// Resolve named windows (WINDOW w AS (...), OVER w, OVER (w ORDER BY ..)).
	name := spec.Name.L
	if spec.Ref.L != "" {
		name = spec.Ref.L
	}
	var base *ast.WindowSpec
	if name != "" {
		base = ctx.win.named[name]
		if base == nil {
			return nil, qerr.New(qerr.NotFound, "Window name '%s' is not defined.", name)
		}
	}
	pick := func(get func(*ast.WindowSpec) bool) *ast.WindowSpec {
		if get(spec) || base == nil {
			return spec
		}
		return base
	}
	partSpec := pick(func(s *ast.WindowSpec) bool { return s.PartitionBy != nil })
	orderSpec := pick(func(s *ast.WindowSpec) bool { return s.OrderBy != nil })
	frameSpec := pick(func(s *ast.WindowSpec) bool { return s.Frame != nil })

	// Arguments and keys are evaluated on the aggregated rows (aggregates
	// allowed), but window functions do not nest.
	inner := &exprCtx{scope: ctx.scope, clause: ctx.clause, agg: ctx.agg}
	fn := strings.ToLower(x.Name)
	if a, ok := aggAlias[fn]; ok {
		fn = a
	}
	if fn == "group_concat" {
		// MySQL's grammar has no GROUP_CONCAT(...) OVER.
		return nil, qerr.New(qerr.Unimplemented, "This version of MySQL doesn't yet support 'GROUP_CONCAT as window function'")
	}
	w := &WindowCall{Func: fn, Distinct: x.Distinct}
	if partSpec.PartitionBy != nil {
		for _, it := range partSpec.PartitionBy.Items {
			e, err := b.bindExpr(it.Expr, inner)
			if err != nil {
				return nil, err
			}
			w.PartitionBy = append(w.PartitionBy, e)
		}
	}
	if orderSpec.OrderBy != nil {
		for _, it := range orderSpec.OrderBy.Items {
			e, err := b.bindExpr(it.Expr, inner)
			if err != nil {
				return nil, err
			}
			w.OrderBy = append(w.OrderBy, SortExpr{Expr: e, Desc: it.Desc, NullsFirst: !it.Desc})
		}
	}
	if f := frameSpec.Frame; f != nil {
		frame, err := b.bindFrame(f, inner)
		if err != nil {
			return nil, err
		}
		w.Frame = frame
	}
	for _, a := range x.Args {
		e, err := b.bindExpr(a, inner)
		if err != nil {
			return nil, err
		}
		w.Args = append(w.Args, e)
	}
	if fn == "count" && !x.Distinct && len(w.Args) == 1 {
		if l, ok := w.Args[0].(*Literal); ok && l.Value.IsValid() {
			w.Func, w.Args = "count_star", nil
		}
	}
	ts := make([]arrow.DataType, len(w.Args))
	for i, a := range w.Args {
		ts[i] = Type(a)
	}
	var sig Signature
	var err error
	if b.funcs().IsWindowFunction(w.Func) {
		sig, err = b.funcs().ResolveWindow(w.Func, ts)
	} else {
		sig, err = b.funcs().ResolveAggregate(w.Func, ts, w.Distinct)
	}
	if err != nil {
		if qerr.KindOf(err) == qerr.NotFound {
			return nil, qerr.New(qerr.NotFound, "FUNCTION %s.%s does not exist", b.env.CurrentSchema, fn)
		}
		return nil, err
	}
	w.Args = castArgs(w.Args, sig.Args)
	w.Type = sig.Return
	f := Field{ID: b.NewID(), Name: fn, Type: sig.Return, Nullable: true}
	ctx.win.calls = append(ctx.win.calls, w)
	ctx.win.fields = append(ctx.win.fields, f)
	return &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: true}, nil
}

func (b *Binder) bindFrame(f *ast.FrameClause, ctx *exprCtx) (*WindowFrame, error) {
	fr := &WindowFrame{Unit: FrameRows}
	if f.Type == ast.Ranges {
		fr.Unit = FrameRange
	} else if f.Type != ast.Rows {
		return nil, qerr.New(qerr.Unimplemented, "GROUPS frames are not supported")
	}
	bound := func(fb ast.FrameBound) (FrameBound, error) {
		switch {
		case fb.Type == ast.CurrentRow:
			return FrameBound{Kind: CurrentRow}, nil
		case fb.UnBounded && fb.Type == ast.Preceding:
			return FrameBound{Kind: UnboundedPreceding}, nil
		case fb.UnBounded:
			return FrameBound{Kind: UnboundedFollowing}, nil
		}
		if _, ok := fb.Expr.(*ast.TimeUnitExpr); ok || fb.Unit != ast.TimeUnitInvalid {
			return FrameBound{}, qerr.New(qerr.Unimplemented, "INTERVAL frame bounds are not supported")
		}
		e, err := b.bindExpr(fb.Expr, ctx)
		if err != nil {
			return FrameBound{}, err
		}
		if _, ok := e.(*Literal); !ok {
			return FrameBound{}, qerr.New(qerr.InvalidArgument, "Window frame bound must be a constant")
		}
		k := Preceding
		if fb.Type == ast.Following {
			k = Following
		}
		return FrameBound{Kind: k, Offset: e}, nil
	}
	var err error
	if fr.Start, err = bound(f.Extent.Start); err != nil {
		return nil, err
	}
	if fr.End, err = bound(f.Extent.End); err != nil {
		return nil, err
	}
	return fr, nil
}

// bindSubquery binds a subquery expression; its plan sees the current scope
// (correlation) and records the outer columns it uses.
func (b *Binder) bindSubquery(sq *ast.SubqueryExpr, kind SubqueryKind, needle ast.ExprNode, ctx *exprCtx) (Expr, error) {
	var refs []*ColumnRef
	plan, err := b.bindQuery(sq.Query, ctx.scope, &refs)
	if err != nil {
		return nil, err
	}
	s := &Subquery{Kind: kind, Plan: plan, OuterRefs: refs, Type: arrow.FixedWidthTypes.Boolean, Text: subqueryText(sq.Query)}
	fs := plan.Schema().Fields
	switch kind {
	case ScalarSubquery:
		if len(fs) != 1 {
			return nil, qerr.New(qerr.InvalidArgument, "Operand should contain 1 column(s)")
		}
		s.Type = fs[0].Type
	case InSubquery:
		// (a, b) IN (SELECT x, y ...) compares column by column.
		needles := []ast.ExprNode{needle}
		if r, ok := needle.(*ast.RowExpr); ok {
			needles = r.Values
		}
		if len(fs) != len(needles) {
			return nil, qerr.New(qerr.InvalidArgument, "Operand should contain %d column(s)", len(needles))
		}
		types := make([]arrow.DataType, len(fs))
		for i, f := range fs {
			n, err := b.bindExpr(needles[i], ctx)
			if err != nil {
				return nil, err
			}
			// Both sides meet as in `=`.
			eq, err := b.call("=", []Expr{n, &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable}})
			if err != nil {
				return nil, err
			}
			args := eq.(*Call).Args
			s.Needles = append(s.Needles, args[0])
			types[i] = Type(args[1])
		}
		s.Plan = castColumns(plan, types, b)
	}
	return s, nil
}

func containsSubquery(es []Expr) bool {
	for _, e := range es {
		if _, ok := e.(*Subquery); ok || containsSubquery(e.Children()) {
			return true
		}
	}
	return false
}
