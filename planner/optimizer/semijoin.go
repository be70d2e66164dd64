package optimizer

import (
	"context"

	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/planner/physical"
)

// pushDownSemiJoins moves a semi or anti join below an inner join whose one
// input holds every probe-side column the join condition uses (and through
// projections that pass those columns on unchanged). A semi/anti join keeps
// or drops each probe row on its own, so it commutes with the inner join; it
// moves only when the join does not shrink that input (estimated), so it
// then probes fewer rows (TPC-H Q18: the IN (... HAVING sum(l_quantity) >
// 300) filter applies to orders, not to lineitem ⋈ orders ⋈ customer; Q21's
// EXISTS on lineitem stays above the joins that keep 1 supplier nation in 25).
type pushDownSemiJoins struct{}

func (pushDownSemiJoins) Name() string { return "push_down_semi_joins" }

func (pushDownSemiJoins) Apply(ctx context.Context, root logical.Node) (logical.Node, bool, error) {
	changed := false
	out, err := transformUp(root, func(n logical.Node) (logical.Node, error) {
		j, ok := n.(*logical.Join)
		if !ok || (j.Type != logical.SemiJoin && j.Type != logical.AntiJoin) || hasSubquery(j.Condition) {
			return n, nil
		}
		lids := schemaIDs(j.Left.Schema())
		probe := idSet{}
		for id := range refs(j.Condition, nil) {
			if lids[id] {
				probe[id] = true
			}
		}
		if len(probe) == 0 {
			// Uncorrelated EXISTS: all or nothing, nothing to gain.
			return n, nil
		}
		below := func(input logical.Node) logical.Node {
			moved := *j
			moved.Left = input
			return &moved
		}
		switch l := j.Left.(type) {
		case *logical.Join:
			if l.Type != logical.InnerJoin && l.Type != logical.CrossJoin {
				return n, nil
			}
			rows := physical.EstimateRows(l)
			if probe.within(schemaIDs(l.Left.Schema())) && rows >= physical.EstimateRows(l.Left) {
				changed = true
				return l.WithChildren(below(l.Left), l.Right)
			}
			if probe.within(schemaIDs(l.Right.Schema())) && rows >= physical.EstimateRows(l.Right) {
				changed = true
				return l.WithChildren(l.Left, below(l.Right))
			}
		case *logical.Project:
			for i, f := range l.Fields {
				if !probe[f.ID] {
					continue
				}
				if c, ok := l.Exprs[i].(*logical.ColumnRef); !ok || c.ID != f.ID {
					return n, nil
				}
			}
			changed = true
			return l.WithChildren(below(l.Input))
		}
		return n, nil
	})
	return out, changed, err
}
