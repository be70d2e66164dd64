package optimizer

import (
	"context"

	"github.com/quiverdb/quiver/planner/logical"
)

// pushDownPredicates moves filter conjuncts as close to the scans as they
// can go: through projections (substituted), into join sides and join
// conditions (turning comma joins into inner joins with conditions),
// through group keys, set operations and sorts, and into Scan.Filters. A
// WHERE conjunct that rejects NULLs of an outer join's inner side turns the
// join into an inner one.
type pushDownPredicates struct{}

func (pushDownPredicates) Name() string { return "push_down_predicates" }

func (pushDownPredicates) Apply(ctx context.Context, root logical.Node) (logical.Node, bool, error) {
	out, err := pushDown(root, nil)
	if err != nil {
		return nil, false, err
	}
	return out, changedPlan(root, out), nil
}

// pushDown returns n with preds (conjuncts over n's output) applied.
func pushDown(n logical.Node, preds []logical.Expr) (logical.Node, error) {
	switch x := n.(type) {
	case *logical.Filter:
		return pushDown(x.Input, append(preds, logical.SplitAnd(x.Predicate)...))
	case *logical.Project:
		return pushProject(x, preds)
	case *logical.Join:
		return pushJoin(x, preds)
	case *logical.Aggregate:
		return pushAggregate(x, preds)
	case *logical.Sort:
		in, err := pushDown(x.Input, preds)
		if err != nil {
			return nil, err
		}
		return &logical.Sort{Input: in, Keys: x.Keys}, nil
	case *logical.SetOp:
		return pushSetOp(x, preds)
	case *logical.Scan:
		if x.Limit >= 0 || len(preds) == 0 {
			return wrap(x, preds), nil
		}
		ids := schemaIDs(x.Schema())
		var into, stay []logical.Expr
		for _, p := range preds {
			if r := refs(p, nil); len(r) > 0 && r.within(ids) && !hasSubquery(p) {
				into = append(into, p)
			} else {
				stay = append(stay, p)
			}
		}
		c := *x
		c.Filters = append(append([]logical.Expr{}, x.Filters...), into...)
		return wrap(&c, stay), nil
	}
	// Limit, Window, Values and anything else: a barrier.
	ch := n.Children()
	if len(ch) > 0 {
		nc := make([]logical.Node, len(ch))
		for i, c := range ch {
			x, err := pushDown(c, nil)
			if err != nil {
				return nil, err
			}
			nc[i] = x
		}
		var err error
		if n, err = n.WithChildren(nc...); err != nil {
			return nil, err
		}
	}
	return wrap(n, preds), nil
}

func wrap(n logical.Node, preds []logical.Expr) logical.Node {
	if len(preds) == 0 {
		return n
	}
	return &logical.Filter{Input: n, Predicate: andOf(preds)}
}

func pushProject(p *logical.Project, preds []logical.Expr) (logical.Node, error) {
	m := map[logical.ColumnID]logical.Expr{}
	for i, f := range p.Fields {
		if hasSubquery(p.Exprs[i]) || !deterministic(p.Exprs[i]) {
			continue
		}
		m[f.ID] = p.Exprs[i]
	}
	var below, stay []logical.Expr
	for _, pr := range preds {
		ok := !hasSubquery(pr)
		for id := range refs(pr, nil) {
			if _, sub := m[id]; !sub {
				ok = false
			}
		}
		if ok {
			below = append(below, substitute(pr, m))
		} else {
			stay = append(stay, pr)
		}
	}
	in, err := pushDown(p.Input, below)
	if err != nil {
		return nil, err
	}
	return wrap(&logical.Project{Input: in, Exprs: p.Exprs, Fields: p.Fields}, stay), nil
}

// deterministic is false for functions whose value changes per call.
func deterministic(e logical.Expr) bool {
	if c, ok := e.(*logical.Call); ok {
		switch c.Func {
		case "rand", "uuid", "random":
			return false
		}
	}
	for _, c := range e.Children() {
		if !deterministic(c) {
			return false
		}
	}
	return true
}

func pushJoin(j *logical.Join, preds []logical.Expr) (logical.Node, error) {
	lids, rids := schemaIDs(j.Left.Schema()), schemaIDs(j.Right.Schema())
	typ := j.Type
	// Outer → inner when WHERE rejects the NULL-extended rows.
	for _, p := range preds {
		switch {
		case typ == logical.LeftJoin && nullRejects(p, rids):
			typ = logical.InnerJoin
		case typ == logical.RightJoin && nullRejects(p, lids):
			typ = logical.InnerJoin
		case typ == logical.FullJoin && nullRejects(p, lids):
			typ = logical.LeftJoin
		case typ == logical.FullJoin && nullRejects(p, rids):
			typ = logical.RightJoin
		}
	}
	if typ == logical.LeftJoin || typ == logical.RightJoin {
		// A Full join narrowed late in the loop above: look again.
		for _, p := range preds {
			if typ == logical.LeftJoin && nullRejects(p, rids) || typ == logical.RightJoin && nullRejects(p, lids) {
				typ = logical.InnerJoin
			}
		}
	}
	var toLeft, toRight, cond, stay []logical.Expr
	side := func(p logical.Expr) (l, r bool) {
		if hasSubquery(p) {
			return false, false
		}
		rs := refs(p, nil)
		return len(rs) > 0 && rs.within(lids), len(rs) > 0 && rs.within(rids)
	}
	conds := logical.SplitAnd(j.Condition)
	switch typ {
	case logical.InnerJoin, logical.CrossJoin:
		for _, p := range append(append([]logical.Expr{}, preds...), conds...) {
			l, r := side(p)
			rs := refs(p, nil)
			switch {
			case l:
				toLeft = append(toLeft, p)
			case r:
				toRight = append(toRight, p)
			case !hasSubquery(p) && len(rs) > 0 && rs.within(unionIDs(lids, rids)):
				cond = append(cond, p)
			default:
				stay = append(stay, p)
			}
		}
		if len(cond) > 0 {
			typ = logical.InnerJoin
		}
	case logical.LeftJoin, logical.LeftSingleJoin, logical.SemiJoin, logical.AntiJoin, logical.MarkJoin:
		for _, p := range preds {
			if l, _ := side(p); l {
				toLeft = append(toLeft, p)
			} else {
				stay = append(stay, p)
			}
		}
		for i, c := range conds {
			l, r := side(c)
			switch {
			case j.NullAware && i < j.NullAwareKeys:
				// An IN equality of NOT IN stays: x NOT IN (SELECT y ...)
				// depends on the rows where y is NULL, which 5 = y drops.
				cond = append(cond, c)
			case r:
				toRight = append(toRight, c)
			case l && typ == logical.SemiJoin:
				toLeft = append(toLeft, c)
			default:
				cond = append(cond, c)
			}
		}
	case logical.RightJoin:
		for _, p := range preds {
			if _, r := side(p); r {
				toRight = append(toRight, p)
			} else {
				stay = append(stay, p)
			}
		}
		for _, c := range conds {
			if l, _ := side(c); l {
				toLeft = append(toLeft, c)
			} else {
				cond = append(cond, c)
			}
		}
	default: // Full
		stay, cond = preds, conds
	}
	left, err := pushDown(j.Left, toLeft)
	if err != nil {
		return nil, err
	}
	right, err := pushDown(j.Right, toRight)
	if err != nil {
		return nil, err
	}
	nj := *j
	nj.Left, nj.Right, nj.Type, nj.Condition = left, right, typ, andOf(cond)
	return wrap(&nj, stay), nil
}

func unionIDs(a, b idSet) idSet {
	out := idSet{}
	for k := range a {
		out[k] = true
	}
	for k := range b {
		out[k] = true
	}
	return out
}

// strictFuncs return NULL whenever an argument is NULL.
var strictFuncs = map[string]bool{
	"=": true, "<>": true, "!=": true, "<": true, "<=": true, ">": true, ">=": true,
	"+": true, "-": true, "*": true, "/": true, "%": true, "div": true,
	"like": true, "not like": true, "substring": true, "extract": true, "upper": true, "lower": true,
	"between": true, "in": true, "not": true,
}

// nullRejects reports whether p is NULL or FALSE whenever every column of
// side is NULL (so those rows never pass a WHERE).
func nullRejects(p logical.Expr, side idSet) bool {
	switch x := p.(type) {
	case *logical.Call:
		switch x.Func {
		case "and":
			return nullRejects(x.Args[0], side) || nullRejects(x.Args[1], side)
		case "or":
			return nullRejects(x.Args[0], side) && nullRejects(x.Args[1], side)
		}
		if !strictFuncs[x.Func] {
			return false
		}
		for _, a := range x.Args {
			if strictOn(a, side) {
				return true
			}
		}
	}
	return false
}

// strictOn: e is NULL when the side's columns are NULL.
func strictOn(e logical.Expr, side idSet) bool {
	switch x := e.(type) {
	case *logical.ColumnRef:
		return side[x.ID]
	case *logical.Cast:
		return strictOn(x.Expr, side)
	case *logical.Call:
		if !strictFuncs[x.Func] {
			return false
		}
		for _, a := range x.Args {
			if strictOn(a, side) {
				return true
			}
		}
	}
	return false
}

func pushAggregate(a *logical.Aggregate, preds []logical.Expr) (logical.Node, error) {
	// Conjuncts over bare-column group keys filter groups and rows alike.
	keys := idSet{}
	for i, g := range a.GroupBy {
		if c, ok := g.(*logical.ColumnRef); ok && c.ID == a.GroupFields[i].ID {
			keys[c.ID] = true
		}
	}
	var below, stay []logical.Expr
	for _, p := range preds {
		if r := refs(p, nil); len(a.GroupBy) > 0 && len(r) > 0 && r.within(keys) && !hasSubquery(p) {
			below = append(below, p)
		} else {
			stay = append(stay, p)
		}
	}
	in, err := pushDown(a.Input, below)
	if err != nil {
		return nil, err
	}
	c := *a
	c.Input = in
	return wrap(&c, stay), nil
}

func pushSetOp(s *logical.SetOp, preds []logical.Expr) (logical.Node, error) {
	var push, stay []logical.Expr
	for _, p := range preds {
		if hasSubquery(p) || !deterministic(p) {
			stay = append(stay, p)
		} else {
			push = append(push, p)
		}
	}
	ins := make([]logical.Node, len(s.Inputs))
	for i, in := range s.Inputs {
		m := map[logical.ColumnID]logical.Expr{}
		for k, f := range in.Schema().Fields {
			m[s.Fields[k].ID] = colRef(f)
		}
		var mine []logical.Expr
		for _, p := range push {
			mine = append(mine, substitute(p, m))
		}
		x, err := pushDown(in, mine)
		if err != nil {
			return nil, err
		}
		ins[i] = x
	}
	c := *s
	c.Inputs = ins
	return wrap(&c, stay), nil
}
