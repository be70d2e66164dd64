package optimizer

import (
	"context"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/qerr"
)

// decorrelate turns every Subquery expression into a join: EXISTS/IN
// conjuncts of a WHERE into semi joins (NOT: anti, NOT IN null-aware),
// EXISTS/IN elsewhere into mark joins read through the mark column, scalar
// subqueries into a left-single join (uncorrelated) or, when correlated
// through equalities below one aggregate, into a left join with the
// aggregate grouped by the correlation columns. Correlated predicates are
// pulled out of the subquery into the join condition.
type decorrelate struct{ ids *idGen }

func (*decorrelate) Name() string { return "decorrelate_subqueries" }

func (d *decorrelate) Apply(ctx context.Context, root logical.Node) (logical.Node, bool, error) {
	changed := false
	out, err := transformUp(root, func(n logical.Node) (logical.Node, error) {
		var nn logical.Node
		var err error
		switch x := n.(type) {
		case *logical.Filter:
			if !hasSubquery(x.Predicate) {
				return n, nil
			}
			nn, err = d.filter(x)
		case *logical.Project:
			found := false
			for _, e := range x.Exprs {
				found = found || hasSubquery(e)
			}
			if !found {
				return n, nil
			}
			nn, err = d.project(x)
		case *logical.Aggregate, *logical.Window, *logical.Sort:
			if !nodeHasSubquery(n) {
				return n, nil
			}
			nn, err = d.below(n)
		case *logical.Join:
			if !hasSubquery(x.Condition) {
				return n, nil
			}
			nn, err = d.join(x)
		default:
			found := false
			forEachExpr(n, func(e logical.Expr) { found = found || hasSubquery(e) })
			if found {
				return nil, qerr.New(qerr.Unimplemented, "subquery in this position is not supported")
			}
			return n, nil
		}
		changed = true
		return nn, err
	})
	if err != nil {
		return nil, false, err
	}
	return out, changed, nil
}

func (d *decorrelate) filter(f *logical.Filter) (logical.Node, error) {
	input := f.Input
	var keep []logical.Expr
	for _, c := range logical.SplitAnd(f.Predicate) {
		sq, neg := asSubqueryPred(c)
		if sq != nil && sq.Kind != logical.ScalarSubquery {
			typ := logical.SemiJoin
			if neg {
				typ = logical.AntiJoin
			}
			j, err := d.existsJoin(input, sq, typ, neg && sq.Kind == logical.InSubquery)
			if err != nil {
				return nil, err
			}
			input = j
			continue
		}
		in, e, err := d.replace(input, c)
		if err != nil {
			return nil, err
		}
		input = in
		keep = append(keep, e)
	}
	var out logical.Node = input
	if len(keep) > 0 {
		out = &logical.Filter{Input: input, Predicate: andOf(keep)}
	}
	return restoreSchema(out, f.Input.Schema()), nil
}

func (d *decorrelate) project(p *logical.Project) (logical.Node, error) {
	input := p.Input
	exprs := make([]logical.Expr, len(p.Exprs))
	for i, e := range p.Exprs {
		in, x, err := d.replace(input, e)
		if err != nil {
			return nil, err
		}
		input, exprs[i] = in, x
	}
	return &logical.Project{Input: input, Exprs: exprs, Fields: p.Fields}, nil
}

func nodeHasSubquery(n logical.Node) bool {
	found := false
	forEachExpr(n, func(e logical.Expr) { found = found || hasSubquery(e) })
	return found
}

// below joins the subqueries of a single-input node (aggregate arguments,
// GROUP BY, window and sort keys) onto its input, which then carries their
// values as columns the node reads.
func (d *decorrelate) below(n logical.Node) (logical.Node, error) {
	in := n.Children()[0]
	nn, err := mapExprs(n, func(e logical.Expr) (logical.Expr, error) {
		if !hasSubquery(e) {
			return e, nil
		}
		var err error
		in, e, err = d.replace(in, e)
		return e, err
	})
	if err != nil {
		return nil, err
	}
	if nn, err = nn.WithChildren(in); err != nil {
		return nil, err
	}
	return restoreSchema(nn, n.Schema()), nil
}

// join decorrelates subqueries of an ON condition. Inner joins evaluate
// those conjuncts in a filter above the join; outer joins join each
// subquery onto the side it is correlated with (both keep every row), so
// the condition reads its value as a column of that side.
func (d *decorrelate) join(j *logical.Join) (logical.Node, error) {
	inner := j.Type == logical.InnerJoin
	l, r := j.Left, j.Right
	var keep, above []logical.Expr
	for _, c := range logical.SplitAnd(j.Condition) {
		if !hasSubquery(c) {
			keep = append(keep, c)
			continue
		}
		if inner {
			above = append(above, c)
			continue
		}
		c, err := rewriteExpr(c, func(x logical.Expr) (logical.Expr, error) {
			sq, ok := x.(*logical.Subquery)
			if !ok {
				return x, nil
			}
			used := refs(sq, nil)
			var err error
			var v logical.Expr
			switch {
			case !used.intersects(schemaIDs(r.Schema())):
				l, v, err = d.replace(l, sq)
			case !used.intersects(schemaIDs(l.Schema())):
				r, v, err = d.replace(r, sq)
			default:
				return nil, qerr.New(qerr.Unimplemented, "subquery in an outer join's ON condition correlated with both sides is not supported")
			}
			return v, err
		})
		if err != nil {
			return nil, err
		}
		keep = append(keep, c)
	}
	nj := *j
	nj.Left, nj.Right, nj.Condition = l, r, andOf(keep)
	if len(above) == 0 {
		return restoreSchema(&nj, j.Schema()), nil
	}
	if nj.Condition == nil {
		nj.Type = logical.CrossJoin
	}
	out, err := d.filter(&logical.Filter{Input: &nj, Predicate: andOf(above)})
	if err != nil {
		return nil, err
	}
	return restoreSchema(out, j.Schema()), nil
}

// asSubqueryPred matches `EXISTS/IN (...)` and `NOT EXISTS/IN (...)`.
func asSubqueryPred(e logical.Expr) (*logical.Subquery, bool) {
	if sq, ok := e.(*logical.Subquery); ok {
		return sq, false
	}
	if c, ok := e.(*logical.Call); ok && c.Func == "not" && len(c.Args) == 1 {
		if sq, ok := c.Args[0].(*logical.Subquery); ok {
			return sq, true
		}
	}
	return nil, false
}

// replace joins every subquery inside e onto input and returns e reading
// the joined columns instead.
func (d *decorrelate) replace(input logical.Node, e logical.Expr) (logical.Node, logical.Expr, error) {
	out, err := rewriteExpr(e, func(x logical.Expr) (logical.Expr, error) {
		sq, ok := x.(*logical.Subquery)
		if !ok {
			return x, nil
		}
		if sq.Kind == logical.ScalarSubquery {
			j, v, err := d.scalarJoin(input, sq)
			if err != nil {
				return nil, err
			}
			input = j
			return v, nil
		}
		mark := logical.Field{ID: d.ids.fresh(), Name: "mark", Type: boolType, Nullable: true}
		j, err := d.existsJoin(input, sq, logical.MarkJoin, sq.Kind == logical.InSubquery)
		if err != nil {
			return nil, err
		}
		if p, ok := j.(*logical.Project); ok { // inAsScalar: the mark comes last
			input = p
			return colRef(p.Fields[len(p.Fields)-1]), nil
		}
		mj := j.(*logical.Join)
		mj.MarkField = &mark
		input = mj
		return colRef(mark), nil
	})
	return input, out, err
}

// prepare decorrelates nested subqueries of sq's plan and pulls its
// correlated predicates out.
func (d *decorrelate) prepare(sq *logical.Subquery) (logical.Node, []logical.Expr, error) {
	plan, _, err := d.Apply(context.Background(), sq.Plan)
	if err != nil {
		return nil, nil, err
	}
	return pull(plan, definedIDs(plan))
}

func (d *decorrelate) existsJoin(input logical.Node, sq *logical.Subquery, typ logical.JoinType, nullAware bool) (logical.Node, error) {
	// A needle may hold a subquery itself ((SELECT MIN(a) ...) IN (SELECT ...)).
	copied := false
	for i, n := range sq.Needles {
		if !hasSubquery(n) {
			continue
		}
		in, x, err := d.replace(input, n)
		if err != nil {
			return nil, err
		}
		if !copied {
			c := *sq
			c.Needles = append([]logical.Expr{}, sq.Needles...)
			sq, copied = &c, true
		}
		input, sq.Needles[i] = in, x
	}
	outs := sq.Plan.Schema().Fields
	plan := sq.Plan
	if l, ok := plan.(*logical.Limit); ok && sq.Kind == logical.ExistsSubquery && l.Offset == 0 && l.Count != 0 {
		plan = l.Input // EXISTS (... LIMIT n) is EXISTS (...)
	}
	body, preds, err := d.prepare(&logical.Subquery{Kind: sq.Kind, Plan: plan})
	if err != nil {
		return nil, err
	}
	if nullAware && hasResidual(preds, definedIDs(body)) {
		// The null-aware join decides NULL from the keys alone, so a
		// correlation that is not an equality key (a residual filter) is
		// spelled out: NOT IN in a WHERE keeps a row when no subquery row
		// could be equal (an anti join on the correlation and
		// "equal or NULL"); a mark join becomes a scalar subquery.
		if typ == logical.AntiJoin {
			cond := append([]logical.Expr{}, preds...)
			for i, n := range sq.Needles {
				cond = append(cond, maybeEqual(n, colRef(outs[i])))
			}
			return &logical.Join{Left: input, Right: body, Type: logical.AntiJoin, Condition: andOf(cond)}, nil
		}
		return d.inAsScalar(input, sq)
	}
	// The IN equalities come first: NullAwareKeys counts them.
	var cond []logical.Expr
	for i, n := range sq.Needles {
		cond = append(cond, eq(n, colRef(outs[i])))
	}
	cond = append(cond, preds...)
	j := &logical.Join{Left: input, Right: body, Type: typ, Condition: andOf(cond), NullAware: nullAware}
	if nullAware {
		j.NullAwareKeys = len(sq.Needles)
	}
	return j, nil
}

// hasResidual reports whether some correlation predicate is not an
// equality of an inner and an outer expression (a hash join key).
func hasResidual(preds []logical.Expr, defined idSet) bool {
	for _, p := range preds {
		c, ok := p.(*logical.Call)
		if !ok || c.Func != "=" && c.Func != "<=>" || len(c.Args) != 2 {
			return true
		}
		l, r := refs(c.Args[0], nil), refs(c.Args[1], nil)
		inner := func(s idSet) bool { return len(s) > 0 && allIn(s, defined) }
		outer := func(s idSet) bool { return !s.intersects(defined) }
		if !(inner(l) && outer(r) || inner(r) && outer(l)) {
			return true
		}
	}
	return false
}

func allIn(s, in idSet) bool {
	for id := range s {
		if !in[id] {
			return false
		}
	}
	return true
}

// maybeEqual is a = b OR a IS NULL OR b IS NULL: the row may match an IN.
func maybeEqual(a, b logical.Expr) logical.Expr {
	isNull := func(e logical.Expr) logical.Expr {
		return &logical.Call{Func: "is_null", Args: []logical.Expr{e}, Type: boolType}
	}
	or := func(x, y logical.Expr) logical.Expr {
		return &logical.Call{Func: "or", Args: []logical.Expr{x, y}, Type: boolType}
	}
	return or(or(eq(a, b), isNull(a)), isNull(b))
}

// inAsScalar returns the mark of needles IN (subquery) as a scalar
// subquery: MAX(CASE WHEN all equal THEN 1 WHEN maybe equal THEN 0 END)
// over the subquery rows is 1 (TRUE), 0 (NULL) or NULL (FALSE).
func (d *decorrelate) inAsScalar(input logical.Node, sq *logical.Subquery) (logical.Node, error) {
	i64 := arrow.PrimitiveTypes.Int64
	lit := func(v int64) logical.Expr { return &logical.Literal{Value: scalar.NewInt64Scalar(v)} }
	outs := sq.Plan.Schema().Fields
	var all, maybe []logical.Expr
	for i, n := range sq.Needles {
		all = append(all, eq(n, colRef(outs[i])))
		maybe = append(maybe, maybeEqual(n, colRef(outs[i])))
	}
	state := &logical.Case{Whens: []logical.Expr{andOf(all), andOf(maybe)}, Thens: []logical.Expr{lit(1), lit(0)}, Else: &logical.Literal{Value: scalar.MakeNullScalar(i64)}, Type: i64}
	f := logical.Field{ID: d.ids.fresh(), Name: "in_state", Type: i64, Nullable: true}
	agg := &logical.Aggregate{Input: sq.Plan, Aggs: []*logical.AggregateCall{{Func: "max", Args: []logical.Expr{state}, Type: i64}}, AggFields: []logical.Field{f}}
	j, v, err := d.scalarJoin(input, &logical.Subquery{Kind: logical.ScalarSubquery, Plan: agg})
	if err != nil {
		return nil, err
	}
	mark := logical.Field{ID: d.ids.fresh(), Name: "mark", Type: boolType, Nullable: true}
	value := &logical.Case{
		Whens: []logical.Expr{eq(v, lit(1)), eq(v, lit(0))},
		Thens: []logical.Expr{&logical.Literal{Value: scalar.NewBooleanScalar(true)}, &logical.Literal{Value: scalar.MakeNullScalar(boolType)}},
		Else:  &logical.Literal{Value: scalar.NewBooleanScalar(false)},
		Type:  boolType,
	}
	return &logical.Project{Input: j, Exprs: append(passThrough(j), value), Fields: append(j.Schema().Fields, mark)}, nil
}

func passThrough(n logical.Node) []logical.Expr {
	var out []logical.Expr
	for _, f := range n.Schema().Fields {
		out = append(out, colRef(f))
	}
	return out
}

func (d *decorrelate) scalarJoin(input logical.Node, sq *logical.Subquery) (logical.Node, logical.Expr, error) {
	plan, _, err := d.Apply(context.Background(), sq.Plan)
	if err != nil {
		return nil, nil, err
	}
	defined := definedIDs(plan)
	if !correlated(plan, defined) {
		out := plan.Schema().Fields[0]
		return &logical.Join{Left: input, Right: plan, Type: logical.LeftSingleJoin}, colRef(out), nil
	}
	// [Project] → Aggregate without GROUP BY → correlated input.
	node := plan
	var proj *logical.Project
	if p, ok := node.(*logical.Project); ok {
		proj, node = p, p.Input
	}
	agg, ok := node.(*logical.Aggregate)
	if !ok || len(agg.GroupBy) > 0 {
		// Any other shape yields at most one row per outer row or errors:
		// a left-single join on the correlation predicates.
		var value logical.Expr
		if proj != nil && anyOuter(proj.Exprs, defined) {
			proj, value = d.liftProjection(proj, defined)
			plan = proj
		}
		if l, ok := node.(*logical.Limit); ok {
			if plan, err = d.limitPerKey(proj, l, defined); err != nil {
				return nil, nil, err
			}
		}
		body, preds, err := pull(plan, defined)
		if err != nil {
			return nil, nil, err
		}
		if value == nil {
			value = colRef(body.Schema().Fields[0])
		}
		return &logical.Join{Left: input, Right: body, Type: logical.LeftSingleJoin, Condition: andOf(preds)}, value, nil
	}
	body, preds, err := pull(agg.Input, defined)
	if err != nil {
		return nil, nil, err
	}
	var value logical.Expr = colRef(agg.AggFields[0])
	if proj != nil {
		value = proj.Exprs[0]
	}
	value = coalesceCounts(agg, value)
	if j, ok := groupByCorrelation(input, agg, body, preds, defined); ok {
		return j, value, nil
	}
	j, err := d.domainJoin(input, agg, body, preds, defined)
	return j, value, err
}

// liftProjection handles `(SELECT f(outer, inner) ...)`: f moves above the
// join, where both sides' columns are visible; the subquery returns the
// inner columns f reads and a TRUE marker, so a missing row still gives
// NULL (CASE WHEN marker THEN f END).
func (d *decorrelate) liftProjection(proj *logical.Project, defined idSet) (*logical.Project, logical.Expr) {
	marker := logical.Field{ID: d.ids.fresh(), Name: "present", Type: boolType}
	np := &logical.Project{
		Input:  proj.Input,
		Exprs:  []logical.Expr{&logical.Literal{Value: scalar.NewBooleanScalar(true)}},
		Fields: []logical.Field{marker},
	}
	in := proj.Input.Schema()
	for id := range refs(proj.Exprs[0], nil) {
		if f, ok := in.Field(id); ok && defined[id] {
			np.Exprs = append(np.Exprs, colRef(f))
			np.Fields = append(np.Fields, f)
		}
	}
	t := proj.Fields[0].Type
	value := &logical.Case{
		Whens: []logical.Expr{colRef(marker)},
		Thens: []logical.Expr{proj.Exprs[0]},
		Else:  &logical.Literal{Value: scalar.MakeNullScalar(t)},
		Type:  t,
	}
	return np, value
}

// limitPerKey rewrites [proj →] LIMIT → [ORDER BY →] correlated input,
// correlated only by inner-column = outer-expression, so the limit applies
// per correlation key: ROW_NUMBER() OVER (PARTITION BY the inner columns
// ORDER BY the sort keys) kept within (offset, offset + count], with the
// correlation predicates in a filter above for pull to lift into the join.
func (d *decorrelate) limitPerKey(proj *logical.Project, l *logical.Limit, defined idSet) (logical.Node, error) {
	in := l.Input
	var keys []logical.SortExpr
	if s, ok := in.(*logical.Sort); ok {
		in, keys = s.Input, s.Keys
	}
	body, preds, err := pull(in, defined)
	if err != nil {
		return nil, err
	}
	var part []logical.Expr
	for _, p := range preds {
		c, ok := innerEqualityColumn(p, defined)
		if !ok {
			return nil, errCorrelation
		}
		part = append(part, c)
	}
	for _, k := range keys {
		if isOuter(k.Expr, defined) {
			return nil, errCorrelation
		}
	}
	i64 := arrow.PrimitiveTypes.Int64
	rn := logical.Field{ID: d.ids.fresh(), Name: "row_number", Type: i64}
	var out logical.Node = &logical.Window{Input: body, Funcs: []*logical.WindowCall{{Func: "row_number", PartitionBy: part, OrderBy: keys, Type: i64}}, Fields: []logical.Field{rn}}
	out = &logical.Filter{Input: out, Predicate: andOf(preds)}
	keep := []logical.Expr{&logical.Call{Func: ">", Args: []logical.Expr{colRef(rn), &logical.Literal{Value: scalar.NewInt64Scalar(l.Offset)}}, Type: boolType}}
	if l.Count >= 0 && l.Count <= math.MaxInt64-l.Offset { // else no upper bound
		keep = append(keep, &logical.Call{Func: "<=", Args: []logical.Expr{colRef(rn), &logical.Literal{Value: scalar.NewInt64Scalar(l.Offset + l.Count)}}, Type: boolType})
	}
	out = &logical.Filter{Input: out, Predicate: andOf(keep)}
	if proj != nil {
		out = &logical.Project{Input: out, Exprs: proj.Exprs, Fields: proj.Fields}
	}
	return out, nil
}

// coalesceCounts makes COUNTs read 0 where the left join found no group.
func coalesceCounts(agg *logical.Aggregate, value logical.Expr) logical.Expr {
	fix := map[logical.ColumnID]logical.Expr{}
	for i, a := range agg.Aggs {
		f := agg.AggFields[i]
		if (a.Func == "count" || a.Func == "count_star") && f.Type.ID() == arrow.INT64 {
			fix[f.ID] = &logical.Call{Func: "coalesce", Args: []logical.Expr{colRef(f), &logical.Literal{Value: scalar.NewInt64Scalar(0)}}, Type: f.Type}
		}
	}
	return substitute(value, fix)
}

// groupByCorrelation handles the common shape where every pulled predicate
// is inner-column = outer-expression and the aggregates read only inner
// columns: the inner columns become group keys, one group per outer row.
func groupByCorrelation(input logical.Node, agg *logical.Aggregate, body logical.Node, preds []logical.Expr, defined idSet) (logical.Node, bool) {
	for _, a := range agg.Aggs {
		if anyOuter(a.Args, defined) || a.Filter != nil && isOuter(a.Filter, defined) {
			return nil, false
		}
	}
	ng := *agg
	ng.Input = body
	ng.GroupBy, ng.GroupFields = nil, nil
	seen := idSet{}
	for _, p := range preds {
		inner, ok := innerEqualityColumn(p, defined)
		if !ok {
			return nil, false
		}
		if seen[inner.ID] {
			continue
		}
		seen[inner.ID] = true
		f, ok := body.Schema().Field(inner.ID)
		if !ok {
			return nil, false
		}
		ng.GroupBy = append(ng.GroupBy, inner)
		ng.GroupFields = append(ng.GroupFields, f)
	}
	return &logical.Join{Left: input, Right: &ng, Type: logical.LeftJoin, Condition: andOf(preds)}, true
}

// domainJoin handles any other correlation (non-equalities, outer columns
// inside aggregates): the distinct values of the outer columns used (the
// domain, under fresh IDs) are joined with the subquery input on the
// correlation predicates, aggregated per domain row, and left-joined back
// to the outer rows with null-safe equality.
func (d *decorrelate) domainJoin(input logical.Node, agg *logical.Aggregate, body logical.Node, preds []logical.Expr, defined idSet) (logical.Node, error) {
	used := idSet{}
	for _, p := range preds {
		refs(p, used)
	}
	for _, a := range agg.Aggs {
		for _, x := range a.Args {
			refs(x, used)
		}
		if a.Filter != nil {
			refs(a.Filter, used)
		}
	}
	have := schemaIDs(input.Schema())
	var keys []logical.Expr
	var keyFields, domFields []logical.Field
	var on []logical.Expr
	sub := map[logical.ColumnID]logical.Expr{}
	for id := range used {
		if !defined[id] && !have[id] {
			return nil, qerr.New(qerr.Unimplemented, "subquery correlated with a column two levels out is not supported")
		}
	}
	for _, f := range input.Schema().Fields {
		if !used[f.ID] || defined[f.ID] {
			continue
		}
		nf := f
		nf.ID = d.ids.fresh()
		keys = append(keys, colRef(f))
		keyFields = append(keyFields, f)
		domFields = append(domFields, nf)
		sub[f.ID] = colRef(nf)
		on = append(on, &logical.Call{Func: "<=>", Args: []logical.Expr{colRef(f), colRef(nf)}, Type: boolType})
	}
	dom := &logical.Project{
		Input:  &logical.Aggregate{Input: input, GroupBy: keys, GroupFields: keyFields},
		Exprs:  keys,
		Fields: domFields,
	}
	inner := make([]logical.Expr, len(preds))
	for i, p := range preds {
		inner[i] = substitute(p, sub)
	}
	ng := *agg
	ng.Input = &logical.Join{Left: dom, Right: body, Type: logical.InnerJoin, Condition: andOf(inner)}
	ng.GroupBy = make([]logical.Expr, len(domFields))
	for i, f := range domFields {
		ng.GroupBy[i] = colRef(f)
	}
	ng.GroupFields = domFields
	ng.Aggs = make([]*logical.AggregateCall, len(agg.Aggs))
	for i, a := range agg.Aggs {
		c := *a
		c.Args = make([]logical.Expr, len(a.Args))
		for k, x := range a.Args {
			c.Args[k] = substitute(x, sub)
		}
		if a.Filter != nil {
			c.Filter = substitute(a.Filter, sub)
		}
		ng.Aggs[i] = &c
	}
	return &logical.Join{Left: input, Right: &ng, Type: logical.LeftJoin, Condition: andOf(on)}, nil
}

// innerEqualityColumn matches `inner = outer` (either order) where inner is
// a column defined in the subquery and outer uses none.
func innerEqualityColumn(p logical.Expr, defined idSet) (*logical.ColumnRef, bool) {
	c, ok := p.(*logical.Call)
	if !ok || c.Func != "=" || len(c.Args) != 2 {
		return nil, false
	}
	for i := 0; i < 2; i++ {
		in, ok := unwrapInjectiveCast(c.Args[i]).(*logical.ColumnRef)
		other := refs(c.Args[1-i], nil)
		if ok && defined[in.ID] && len(other) > 0 && !other.intersects(defined) {
			return in, true
		}
	}
	return nil, false
}

// unwrapInjectiveCast strips casts that map distinct values to distinct
// values (integer widening, numeric to decimal/double, date to timestamp), so
// grouping by the column groups exactly as grouping by the cast would.
func unwrapInjectiveCast(e logical.Expr) logical.Expr {
	for {
		c, ok := e.(*logical.Cast)
		if !ok || !injective(logical.Type(c.Expr), c.Type) {
			return e
		}
		e = c.Expr
	}
}

func injective(from, to arrow.DataType) bool {
	switch {
	case arrow.IsInteger(from.ID()):
		return arrow.IsInteger(to.ID()) || to.ID() == arrow.DECIMAL128 || to.ID() == arrow.FLOAT64
	case from.ID() == arrow.DECIMAL128:
		return to.ID() == arrow.DECIMAL128
	case from.ID() == arrow.DATE32:
		return to.ID() == arrow.TIMESTAMP
	}
	return false
}

// definedIDs are the columns produced anywhere inside plan. Passing a
// column through does not define it: in `(SELECT outer.c FROM t ORDER BY 1)`
// the projection (and the sort above it) output c under its own ID, and c
// is still the outer column.
func definedIDs(plan logical.Node) idSet {
	out := idSet{}
	var walk func(logical.Node)
	walk = func(n logical.Node) {
		below := idSet{}
		for _, c := range n.Children() {
			for _, f := range c.Schema().Fields {
				below[f.ID] = true
			}
		}
		p, _ := n.(*logical.Project)
		for i, f := range n.Schema().Fields {
			if below[f.ID] {
				continue // defined below, or passed through from outside
			}
			if p != nil {
				if c, ok := p.Exprs[i].(*logical.ColumnRef); ok && c.ID == f.ID {
					continue
				}
			}
			out[f.ID] = true
		}
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walk(plan)
	return out
}

func isOuter(e logical.Expr, defined idSet) bool {
	for id := range refs(e, nil) {
		if !defined[id] {
			return true
		}
	}
	return false
}

func anyOuter(es []logical.Expr, defined idSet) bool {
	for _, e := range es {
		if isOuter(e, defined) {
			return true
		}
	}
	return false
}

// correlated reports whether any expression of the tree references a
// column not defined in it.
func correlated(n logical.Node, defined idSet) bool {
	found := false
	forEachExpr(n, func(e logical.Expr) { found = found || isOuter(e, defined) })
	if found {
		return true
	}
	for _, c := range n.Children() {
		if correlated(c, defined) {
			return true
		}
	}
	return false
}

var errCorrelation = qerr.New(qerr.Unimplemented, "correlated subquery pattern is not supported")

// pull removes the correlated conjuncts from n and returns them; they read
// only columns of the returned node's output (projections are widened to
// pass them through) and of the outer query.
func pull(n logical.Node, defined idSet) (logical.Node, []logical.Expr, error) {
	if !correlated(n, defined) {
		return n, nil, nil
	}
	split := func(es []logical.Expr) (keep, outer []logical.Expr) {
		for _, e := range es {
			if isOuter(e, defined) {
				outer = append(outer, e)
			} else {
				keep = append(keep, e)
			}
		}
		return keep, outer
	}
	switch x := n.(type) {
	case *logical.Filter:
		in, preds, err := pull(x.Input, defined)
		if err != nil {
			return nil, nil, err
		}
		keep, outer := split(logical.SplitAnd(x.Predicate))
		preds = append(preds, outer...)
		if len(keep) == 0 {
			return in, preds, nil
		}
		return &logical.Filter{Input: in, Predicate: andOf(keep)}, preds, nil
	case *logical.Scan:
		keep, outer := split(x.Filters)
		c := *x
		c.Filters = keep
		return &c, outer, nil
	case *logical.Sort:
		return pull(x.Input, defined) // order is irrelevant inside a subquery
	case *logical.Project:
		if anyOuter(x.Exprs, defined) {
			return nil, nil, errCorrelation
		}
		in, preds, err := pull(x.Input, defined)
		if err != nil {
			return nil, nil, err
		}
		p := &logical.Project{Input: in, Exprs: x.Exprs, Fields: x.Fields}
		have := schemaIDs(p.Schema())
		for _, pr := range preds {
			for id := range refs(pr, nil) {
				if f, ok := in.Schema().Field(id); ok && !have[id] {
					have[id] = true
					p.Exprs = append(append([]logical.Expr{}, p.Exprs...), colRef(f))
					p.Fields = append(append([]logical.Field{}, p.Fields...), f)
				}
			}
		}
		return p, preds, nil
	case *logical.Join:
		switch x.Type {
		case logical.InnerJoin, logical.CrossJoin:
			l, lp, err := pull(x.Left, defined)
			if err != nil {
				return nil, nil, err
			}
			r, rp, err := pull(x.Right, defined)
			if err != nil {
				return nil, nil, err
			}
			keep, outer := split(logical.SplitAnd(x.Condition))
			nj := *x
			nj.Left, nj.Right, nj.Condition = l, r, andOf(keep)
			return &nj, append(append(lp, rp...), outer...), nil
		case logical.LeftJoin, logical.SemiJoin, logical.AntiJoin, logical.MarkJoin, logical.LeftSingleJoin:
			if correlated(x.Right, defined) || isOuter(x.Condition, defined) {
				return nil, nil, errCorrelation
			}
			l, lp, err := pull(x.Left, defined)
			if err != nil {
				return nil, nil, err
			}
			nj := *x
			nj.Left = l
			return &nj, lp, nil
		}
	}
	return nil, nil, errCorrelation
}
