package engine

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/planner"
	"github.com/quiverdb/quiver/planner/parse"
	"go.uber.org/zap"
)

// Partitioned results: a query whose final stage has several partitions
// can be started for partition-wise fetch (Flight SQL endpoints per
// partition, `--advertise-endpoints`). ExecutePartitioned runs the query's
// producer stages and holds it; each partition is then read, on any node,
// with OpenPartition — with the same result conversion (client column
// names, booleans as BIGINT) as Execute's single stream.

// PartitionRef names one partition of a held result.
type PartitionRef = cluster.ResultRef

// PartitionedResult is a query held for partition-wise fetch.
type PartitionedResult struct {
	Schema *arrow.Schema // the client-visible result schema
	Held   *cluster.Held
}

// PartitionPlan is a query planned for partition-wise fetch, not started.
type PartitionPlan struct {
	c *compiled
}

// Schema is the client-visible result schema.
func (p *PartitionPlan) Schema() *arrow.Schema { return ClientSchema(p.c.schema) }

// ExecutePartitioned starts sql (one query) for partition-wise fetch and
// returns once its producer stages ran. ok=false (and nothing started)
// when sql is not a query, or its result is a single stream (one final
// partition: ORDER BY, LIMIT, a global aggregate; or a plan that must run
// here): the caller uses Execute. The result is freed when every
// partition was read to its end, after ttl, or by CancelPartitioned.
func (e *Engine) ExecutePartitioned(ctx context.Context, s *Session, sql string, params []scalar.Scalar, ttl time.Duration) (*PartitionedResult, bool, error) {
	p, err := e.PlanPartitioned(ctx, s, sql, params)
	if err != nil || p == nil {
		return nil, false, err
	}
	return e.HoldPartitioned(ctx, p, ttl)
}

// PlanPartitioned plans sql for partition-wise fetch without running it:
// nil (and no error) when it does not qualify (see ExecutePartitioned).
func (e *Engine) PlanPartitioned(ctx context.Context, s *Session, sql string, params []scalar.Scalar) (*PartitionPlan, error) {
	stmts, err := parse.Parse(sql)
	if err != nil || len(stmts) != 1 {
		return nil, nil // Execute reports it
	}
	stmt, err := e.bindValues(ctx, s, stmts[0], sql, params)
	if err != nil {
		return nil, err
	}
	q, ok := stmt.(*planner.Query)
	if !ok {
		return nil, nil
	}
	c, err := e.compile(ctx, q, params)
	if err != nil {
		return nil, err
	}
	if c.graph.Final().Partitions < 2 {
		return nil, nil
	}
	return &PartitionPlan{c: c}, nil
}

// HoldPartitioned starts a planned query for partition-wise fetch and
// returns once its producer stages ran (their progress goes to the
// context's WithProgress function); ok=false when the scheduler runs it
// as one stream after all (a plan that must run here).
func (e *Engine) HoldPartitioned(ctx context.Context, p *PartitionPlan, ttl time.Duration) (*PartitionedResult, bool, error) {
	c := p.c
	id := e.newQueryID()
	log := e.log.With(zap.String("query_id", id))
	alloc := execution.NewQueryAllocator(nil, e.cfg.QueryMemoryLimit)
	e.mem.Track(alloc)
	settle := func() {
		if n := e.mem.Settle(alloc); n != 0 {
			log.Warn("held query ended still holding memory; dropped from the node's memory in use", zap.Int64("bytes", n))
		}
	}
	job := &cluster.Job{QueryID: id, Graph: c.graph, Alloc: alloc, Log: log, SpillDir: e.cfg.WorkDir}
	held, ok, err := e.sched.Hold(ctx, job, cluster.HoldOptions{Schema: c.schema, TTL: ttl, Progress: progressFrom(ctx)})
	if err != nil || !ok {
		settle()
		return nil, false, err
	}
	go func() {
		<-held.Done
		settle()
	}()
	return &PartitionedResult{Schema: ClientSchema(c.schema), Held: held}, true, nil
}

// OpenPartition runs one partition of a held result on this node and
// returns its stream (the caller must Close it). Reading it to the end
// marks the partition fetched.
func (e *Engine) OpenPartition(ctx context.Context, ref PartitionRef) (*Result, error) {
	alloc := execution.NewQueryAllocator(nil, e.cfg.QueryMemoryLimit)
	e.mem.Track(alloc)
	log := e.log.With(zap.String("query_id", ref.Query), zap.Int("partition", ref.Partition))
	settle := func() {
		if n := e.mem.Settle(alloc); n != 0 {
			log.Warn("result partition fetch ended still holding memory", zap.Int64("bytes", n))
		}
	}
	schema, stream, err := e.sched.OpenResult(ctx, ref, alloc)
	if err != nil {
		settle()
		return nil, err
	}
	// The Flight writer releases the last batch after it wrote it, which
	// may be after the stream's Close: settle once it did (or after 5s).
	lateSettle := func() {
		go func() {
			for i := 0; i < 500 && alloc.Used() > 0; i++ {
				time.Sleep(10 * time.Millisecond)
			}
			settle()
		}()
	}
	out := newClientStream(&renameStream{in: stream, schema: schema, settle: lateSettle})
	return &Result{Schema: out.Schema(), Stream: out}, nil
}

// CancelPartitioned frees a held result at once.
func (e *Engine) CancelPartitioned(ctx context.Context, ref PartitionRef) error {
	return e.sched.CancelResult(ctx, ref)
}

// AddResultBytes counts n bytes streamed from a held result; past max over
// all its partitions the query ends and the error is ResourceExhausted.
func (e *Engine) AddResultBytes(ctx context.Context, ref PartitionRef, n, max int64) error {
	return e.sched.AddResultBytes(ctx, ref, n, max)
}
