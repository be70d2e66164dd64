package cluster

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/planner/stages"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// Scheduler runs the stages of queries as tasks (stage, partition) on this
// node's cores. The stages form a DAG: a stage runs once all its input
// stages finished (independent ones at the same time, sharing the slots),
// its output kept in the query's shuffle store; the final stage's partitions
// run concurrently and stream their batches to the caller as they are
// produced.
type Scheduler struct {
	slots chan struct{} // one token per concurrently running task (node-wide)
	log   *zap.Logger
	dist  atomic.Pointer[distributorBox]
	holds localHolds // held results without distribution (dscheduler_results.go)
	// taskHook, when set (tests), runs as each task starts and ends.
	taskHook func(stage, partition int, start bool)
}

// Distributor runs a job across the cluster. RunDistributed returns
// ok=false to leave the job to this node (no peers, or a plan that must run
// here); the scheduler then runs it as it does on one node.
type Distributor interface {
	RunDistributed(ctx context.Context, job *Job) (stream execution.Stream, ok bool, err error)
}

type distributorBox struct{ d Distributor }

// SetDistributor makes Run offer every job to d first (nil removes it).
func (s *Scheduler) SetDistributor(d Distributor) {
	if d == nil {
		s.dist.Store(nil)
		return
	}
	s.dist.Store(&distributorBox{d})
}

// Slots is the number of tasks that can run at once for a query started
// here: this node's slots, or the slots of the cluster when a Distributor
// that knows them (Dist) is installed. The planner sizes partition counts
// from it.
func (s *Scheduler) Slots() int {
	if box := s.dist.Load(); box != nil {
		if c, ok := box.d.(interface{ Slots() int }); ok {
			if n := c.Slots(); n > 0 {
				return n
			}
		}
	}
	return cap(s.slots)
}

// NewScheduler returns a scheduler running at most slots tasks at once
// (0 = GOMAXPROCS).
func NewScheduler(slots int, log *zap.Logger) *Scheduler {
	if slots <= 0 {
		slots = runtime.GOMAXPROCS(0)
	}
	return &Scheduler{slots: make(chan struct{}, slots), log: log}
}

// Job is one query to run.
type Job struct {
	QueryID string
	Graph   *stages.Graph
	Alloc   *execution.QueryAllocator
	Metrics *execution.MetricsSet // nil unless EXPLAIN ANALYZE
	Tasks   *TaskStats            // distributed task attempts (EXPLAIN ANALYZE), optional
	Log     *zap.Logger
	// SpillDir is where operators spill (the node's --work-dir; "" = the
	// OS temporary directory).
	SpillDir string
}

// Run starts the job and returns the stream of the final stage's rows. The
// stream's Close (or ctx's end) stops every task of the query and frees its
// shuffle data.
func (s *Scheduler) Run(ctx context.Context, job *Job) (execution.Stream, error) {
	if len(job.Graph.Stages) == 0 {
		return nil, errors.New("internal: empty stage graph")
	}
	if box := s.dist.Load(); box != nil {
		if stream, ok, err := box.d.RunDistributed(ctx, job); ok {
			return stream, err
		}
	}
	schemas := map[int]*arrow.Schema{}
	for _, st := range job.Graph.Stages {
		schemas[st.ID] = st.Root.Schema()
	}
	ctx, cancel := context.WithCancel(ctx)
	q := &runningQuery{
		s:       s,
		job:     job,
		shuffle: NewLocalShuffle(schemas),
		out:     make(chan arrow.RecordBatch, 4),
		cancel:  cancel,
		done:    make(chan struct{}),
	}
	q.shuffle.ConsumeOnRead(job.Graph.Stages)
	final := job.Graph.Stages[len(job.Graph.Stages)-1]
	go q.run(ctx)
	return &queryStream{schema: final.Root.Schema(), out: q.out, done: q.done,
		err: func() error { return q.err }, stop: q.cancel}, nil
}

type runningQuery struct {
	s       *Scheduler
	job     *Job
	shuffle *LocalShuffle
	out     chan arrow.RecordBatch
	cancel  context.CancelFunc
	done    chan struct{} // closed when every task has ended

	errOnce sync.Once
	err     error
}

func (q *runningQuery) fail(err error) {
	q.errOnce.Do(func() {
		q.err = err
		q.cancel()
	})
}

func (q *runningQuery) taskContext(stage, partition int) *execution.TaskContext {
	return &execution.TaskContext{
		QueryID:   q.job.QueryID,
		Stage:     stage,
		Partition: partition,
		Alloc:     q.job.Alloc,
		Log:       q.job.Log.With(zap.Int("stage", stage), zap.Int("task", partition)),
		Metrics:   q.job.Metrics,
		Shuffle:   q.shuffle,
		SpillDir:  q.job.SpillDir,
	}
}

func (q *runningQuery) run(ctx context.Context) {
	defer close(q.done)
	defer close(q.out)
	defer q.shuffle.Release()
	graph := q.job.Graph.Stages
	// consumers counts, per producer stage, the stages still to read it.
	var mu sync.Mutex
	consumers := map[int]int{}
	for _, st := range graph {
		for _, in := range st.Inputs {
			consumers[in]++
		}
	}
	gate := newStageGate(len(graph))
	run := func(st *stages.Stage, final bool) bool {
		if !gate.wait(ctx, st) {
			return false
		}
		if err := q.runStage(ctx, st, final); err != nil {
			q.fail(err)
			return false
		}
		mu.Lock()
		for _, in := range st.Inputs {
			if consumers[in]--; consumers[in] == 0 {
				q.shuffle.ReleaseStage(in)
			}
		}
		mu.Unlock()
		gate.done(st.ID)
		return true
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, st := range graph[:len(graph)-1] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			run(st, false)
		}()
	}
	run(graph[len(graph)-1], true)
}

// stageGate is the DAG readiness rule of both schedulers: a stage may run
// once every one of its input stages succeeded.
type stageGate []chan struct{}

func newStageGate(n int) stageGate {
	g := make(stageGate, n)
	for i := range g {
		g[i] = make(chan struct{})
	}
	return g
}

// wait blocks until st's inputs succeeded (true) or ctx ended (false).
func (g stageGate) wait(ctx context.Context, st *stages.Stage) bool {
	for _, in := range st.Inputs {
		select {
		case <-g[in]:
		case <-ctx.Done():
			return false
		}
	}
	return true
}

// done marks a stage succeeded.
func (g stageGate) done(stage int) { close(g[stage]) }

// runStage runs every partition of st; for the final stage, batches go to
// the output channel (backpressure: a slow client slows the query).
func (q *runningQuery) runStage(ctx context.Context, st *stages.Stage, final bool) error {
	var wg sync.WaitGroup
	for p := 0; p < st.Partitions; p++ {
		select {
		case q.s.slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return ctx.Err()
		}
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			defer func() { <-q.s.slots }()
			if err := q.runTask(ctx, st, p, final); err != nil {
				q.fail(err)
			}
		}(p)
	}
	wg.Wait()
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return nil
}

func (q *runningQuery) runTask(ctx context.Context, st *stages.Stage, partition int, final bool) (err error) {
	if h := q.s.taskHook; h != nil {
		h(st.ID, partition, true)
		defer h(st.ID, partition, false)
	}
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
			q.job.Log.Error("task panicked", zap.Int("stage", st.ID), zap.Int("task", partition), zap.Any("panic", r), zap.Stack("stack"))
		}
	}()
	stream, err := st.Root.Execute(ctx, partition, q.taskContext(st.ID, partition))
	if err != nil {
		return err
	}
	defer stream.Close()
	for {
		b, err := stream.Next(ctx)
		if errors.Is(err, execution.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if !final {
			// Producer stages write through ShuffleWrite and yield nothing.
			b.Release()
			return fmt.Errorf("internal: producer stage %d yielded rows", st.ID)
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		select {
		case q.out <- b:
		case <-ctx.Done():
			b.Release()
			return ctx.Err()
		}
	}
}

// queryStream is the caller's view of a running query, local or
// distributed: the final stage's batches arrive on out; done closes when
// every task has ended, then err is the query's outcome.
type queryStream struct {
	schema *arrow.Schema
	out    <-chan arrow.RecordBatch
	done   <-chan struct{}
	err    func() error
	stop   func() // cancels the query's tasks
	closed bool
}

func (r *queryStream) Schema() *arrow.Schema { return r.schema }

func (r *queryStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	select {
	case b, ok := <-r.out:
		if !ok {
			<-r.done
			if err := r.err(); err != nil {
				return nil, err
			}
			return nil, execution.EOF
		}
		return b, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Close stops the query's tasks, waits for them and frees what they held.
func (r *queryStream) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.stop()
	for b := range r.out {
		b.Release()
	}
	<-r.done
	return nil
}

// panicError turns a recovered panic into the query's error: a *qerr.Error
// (e.g. the memory limit) keeps its kind; anything else is an internal bug
// that fails this query only.
func panicError(r any) error {
	if e, ok := r.(*qerr.Error); ok {
		return e
	}
	if e, ok := r.(error); ok {
		return qerr.Wrap(qerr.Internal, e, "internal error")
	}
	return qerr.New(qerr.Internal, "internal error: %v", r)
}
