package physical

import (
	"context"

	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// Scan execution (owned with the table sources in execution/scan).
func (n *Scan) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "Scan not implemented")
}
func (n *MemoryScan) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	return nil, qerr.New(qerr.Unimplemented, "MemoryScan not implemented")
}
