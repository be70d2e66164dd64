package execution

import (
	"context"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"go.uber.org/zap"
)

// BatchSize is the target number of rows per batch an operator emits.
const BatchSize = 8192

// Stream is a pull-based stream of record batches. Next returns io.EOF at
// the end; the caller owns (and must Release) each returned batch. Close is
// idempotent and releases everything the stream holds, including its inputs.
type Stream interface {
	Schema() *arrow.Schema
	Next(ctx context.Context) (arrow.RecordBatch, error)
	Close() error
}

// EOF is returned by Next at the end of a stream.
var EOF = io.EOF

// TaskContext carries what one task (query, stage, partition) needs to run
// operators: the query's accounted allocator, its logger and identifiers.
type TaskContext struct {
	QueryID   string
	Stage     int
	Partition int
	// Alloc accounts every buffer of the query against its memory limit;
	// operators allocate through it (never memory.DefaultAllocator).
	Alloc *QueryAllocator
	Log   *zap.Logger
	// Metrics collects per-operator statistics for EXPLAIN ANALYZE (nil = off).
	Metrics *MetricsSet
	// Shuffle serves ShuffleWrite/ShuffleRead nodes of this query.
	Shuffle Shuffle
	// SpillDir is the node's work dir (--work-dir): operators over their
	// share of the memory limit spill under SpillDir/spill ("" = the OS
	// temporary directory).
	SpillDir string
	// op is the operator Operator was called with (spill metrics).
	op any
}

// Operator returns the context operator id runs with: under EXPLAIN
// ANALYZE its allocator is the operator's own view of the query's (so its
// peak memory is measured); otherwise tc itself, at no cost.
func (tc *TaskContext) Operator(id any) *TaskContext {
	if tc == nil || tc.Metrics == nil || tc.Alloc == nil {
		return tc
	}
	c := *tc
	c.Alloc = tc.Metrics.alloc(id, tc.Alloc)
	c.op = id
	return &c
}

// AddSpill counts bytes written to files spill files in the metrics of the
// operator this context belongs to (EXPLAIN ANALYZE).
func (tc *TaskContext) AddSpill(bytes, files int64) {
	if tc == nil || tc.Metrics == nil || tc.op == nil {
		return
	}
	tc.Metrics.Add(tc.op, OperatorMetrics{SpilledBytes: bytes, SpillFiles: files})
}

// Logger returns the task's logger (a no-op one when unset).
func (tc *TaskContext) Logger() *zap.Logger {
	if tc == nil || tc.Log == nil {
		return zap.NewNop()
	}
	return tc.Log
}

// Mem returns the allocator operators should use.
func (tc *TaskContext) Mem() memory.Allocator {
	if tc == nil || tc.Alloc == nil {
		return memory.DefaultAllocator
	}
	return tc.Alloc
}

// Shuffle is where ShuffleWrite puts a stage's output partitions and
// ShuffleRead gets them; the scheduler provides it (local memory/spill store
// on one node, Flight DoGet/DoPut across nodes).
type Shuffle interface {
	// Writer returns a sink for the output of one producer task
	// (stage, input partition). Put hands over one batch for an output
	// partition (the sink takes its own reference). Close marks the task's
	// output complete.
	Writer(ctx context.Context, stage, inputPartition int) (ShuffleWriter, error)
	// Read streams every batch all producer tasks of stage wrote for
	// outputPartition (in no particular order).
	Read(ctx context.Context, stage, outputPartition int) (Stream, error)
}

type ShuffleWriter interface {
	Put(outputPartition int, b arrow.RecordBatch) error
	Close() error
	Abort()
}
