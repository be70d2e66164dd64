// Package optimizer rewrites bound logical plans into cheaper equivalent
// ones: constant folding, subquery decorrelation, predicate and projection
// pushdown, outer-to-inner join conversion, join reordering and limit
// pushdown. The logic lives in rules (type switches over the plan), run in
// batches to a fixpoint.
package optimizer

import (
	"context"

	"github.com/quiverdb/quiver/planner/logical"
)

// Rule is one rewrite. Apply returns the (possibly unchanged) plan and
// whether it changed anything.
type Rule interface {
	Name() string
	Apply(ctx context.Context, n logical.Node) (logical.Node, bool, error)
}

// Options tune the optimizer (mostly for tests).
type Options struct {
	// Disable names rules to skip (see each rule's Name).
	Disable map[string]bool
}

// maxIterations bounds a fixpoint batch; rules are monotone so this is only a guard.
const maxIterations = 16

type batch struct {
	name  string
	once  bool
	rules []Rule
}

// Optimize runs the rule batches over n. The result has the same output
// schema (column IDs, names and order) as n.
func Optimize(ctx context.Context, n logical.Node, opts Options) (logical.Node, error) {
	ids := newIDGen(n)
	batches := []batch{
		{name: "decorrelate", once: true, rules: []Rule{&decorrelate{ids: ids}}},
		{name: "simplify", rules: []Rule{foldConstants{}, pushDownPredicates{}, pushDownSemiJoins{}}},
		{name: "reorder", once: true, rules: []Rule{reorderJoins{}}},
		{name: "simplify-again", rules: []Rule{foldConstants{}, pushDownPredicates{}}},
		{name: "prune", once: true, rules: []Rule{pruneColumns{}, pushDownLimit{}, eliminateProjections{}}},
	}
	for _, b := range batches {
		iters := maxIterations
		if b.once {
			iters = 1
		}
		for i := 0; i < iters; i++ {
			changed := false
			for _, r := range b.rules {
				if opts.Disable[r.Name()] {
					continue
				}
				if err := ctx.Err(); err != nil {
					return nil, err
				}
				out, c, err := r.Apply(ctx, n)
				if err != nil {
					return nil, err
				}
				n = out
				changed = changed || c
			}
			if !changed {
				break
			}
		}
	}
	return n, nil
}

// idGen hands out fresh column IDs above every ID the statement uses.
type idGen struct{ next logical.ColumnID }

func newIDGen(n logical.Node) *idGen {
	g := &idGen{}
	var walkExpr func(logical.Expr)
	var walk func(logical.Node)
	walk = func(n logical.Node) {
		for _, f := range n.Schema().Fields {
			if f.ID >= g.next {
				g.next = f.ID + 1
			}
		}
		forEachExpr(n, walkExpr)
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walkExpr = func(e logical.Expr) {
		switch e := e.(type) {
		case *logical.ColumnRef:
			if e.ID >= g.next {
				g.next = e.ID + 1
			}
		case *logical.Subquery:
			walk(e.Plan)
		}
		for _, c := range e.Children() {
			walkExpr(c)
		}
	}
	walk(n)
	return g
}

func (g *idGen) fresh() logical.ColumnID {
	id := g.next
	g.next++
	return id
}

// changedPlan reports whether a rewrite changed a plan's rendering (rules
// rebuild nodes freely, so identity is not a signal).
func changedPlan(before, after logical.Node) bool {
	return before != after && logical.Format(before) != logical.Format(after)
}
