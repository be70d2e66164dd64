// Package stages cuts a physical plan at its Exchanges into a DAG of stages
// (the Ballista model): each Exchange's subtree becomes a producer stage
// ending in a ShuffleWrite, and its consumer reads it through a ShuffleRead.
package stages

import (
	"fmt"
	"strings"

	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/planner/physical"
)

// Stage is one unit of scheduling: Partitions tasks each run Root for one
// partition. Inputs are the IDs of the stages whose output Root reads.
type Stage struct {
	ID         int
	Root       physical.Plan
	Partitions int
	Inputs     []int
}

// Graph lists stages in dependency order (every stage after its inputs);
// the last one is the final stage whose output is the query result. A
// stage's ID is its index in Stages.
type Graph struct {
	Stages []*Stage
}

// Final returns the stage producing the query result.
func (g *Graph) Final() *Stage { return g.Stages[len(g.Stages)-1] }

// Cut splits p at every Exchange. The returned nodes are new (Exchanges'
// ancestors are rebuilt), so EXPLAIN ANALYZE metrics must be keyed by the
// nodes of the graph.
func Cut(p physical.Plan) (*Graph, error) {
	c := &cutter{g: &Graph{}}
	root, inputs, err := c.cut(p)
	if err != nil {
		return nil, err
	}
	c.add(root, root.Partitioning().Count, inputs)
	return c.g, nil
}

type cutter struct{ g *Graph }

func (c *cutter) add(root physical.Plan, partitions int, inputs []int) *Stage {
	s := &Stage{ID: len(c.g.Stages), Root: root, Partitions: max(partitions, 1), Inputs: inputs}
	c.g.Stages = append(c.g.Stages, s)
	return s
}

// cut rewrites p's subtree, turning every Exchange into a producer stage, and
// returns the rewritten node with the stage IDs it reads.
func (c *cutter) cut(p physical.Plan) (physical.Plan, []int, error) {
	if ex, ok := p.(*physical.Exchange); ok {
		in, inputs, err := c.cut(ex.Input)
		if err != nil {
			return nil, nil, err
		}
		id := len(c.g.Stages)
		w := &physical.ShuffleWrite{Input: in, Stage: id, Target: ex.Target, Broadcast: ex.Broadcast}
		c.add(w, in.Partitioning().Count, inputs)
		r := &physical.ShuffleRead{Stage: id, Partitions: max(ex.Target.Count, 1), Out: ex.Schema(), Broadcast: ex.Broadcast, Part: ex.Target}
		return r, []int{id}, nil
	}
	ch := p.Children()
	if len(ch) == 0 {
		return p, nil, nil
	}
	var inputs []int
	newCh := make([]physical.Plan, len(ch))
	changed := false
	for i, x := range ch {
		nx, in, err := c.cut(x)
		if err != nil {
			return nil, nil, err
		}
		newCh[i] = nx
		inputs = append(inputs, in...)
		changed = changed || nx != x
	}
	if !changed {
		return p, inputs, nil
	}
	np, err := p.WithChildren(newCh...)
	if err != nil {
		return nil, nil, fmt.Errorf("stages: %w", err)
	}
	return np, inputs, nil
}

// Format renders the stage graph, one plan tree per stage.
func Format(g *Graph) string { return format(g, nil) }

// FormatAnalyzed renders the stage graph with the EXPLAIN ANALYZE metrics
// recorded for its nodes.
func FormatAnalyzed(g *Graph, m *execution.MetricsSet) string { return format(g, m) }

func format(g *Graph, m *execution.MetricsSet) string {
	var b strings.Builder
	for _, s := range g.Stages {
		fmt.Fprintf(&b, "Stage %d partitions=%d inputs=%v\n", s.ID, s.Partitions, s.Inputs)
		var tree string
		if m != nil {
			tree = physical.FormatAnalyzed(s.Root, m)
		} else {
			tree = physical.Format(s.Root)
		}
		for _, line := range strings.Split(strings.TrimRight(tree, "\n"), "\n") {
			b.WriteString("  " + line + "\n")
		}
	}
	return b.String()
}
