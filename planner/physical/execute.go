package physical

import (
	"context"

	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// Execute methods: each builds the operator stream for one partition.
// (Stubs until the operators land.)
func (n *Values) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "Values not implemented")
}
func (n *Filter) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "Filter not implemented")
}
func (n *Project) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "Project not implemented")
}
func (n *HashAggregate) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "HashAggregate not implemented")
}
func (n *HashJoin) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "HashJoin not implemented")
}
func (n *NestedLoopJoin) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "NestedLoopJoin not implemented")
}
func (n *Sort) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "Sort not implemented")
}
func (n *Limit) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "Limit not implemented")
}
func (n *Union) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "Union not implemented")
}
func (n *Window) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "Window not implemented")
}
func (n *Exchange) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "Exchange not implemented")
}
func (n *ShuffleWrite) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "ShuffleWrite not implemented")
}
func (n *ShuffleRead) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "ShuffleRead not implemented")
}
