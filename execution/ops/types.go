// Package ops holds the vectorized operators: filter, project, hash
// aggregate, hash and nested-loop joins, sort/top-N, limit, union, window,
// values and shuffle write. Each is a constructor returning an
// execution.Stream; the physical plan nodes call them.
package ops

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution/expr"
)

// JoinType mirrors logical.JoinType (execution must not import the planner).
// Joins build a hash table (or buffer) on the right input and stream the left.
type JoinType int

const (
	InnerJoin JoinType = iota
	LeftJoin
	RightJoin
	FullJoin
	CrossJoin
	SemiJoin       // left rows with a match
	AntiJoin       // left rows without a match
	MarkJoin       // left rows + boolean "has match" column
	LeftSingleJoin // left join erroring on >1 match (scalar subquery)
)

func (t JoinType) String() string {
	return [...]string{"Inner", "Left", "Right", "Full", "Cross", "Semi", "Anti", "Mark", "LeftSingle"}[t]
}

// AggMode says which half of a split aggregation a node computes.
type AggMode int

const (
	AggSingle  AggMode = iota // raw rows in, final values out
	AggPartial                // raw rows in, intermediate state out
	AggFinal                  // intermediate state in (keys first), final values out
)

func (m AggMode) String() string { return [...]string{"Single", "Partial", "Final"}[m] }

// AggSpec is one aggregate of a hash aggregate or window node.
type AggSpec struct {
	Func      string // canonical name, see agg registry
	Args      []expr.Expr
	Distinct  bool
	Filter    expr.Expr // nil = all rows
	OrderBy   []expr.SortKey
	Separator string
	Type      arrow.DataType // final result type
}

// FrameBoundKind / WindowFrame mirror the logical window frame.
type FrameBoundKind int

const (
	UnboundedPreceding FrameBoundKind = iota
	Preceding
	CurrentRow
	Following
	UnboundedFollowing
)

type FrameBound struct {
	Kind   FrameBoundKind
	Offset int64 // ROWS: row count. RANGE offsets are in OffsetValue.
	// OffsetValue is the RANGE offset as a literal expression (nil for ROWS).
	OffsetValue expr.Expr
}

type WindowFrame struct {
	Rows       bool // ROWS (true) or RANGE (false)
	Start, End FrameBound
}

// WindowSpec is one window function. Input is sorted by PartitionBy then
// OrderBy within each partition of the operator.
type WindowSpec struct {
	Func        string
	Args        []expr.Expr
	Distinct    bool
	PartitionBy []expr.Expr
	OrderBy     []expr.SortKey
	Frame       *WindowFrame // nil = default frame
	Type        arrow.DataType
}
