package physical

import (
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/execution/ops"
)

// The physical nodes. Their fields are the contract between the physical
// planner (which builds them: nodes.go, distribution.go) and the operators
// (execute.go calls execution/ops and execution/scan).

// Scan reads a base table; partition i reads Splits[i]. Columns are table
// column indices (projection); Filters are over the scan's output columns and
// are applied exactly (row groups whose statistics rule them out are skipped).
type Scan struct {
	Table   *catalog.Table
	Columns []int
	Filters []expr.Expr
	Splits  [][]catalog.Split
	Limit   int64 // -1 = none
	Out     *arrow.Schema
}

// MemoryScan reads a system table's rows (single partition).
type MemoryScan struct {
	Table   *catalog.Table
	Columns []int
	Out     *arrow.Schema
}

// Values produces literal rows (single partition).
type Values struct {
	Rows [][]expr.Expr
	Out  *arrow.Schema
}

type Filter struct {
	Input     Plan
	Predicate expr.Expr
}

type Project struct {
	Input Plan
	Exprs []expr.Expr
	Out   *arrow.Schema
}

// HashAggregate groups by GroupBy. In AggFinal mode the input is the partial
// output: group keys first, then each aggregate's state columns; GroupBy are
// then Column refs to those first columns.
type HashAggregate struct {
	Input   Plan
	Mode    ops.AggMode
	GroupBy []expr.Expr
	Aggs    []ops.AggSpec
	Out     *arrow.Schema // Partial: keys + state fields; else keys + results
}

// HashJoin builds on Right, probes with Left. LeftKeys/RightKeys are equi keys
// over each side's columns; Filter is a residual over left++right columns.
// Broadcast: Right is collected whole for every left partition (not allowed
// for Right/Full joins); otherwise both sides are hash-partitioned on the keys.
type HashJoin struct {
	Left, Right         Plan
	Type                ops.JoinType
	LeftKeys, RightKeys []expr.Expr
	Filter              expr.Expr
	NullAware           bool
	// StrictKeys marks the keys of a NullAware join that select rows with
	// plain equality (correlation) instead of comparing NOT IN's values;
	// nil = every key is null-aware.
	StrictKeys []bool
	Broadcast  bool
	Out        *arrow.Schema
	// NullEqual[i] makes key i match NULL to NULL (<=>, INTERSECT/EXCEPT);
	// nil = plain equality for every key.
	NullEqual []bool
	// Proj lists the output columns as ascending indices into left++right
	// (nil = all): a projection folded into the join so that columns nobody
	// reads are never gathered. Inner and outer joins only.
	Proj []int
}

// NestedLoopJoin buffers Right whole (single/broadcast) and evaluates
// Condition (over left++right columns; nil = true) for every pair.
type NestedLoopJoin struct {
	Left, Right Plan
	Type        ops.JoinType
	Condition   expr.Expr
	Out         *arrow.Schema
}

// Sort sorts each partition; Fetch >= 0 keeps only the first Fetch rows (top-N).
type Sort struct {
	Input Plan
	Keys  []expr.SortKey
	Fetch int64
}

// Limit skips Offset then passes Count rows (-1 = all) of its single input
// partition (or of each partition when Local).
type Limit struct {
	Input  Plan
	Offset int64
	Count  int64
	Local  bool
}

// Union concatenates the partitions of its inputs (output partition count is
// the sum).
type Union struct {
	Inputs []Plan
	Out    *arrow.Schema
}

// Window computes window functions over input sorted by partition and order
// keys; its output is the input columns followed by one column per function.
type Window struct {
	Input Plan
	Funcs []ops.WindowSpec
	Out   *arrow.Schema
}

// Exchange redistributes its input to Target. The stage cutter replaces it by
// ShuffleWrite (end of the producer stage) + ShuffleRead (in the consumer).
type Exchange struct {
	Input  Plan
	Target Partitioning // Hash(keys,n) | Single
	// Broadcast: every consumer partition reads all rows (Target.Count copies).
	Broadcast bool
}

// ShuffleWrite is the root of a producer stage: it runs Input's partition and
// routes each row to an output partition of Target.
type ShuffleWrite struct {
	Input     Plan
	Stage     int
	Target    Partitioning
	Broadcast bool
}

// ShuffleRead reads the output partitions of a finished producer stage.
type ShuffleRead struct {
	Stage      int
	Partitions int
	Out        *arrow.Schema
	// Broadcast: every partition reads all rows the producers wrote (the
	// producer writes output partition 0 only; Partitions is then 1).
	Broadcast bool
	// Part is the partitioning the producer's ShuffleWrite established.
	Part Partitioning
}

// Schema methods.
func (n *Scan) Schema() *arrow.Schema           { return n.Out }
func (n *MemoryScan) Schema() *arrow.Schema     { return n.Out }
func (n *Values) Schema() *arrow.Schema         { return n.Out }
func (n *Filter) Schema() *arrow.Schema         { return n.Input.Schema() }
func (n *Project) Schema() *arrow.Schema        { return n.Out }
func (n *HashAggregate) Schema() *arrow.Schema  { return n.Out }
func (n *HashJoin) Schema() *arrow.Schema       { return n.Out }
func (n *NestedLoopJoin) Schema() *arrow.Schema { return n.Out }
func (n *Sort) Schema() *arrow.Schema           { return n.Input.Schema() }
func (n *Limit) Schema() *arrow.Schema          { return n.Input.Schema() }
func (n *Union) Schema() *arrow.Schema          { return n.Out }
func (n *Window) Schema() *arrow.Schema         { return n.Out }
func (n *Exchange) Schema() *arrow.Schema       { return n.Input.Schema() }
func (n *ShuffleWrite) Schema() *arrow.Schema   { return n.Input.Schema() }
func (n *ShuffleRead) Schema() *arrow.Schema    { return n.Out }

// Children methods.
func (n *Scan) Children() []Plan           { return nil }
func (n *MemoryScan) Children() []Plan     { return nil }
func (n *Values) Children() []Plan         { return nil }
func (n *Filter) Children() []Plan         { return []Plan{n.Input} }
func (n *Project) Children() []Plan        { return []Plan{n.Input} }
func (n *HashAggregate) Children() []Plan  { return []Plan{n.Input} }
func (n *HashJoin) Children() []Plan       { return []Plan{n.Left, n.Right} }
func (n *NestedLoopJoin) Children() []Plan { return []Plan{n.Left, n.Right} }
func (n *Sort) Children() []Plan           { return []Plan{n.Input} }
func (n *Limit) Children() []Plan          { return []Plan{n.Input} }
func (n *Union) Children() []Plan          { return n.Inputs }
func (n *Window) Children() []Plan         { return []Plan{n.Input} }
func (n *Exchange) Children() []Plan       { return []Plan{n.Input} }
func (n *ShuffleWrite) Children() []Plan   { return []Plan{n.Input} }
func (n *ShuffleRead) Children() []Plan    { return nil }

func arity(n Plan, ch []Plan, want int) error {
	if len(ch) != want {
		return fmt.Errorf("%T: want %d children, got %d", n, want, len(ch))
	}
	return nil
}

// WithChildren methods.
func (n *Scan) WithChildren(ch ...Plan) (Plan, error)       { return n, arity(n, ch, 0) }
func (n *MemoryScan) WithChildren(ch ...Plan) (Plan, error) { return n, arity(n, ch, 0) }
func (n *Values) WithChildren(ch ...Plan) (Plan, error)     { return n, arity(n, ch, 0) }
func (n *ShuffleRead) WithChildren(ch ...Plan) (Plan, error) {
	return n, arity(n, ch, 0)
}
func (n *Filter) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, 1); err != nil {
		return nil, err
	}
	c := *n
	c.Input = ch[0]
	return &c, nil
}
func (n *Project) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, 1); err != nil {
		return nil, err
	}
	c := *n
	c.Input = ch[0]
	return &c, nil
}
func (n *HashAggregate) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, 1); err != nil {
		return nil, err
	}
	c := *n
	c.Input = ch[0]
	return &c, nil
}
func (n *HashJoin) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, 2); err != nil {
		return nil, err
	}
	c := *n
	c.Left, c.Right = ch[0], ch[1]
	return &c, nil
}
func (n *NestedLoopJoin) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, 2); err != nil {
		return nil, err
	}
	c := *n
	c.Left, c.Right = ch[0], ch[1]
	return &c, nil
}
func (n *Sort) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, 1); err != nil {
		return nil, err
	}
	c := *n
	c.Input = ch[0]
	return &c, nil
}
func (n *Limit) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, 1); err != nil {
		return nil, err
	}
	c := *n
	c.Input = ch[0]
	return &c, nil
}
func (n *Union) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, len(n.Inputs)); err != nil {
		return nil, err
	}
	c := *n
	c.Inputs = ch
	return &c, nil
}
func (n *Window) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, 1); err != nil {
		return nil, err
	}
	c := *n
	c.Input = ch[0]
	return &c, nil
}
func (n *Exchange) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, 1); err != nil {
		return nil, err
	}
	c := *n
	c.Input = ch[0]
	return &c, nil
}
func (n *ShuffleWrite) WithChildren(ch ...Plan) (Plan, error) {
	if err := arity(n, ch, 1); err != nil {
		return nil, err
	}
	c := *n
	c.Input = ch[0]
	return &c, nil
}
