// Package physical turns optimized logical plans into physical plans: nodes
// that say how their output is partitioned, what distribution they need from
// their children (Exchanges are inserted where it is not met), and how to
// execute one partition as an execution.Stream.
package physical

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
)

// Plan is a physical operator: a factory of one stream per output partition.
type Plan interface {
	Schema() *arrow.Schema
	Children() []Plan
	WithChildren(...Plan) (Plan, error)
	Partitioning() Partitioning
	RequiredChildDistribution() []Distribution
	Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error)
	String() string
}

// PartitioningKind says how a node's output rows are split into partitions.
type PartitioningKind int

const (
	UnknownPartitioning PartitioningKind = iota // Count partitions, rows anywhere
	HashPartitioning                            // row goes to hash(Keys) % Count
	SinglePartition                             // exactly one partition
)

type Partitioning struct {
	Kind  PartitioningKind
	Keys  []expr.Expr // HashPartitioning: over this node's output columns
	Count int
}

func (p Partitioning) String() string {
	switch p.Kind {
	case HashPartitioning:
		return fmt.Sprintf("Hash(%v, %d)", p.Keys, p.Count)
	case SinglePartition:
		return "Single"
	}
	return fmt.Sprintf("Unknown(%d)", p.Count)
}

// DistributionKind is what a node requires of a child's partitioning.
type DistributionKind int

const (
	AnyDistribution       DistributionKind = iota // any partitioning
	SingleDistribution                            // all rows in one partition
	HashDistribution                              // rows with equal Keys in one partition
	BroadcastDistribution                         // every partition of the parent sees all rows
)

type Distribution struct {
	Kind DistributionKind
	Keys []expr.Expr // HashDistribution: over the child's output columns
}

func (d Distribution) String() string {
	switch d.Kind {
	case SingleDistribution:
		return "Single"
	case HashDistribution:
		return fmt.Sprintf("Hash(%v)", d.Keys)
	case BroadcastDistribution:
		return "Broadcast"
	}
	return "Any"
}

// Format renders a physical plan tree, one node per line.
func Format(p Plan) string {
	var b strings.Builder
	var walk func(Plan, int)
	walk = func(p Plan, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(p.String())
		b.WriteByte('\n')
		for _, c := range p.Children() {
			walk(c, depth+1)
		}
	}
	walk(p, 0)
	return b.String()
}
