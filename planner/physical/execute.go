package physical

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/execution/ops"
	"github.com/quiverdb/quiver/qerr"
)

// Execute methods: each builds the operator stream for one partition,
// executing its children for the same partition, and wraps it with
// execution.Instrument (metrics keyed by the node, cancellation, panics).

func instrument(n Plan, tc *execution.TaskContext, s execution.Stream) execution.Stream {
	return execution.InstrumentLogged(s, n, tc.Metrics, tc.Alloc, tc.Log)
}

// built instruments s, or closes the already executed inputs when building
// the operator failed.
func built(n Plan, tc *execution.TaskContext, s execution.Stream, err error, inputs ...execution.Stream) (execution.Stream, error) {
	if err != nil {
		for _, in := range inputs {
			in.Close()
		}
		return nil, err
	}
	return instrument(n, tc, s), nil
}

func (n *Values) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	tc = tc.Operator(n)
	if partition != 0 {
		return instrument(n, tc, execution.NewEmptyStream(n.Out)), nil
	}
	rows := make([][]scalar.Scalar, len(n.Rows))
	for r, row := range n.Rows {
		rows[r] = make([]scalar.Scalar, len(row))
		for c, e := range row {
			v, err := expr.EvalScalar(e)
			if err != nil {
				return nil, err
			}
			rows[r][c] = v
		}
	}
	s, err := ops.NewValues(tc, rows, n.Out)
	return built(n, tc, s, err)
}

func (n *Filter) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	in, err := n.Input.Execute(ctx, partition, tc)
	if err != nil {
		return nil, err
	}
	tc = tc.Operator(n)
	return instrument(n, tc, ops.NewFilter(tc, in, n.Predicate)), nil
}

func (n *Project) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	in, err := n.Input.Execute(ctx, partition, tc)
	if err != nil {
		return nil, err
	}
	tc = tc.Operator(n)
	return instrument(n, tc, ops.NewProject(tc, in, n.Exprs, n.Out)), nil
}

func (n *HashAggregate) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	in, err := n.Input.Execute(ctx, partition, tc)
	if err != nil {
		return nil, err
	}
	tc = tc.Operator(n)
	s, err := ops.NewHashAggregate(tc, in, n.Mode, n.GroupBy, n.Aggs, n.Out)
	return built(n, tc, s, err, in)
}

// rightPartition is the build-side partition a join partition reads: a
// broadcast or single-partition build side is read whole (partition 0).
func rightPartition(right Plan, broadcast bool, partition int) int {
	if broadcast || right.Partitioning().Kind == SinglePartition || right.Partitioning().Count <= 1 {
		return 0
	}
	return partition
}

func (n *HashJoin) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	l, err := n.Left.Execute(ctx, partition, tc)
	if err != nil {
		return nil, err
	}
	r, err := n.Right.Execute(ctx, rightPartition(n.Right, n.Broadcast, partition), tc)
	if err != nil {
		l.Close()
		return nil, err
	}
	share := n.shareKey(tc)
	tc = tc.Operator(n)
	s, err := ops.NewHashJoinNullEq(tc, l, r, n.Type, n.LeftKeys, n.RightKeys, n.NullEqual, n.Filter, n.NullAware, n.StrictKeys, n.Proj, n.Out)
	if err == nil && share != nil {
		ops.ShareBuild(s, *share)
	}
	return built(n, tc, s, err, l, r)
}

// shareKey names the build side the partitions of a broadcast join running
// in tc's accounting scope build once (ops.ShareBuild); nil when the build
// side is not a broadcast shuffle read.
func (n *HashJoin) shareKey(tc *execution.TaskContext) *ops.SharedBuildKey {
	r, ok := n.Right.(*ShuffleRead)
	if !n.Broadcast || !ok || !r.Broadcast || tc == nil || tc.Alloc == nil {
		return nil
	}
	return &ops.SharedBuildKey{Alloc: tc.Alloc, Query: tc.QueryID, Stage: tc.Stage, Build: r.Stage}
}

func (n *NestedLoopJoin) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	l, err := n.Left.Execute(ctx, partition, tc)
	if err != nil {
		return nil, err
	}
	r, err := n.Right.Execute(ctx, rightPartition(n.Right, false, partition), tc)
	if err != nil {
		l.Close()
		return nil, err
	}
	tc = tc.Operator(n)
	s, err := ops.NewNestedLoopJoin(tc, l, r, n.Type, n.Condition, n.Out)
	return built(n, tc, s, err, l, r)
}

func (n *Sort) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	in, err := n.Input.Execute(ctx, partition, tc)
	if err != nil {
		return nil, err
	}
	tc = tc.Operator(n)
	return instrument(n, tc, ops.NewSort(tc, in, n.Keys, n.Fetch)), nil
}

func (n *Limit) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	in, err := n.Input.Execute(ctx, partition, tc)
	if err != nil {
		return nil, err
	}
	tc = tc.Operator(n)
	return instrument(n, tc, ops.NewLimit(in, n.Offset, n.Count)), nil
}

// Execute maps output partition p to partition j of input i (the inputs'
// partitions are numbered one after the other).
func (n *Union) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	p := partition
	for _, in := range n.Inputs {
		c := max(in.Partitioning().Count, 1)
		if p < c {
			s, err := in.Execute(ctx, p, tc)
			if err != nil {
				return nil, err
			}
			tc = tc.Operator(n)
			return instrument(n, tc, ops.NewRename(tc, s, n.Out)), nil
		}
		p -= c
	}
	return nil, qerr.New(qerr.Internal, "union has no partition %d", partition)
}

func (n *Window) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	in, err := n.Input.Execute(ctx, partition, tc)
	if err != nil {
		return nil, err
	}
	tc = tc.Operator(n)
	s, err := ops.NewWindow(tc, in, n.Funcs, n.Out)
	return built(n, tc, s, err, in)
}

func (n *Exchange) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Internal, "Exchange must be replaced by the stage cutter before execution")
}

func (n *ShuffleWrite) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	in, err := n.Input.Execute(ctx, partition, tc)
	if err != nil {
		return nil, err
	}
	tc = tc.Operator(n)
	var keys []expr.Expr
	count := 1
	if !n.Broadcast && n.Target.Kind == HashPartitioning {
		keys, count = n.Target.Keys, n.Target.Count
	}
	return instrument(n, tc, ops.NewShuffleWrite(tc, in, n.Stage, partition, keys, count)), nil
}

func (n *ShuffleRead) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	if tc.Shuffle == nil {
		return nil, qerr.New(qerr.Internal, "shuffle read without a shuffle store")
	}
	if n.Broadcast {
		partition = 0
	}
	tc = tc.Operator(n)
	s, err := tc.Shuffle.Read(ctx, n.Stage, partition)
	if err != nil {
		return nil, err
	}
	return instrument(n, tc, ops.NewCoalesce(tc, s)), nil
}
