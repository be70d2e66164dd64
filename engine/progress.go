package engine

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/planner/physical"
	"github.com/quiverdb/quiver/planner/stages"
)

// ProgressFunc receives a running query's progress: tasks (one per
// partition of every stage) ended so far out of the query's total. It is
// called once when the query starts (done = 0) and after every task, from
// the task's goroutine: it must be quick and safe for concurrent use.
type ProgressFunc func(done, total int)

type progressKey struct{}

// WithProgress returns a context under which Execute reports the progress of
// the queries it starts to fn (Flight SQL PollFlightInfo uses it). Progress
// does not change how a query runs.
func WithProgress(ctx context.Context, fn ProgressFunc) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

func progressFrom(ctx context.Context) ProgressFunc {
	fn, _ := ctx.Value(progressKey{}).(ProgressFunc)
	return fn
}

// withProgress returns a copy of g whose stage roots count their ended
// tasks into fn (g itself is left as it is).
func withProgress(g *stages.Graph, fn ProgressFunc) *stages.Graph {
	total := 0
	for _, st := range g.Stages {
		total += st.Partitions
	}
	t := &taskCounter{total: total, fn: fn}
	out := &stages.Graph{Stages: make([]*stages.Stage, len(g.Stages))}
	for i, st := range g.Stages {
		c := *st
		c.Root = &progressPlan{Plan: st.Root, t: t}
		out.Stages[i] = &c
	}
	fn(0, total)
	return out
}

type taskCounter struct {
	total int
	done  atomic.Int64
	fn    ProgressFunc
}

func (t *taskCounter) taskEnded() {
	n := t.done.Add(1)
	t.fn(int(min(n, int64(t.total))), t.total)
}

// progressPlan is a stage root that reports when each of its tasks ends
// (its stream is closed, after EOF, an error or a cancel). Everything else
// is the wrapped plan's.
type progressPlan struct {
	physical.Plan
	t *taskCounter
}

func (p *progressPlan) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	s, err := p.Plan.Execute(ctx, partition, tc)
	if err != nil {
		p.t.taskEnded()
		return nil, err
	}
	return &progressStream{Stream: s, t: p.t}, nil
}

type progressStream struct {
	execution.Stream
	t    *taskCounter
	once sync.Once
}

func (s *progressStream) Close() error {
	err := s.Stream.Close()
	s.once.Do(s.t.taskEnded)
	return err
}
