package optimizer

import (
	"context"
	"math"

	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/planner/physical"
)

// reorderJoins reorders chains of inner joins greedily from statistics:
// start from the largest table (the fact table, the probe side), then
// repeatedly join the connected relation giving the smallest estimated
// result (|C|·|R| / min(base(C), base(R)), key/foreign-key). Relations with
// no join condition to the rest come last, so cross products are avoided
// whenever the conditions connect the relations.
type reorderJoins struct{}

func (reorderJoins) Name() string { return "reorder_joins" }

func (r reorderJoins) Apply(ctx context.Context, root logical.Node) (logical.Node, bool, error) {
	out, err := reorder(root)
	if err != nil {
		return nil, false, err
	}
	return out, changedPlan(root, out), nil
}

func isInner(n logical.Node) (*logical.Join, bool) {
	j, ok := n.(*logical.Join)
	return j, ok && (j.Type == logical.InnerJoin || j.Type == logical.CrossJoin)
}

func reorder(n logical.Node) (logical.Node, error) {
	if j, ok := isInner(n); ok {
		var leaves []logical.Node
		var conds []logical.Expr
		var flatten func(logical.Node)
		flatten = func(n logical.Node) {
			if j, ok := isInner(n); ok {
				flatten(j.Left)
				flatten(j.Right)
				conds = append(conds, logical.SplitAnd(j.Condition)...)
				return
			}
			leaves = append(leaves, n)
		}
		flatten(j)
		for i, l := range leaves {
			x, err := reorder(l)
			if err != nil {
				return nil, err
			}
			leaves[i] = x
		}
		if len(leaves) < 3 {
			return rebuildPair(j, leaves, conds)
		}
		return restoreSchema(greedy(leaves, conds), j.Schema()), nil
	}
	ch := n.Children()
	if len(ch) == 0 {
		return n, nil
	}
	nc := make([]logical.Node, len(ch))
	for i, c := range ch {
		x, err := reorder(c)
		if err != nil {
			return nil, err
		}
		nc[i] = x
	}
	return n.WithChildren(nc...)
}

func rebuildPair(j *logical.Join, leaves []logical.Node, conds []logical.Expr) (logical.Node, error) {
	nj := *j
	nj.Left, nj.Right, nj.Condition = leaves[0], leaves[1], andOf(conds)
	if len(conds) > 0 {
		nj.Type = logical.InnerJoin
	}
	return &nj, nil
}

type relation struct {
	node       logical.Node
	rows, base float64
	ids        idSet
}

func newRelation(n logical.Node) relation {
	rows := physical.EstimateRows(n)
	return relation{node: n, rows: rows, base: baseRows(n, rows), ids: schemaIDs(n.Schema())}
}

// baseRows is the size of the largest table under n (the key side of a
// key/foreign-key join is its base).
func baseRows(n logical.Node, rows float64) float64 {
	base := 0.0
	var walk func(logical.Node)
	walk = func(n logical.Node) {
		if s, ok := n.(*logical.Scan); ok {
			base = math.Max(base, physical.TableRows(s.Table))
		}
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walk(n)
	return math.Max(base, rows)
}

func greedy(leaves []logical.Node, conds []logical.Expr) logical.Node {
	rels := make([]relation, len(leaves))
	for i, l := range leaves {
		rels[i] = newRelation(l)
	}
	start := 0
	for i, r := range rels {
		if r.base > rels[start].base {
			start = i
		}
	}
	cur := rels[start]
	used := make([]bool, len(conds))
	done := make([]bool, len(rels))
	done[start] = true
	condRefs := make([]idSet, len(conds))
	for i, c := range conds {
		condRefs[i] = refs(c, nil)
	}
	connects := func(r relation) bool {
		for i, cr := range condRefs {
			if !used[i] && cr.intersects(r.ids) && cr.intersects(cur.ids) && cr.within(unionIDs(cur.ids, r.ids)) {
				return true
			}
		}
		return false
	}
	for left := len(rels) - 1; left > 0; left-- {
		best, bestEst, bestConnected := -1, 0.0, false
		for i, r := range rels {
			if done[i] {
				continue
			}
			conn := connects(r)
			est := cur.rows * r.rows
			if conn {
				est /= math.Max(1, math.Min(cur.base, r.base))
			}
			if best < 0 || conn && !bestConnected || conn == bestConnected && est < bestEst {
				best, bestEst, bestConnected = i, est, conn
			}
		}
		r := rels[best]
		done[best] = true
		ids := unionIDs(cur.ids, r.ids)
		var on []logical.Expr
		for i, cr := range condRefs {
			if !used[i] && len(cr) > 0 && cr.within(ids) {
				used[i] = true
				on = append(on, conds[i])
			}
		}
		typ := logical.CrossJoin
		if len(on) > 0 {
			typ = logical.InnerJoin
		}
		cur = relation{
			node: &logical.Join{Left: cur.node, Right: r.node, Type: typ, Condition: andOf(on)},
			rows: bestEst, base: math.Max(cur.base, r.base), ids: ids,
		}
	}
	var rest []logical.Expr
	for i, c := range conds {
		if !used[i] {
			rest = append(rest, c)
		}
	}
	return wrap(cur.node, rest)
}
