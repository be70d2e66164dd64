package optimizer

import (
	"context"

	"github.com/quiverdb/quiver/planner/logical"
)

// pruneColumns removes columns nobody reads: unused projections, aggregates
// and window functions, and scan columns (Scan.Columns/Fields shrink
// together, so only needed columns are read from files).
type pruneColumns struct{}

func (pruneColumns) Name() string { return "prune_columns" }

func (pruneColumns) Apply(ctx context.Context, root logical.Node) (logical.Node, bool, error) {
	out, err := prune(root, schemaIDs(root.Schema()))
	if err != nil {
		return nil, false, err
	}
	out = restoreSchema(out, root.Schema())
	return out, changedPlan(root, out), nil
}

func exprRefs(into idSet, es ...logical.Expr) idSet {
	for _, e := range es {
		refs(e, into)
	}
	return into
}

func sortRefs(into idSet, ks []logical.SortExpr) idSet {
	for _, k := range ks {
		refs(k.Expr, into)
	}
	return into
}

func copySet(s idSet) idSet {
	out := idSet{}
	for k := range s {
		out[k] = true
	}
	return out
}

// prune returns n producing at least the columns in req (possibly more).
func prune(n logical.Node, req idSet) (logical.Node, error) {
	switch x := n.(type) {
	case *logical.Scan:
		need := exprRefs(copySet(req), x.Filters...)
		c := *x
		c.Columns, c.Fields = nil, nil
		for i, f := range x.Fields {
			if need[f.ID] {
				c.Columns = append(c.Columns, x.Columns[i])
				c.Fields = append(c.Fields, f)
			}
		}
		if len(c.Fields) == 0 && len(x.Fields) > 0 {
			// Row counts still need one column: the narrowest.
			best := 0
			for i, f := range x.Fields {
				if width(f) < width(x.Fields[best]) {
					best = i
				}
			}
			c.Columns, c.Fields = []int{x.Columns[best]}, []logical.Field{x.Fields[best]}
		}
		return &c, nil
	case *logical.Values:
		return x, nil
	case *logical.Filter:
		in, err := prune(x.Input, exprRefs(copySet(req), x.Predicate))
		if err != nil {
			return nil, err
		}
		return &logical.Filter{Input: in, Predicate: x.Predicate}, nil
	case *logical.Project:
		p := &logical.Project{}
		for i, f := range x.Fields {
			if req[f.ID] {
				p.Exprs = append(p.Exprs, x.Exprs[i])
				p.Fields = append(p.Fields, f)
			}
		}
		if len(p.Fields) == 0 && len(x.Fields) > 0 {
			p.Exprs, p.Fields = x.Exprs[:1], x.Fields[:1]
		}
		need := exprRefs(idSet{}, p.Exprs...)
		var in logical.Node
		var err error
		if j, ok := x.Input.(*logical.Join); ok {
			in, err = pruneJoin(j, need) // this projection narrows it already
		} else {
			in, err = prune(x.Input, need)
		}
		if err != nil {
			return nil, err
		}
		p.Input = in
		return p, nil
	case *logical.Aggregate:
		c := *x
		c.Aggs, c.AggFields = nil, nil
		for i, f := range x.AggFields {
			if req[f.ID] {
				c.Aggs = append(c.Aggs, x.Aggs[i])
				c.AggFields = append(c.AggFields, f)
			}
		}
		if len(c.Aggs) == 0 && len(x.GroupBy) == 0 && len(x.Aggs) > 0 {
			c.Aggs, c.AggFields = x.Aggs[:1], x.AggFields[:1] // one row still needs one column
		}
		need := exprRefs(idSet{}, c.GroupBy...)
		for _, a := range c.Aggs {
			exprRefs(need, a.Args...)
			exprRefs(need, a.Filter)
			sortRefs(need, a.OrderBy)
		}
		in, err := prune(x.Input, need)
		if err != nil {
			return nil, err
		}
		c.Input = in
		return &c, nil
	case *logical.Join:
		j, err := pruneJoin(x, req)
		if err != nil {
			return nil, err
		}
		return narrowJoin(j, req), nil
	case *logical.Sort:
		in, err := prune(x.Input, sortRefs(copySet(req), x.Keys))
		if err != nil {
			return nil, err
		}
		return &logical.Sort{Input: in, Keys: x.Keys}, nil
	case *logical.Limit:
		in, err := prune(x.Input, req)
		if err != nil {
			return nil, err
		}
		return &logical.Limit{Input: in, Offset: x.Offset, Count: x.Count}, nil
	case *logical.Window:
		c := *x
		c.Funcs, c.Fields = nil, nil
		need := copySet(req)
		for i, f := range x.Fields {
			if req[f.ID] {
				w := x.Funcs[i]
				c.Funcs = append(c.Funcs, w)
				c.Fields = append(c.Fields, f)
				exprRefs(need, w.Args...)
				exprRefs(need, w.PartitionBy...)
				sortRefs(need, w.OrderBy)
			}
		}
		in, err := prune(x.Input, need)
		if err != nil {
			return nil, err
		}
		if len(c.Funcs) == 0 {
			return in, nil
		}
		c.Input = in
		return &c, nil
	case *logical.SetOp:
		// Inputs are positional: each must keep exactly its columns.
		c := *x
		c.Inputs = make([]logical.Node, len(x.Inputs))
		for i, in := range x.Inputs {
			p, err := prune(in, schemaIDs(in.Schema()))
			if err != nil {
				return nil, err
			}
			c.Inputs[i] = restoreSchema(p, in.Schema())
		}
		return &c, nil
	case *logical.RecursiveCTE:
		// Anchor and recursive part are positional, like set operation inputs.
		ins := x.Children()
		for i, in := range ins {
			p, err := prune(in, schemaIDs(in.Schema()))
			if err != nil {
				return nil, err
			}
			ins[i] = restoreSchema(p, in.Schema())
		}
		return x.WithChildren(ins...)
	}
	return n, nil
}

func pruneJoin(x *logical.Join, req idSet) (*logical.Join, error) {
	need := exprRefs(copySet(req), x.Condition)
	l, err := prune(x.Left, need)
	if err != nil {
		return nil, err
	}
	r, err := prune(x.Right, need)
	if err != nil {
		return nil, err
	}
	c := *x
	c.Left, c.Right = l, r
	return &c, nil
}

// narrowJoin projects a join that outputs both inputs down to the columns
// in req, so join keys and filter-only columns are dropped right there (the
// physical planner folds the projection into the join, which then never
// gathers them) instead of riding along through the joins above.
func narrowJoin(j *logical.Join, req idSet) logical.Node {
	switch j.Type {
	case logical.SemiJoin, logical.AntiJoin, logical.MarkJoin:
		return j
	}
	p := &logical.Project{Input: j}
	for _, f := range j.Schema().Fields {
		if req[f.ID] {
			p.Exprs = append(p.Exprs, colRef(f))
			p.Fields = append(p.Fields, f)
		}
	}
	if len(p.Fields) == len(j.Schema().Fields) || len(p.Fields) == 0 {
		return j
	}
	return p
}

// width orders columns by how cheap they are to read.
func width(f logical.Field) int {
	if fw, ok := f.Type.(interface{ BitWidth() int }); ok {
		return fw.BitWidth()
	}
	return 1 << 20
}

// pushDownLimit moves a Limit below projections and into scans that filter
// nothing (the scan stops early; the Limit stays for exactness across
// partitions).
type pushDownLimit struct{}

func (pushDownLimit) Name() string { return "push_down_limit" }

func (pushDownLimit) Apply(ctx context.Context, root logical.Node) (logical.Node, bool, error) {
	out, err := transformUp(root, func(n logical.Node) (logical.Node, error) {
		l, ok := n.(*logical.Limit)
		if !ok || l.Count < 0 {
			return n, nil
		}
		switch in := l.Input.(type) {
		case *logical.Project:
			inner := &logical.Limit{Input: in.Input, Offset: l.Offset, Count: l.Count}
			if s, ok := in.Input.(*logical.Scan); ok && len(s.Filters) == 0 && s.Limit < 0 {
				c := *s
				c.Limit = l.Offset + l.Count
				inner.Input = &c
			}
			return &logical.Project{Input: inner, Exprs: in.Exprs, Fields: in.Fields}, nil
		case *logical.Scan:
			if len(in.Filters) == 0 && in.Limit < 0 {
				c := *in
				c.Limit = l.Offset + l.Count
				return &logical.Limit{Input: &c, Offset: l.Offset, Count: l.Count}, nil
			}
		}
		return n, nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, changedPlan(root, out), nil
}

// eliminateProjections drops projections that pass their input through
// unchanged (same columns, same names, same order).
type eliminateProjections struct{}

func (eliminateProjections) Name() string { return "eliminate_projections" }

func (eliminateProjections) Apply(ctx context.Context, root logical.Node) (logical.Node, bool, error) {
	out, err := transformUp(root, func(n logical.Node) (logical.Node, error) {
		p, ok := n.(*logical.Project)
		if !ok {
			return n, nil
		}
		in := p.Input.Schema()
		if len(in.Fields) != len(p.Fields) {
			return n, nil
		}
		for i, e := range p.Exprs {
			c, ok := e.(*logical.ColumnRef)
			if !ok || c.ID != in.Fields[i].ID || p.Fields[i].ID != c.ID || p.Fields[i].Name != in.Fields[i].Name {
				return n, nil
			}
		}
		return p.Input, nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, changedPlan(root, out), nil
}
