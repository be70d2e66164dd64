package cluster

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/planner/physical"
	"github.com/quiverdb/quiver/planner/stages"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// Held results (per-partition result endpoints, `--advertise-endpoints`).
// Scheduler.Hold runs a query's producer stages as usual but not its final
// stage: the query stays open and each final-stage partition runs when a
// client fetches it (OpenResult), on whichever node the client calls —
// the coordinator suggests one per partition (Held.Places). A fetching
// node gets the final stage's fragment and its input locations from the
// coordinator (action result-fragment; lost inputs are recomputed there
// first), runs the partition reading the inputs with the shuffle read path,
// and reports the end (result-done). The query ends — and the normal query
// end frees its shuffle output on every node — when every partition was
// streamed to its end once, when the result TTL passes, or when the client
// cancels (CancelResult). A partition whose fetch failed may be fetched
// again while the query is open. On a node without distribution the same
// happens in memory (LocalShuffle), every partition at this node.

// Internal actions of held results.
const (
	ActionResultFragment = "result-fragment"
	ActionResultDone     = "result-done"
	ActionResultCancel   = "result-cancel"
	ActionResultBytes    = "result-bytes"
)

// DefaultResultTTL is how long an unfetched held result is kept.
const DefaultResultTTL = 5 * time.Minute

// HoldOptions configures a held result.
type HoldOptions struct {
	// Schema labels the batches of every partition (the engine's
	// client-visible names); fetchers on other nodes receive it.
	Schema *arrow.Schema
	// TTL ends the query when not every partition was fetched by then
	// (default DefaultResultTTL).
	TTL time.Duration
	// Progress, when set, receives the producer stages' progress (tasks
	// ended out of all producer tasks) until the result is ready.
	Progress func(done, total int)
}

// Held describes a held result.
type Held struct {
	Query           string // the query's cluster-wide id
	Coordinator     string // node holding the query; "" without distribution
	CoordinatorAddr string // its internal service address
	// Places gives, per final-stage partition, the Flight SQL address
	// (host:port) of the node meant to serve it; "" is this node.
	Places []string
	// Done is closed when the query ended and its work was freed.
	Done <-chan struct{}
}

// ResultRef names one partition of a held result (a client's ticket).
type ResultRef struct {
	Query           string
	Coordinator     string
	CoordinatorAddr string
	Partition       int
}

// errResultGone: the query ended (fully fetched, expired or canceled) or
// its coordinator restarted.
func errResultGone(query string) error {
	return qerr.New(qerr.NotFound, "the result of query %s is no longer held (every partition was fetched, it expired, or it was canceled): run the query again", query)
}

// resultHolder is what a Distributor implements to hold results across
// the cluster (*Dist does).
type resultHolder interface {
	hold(ctx context.Context, job *Job, opts HoldOptions) (*Held, bool, error)
	openResult(ctx context.Context, ref ResultRef, alloc *execution.QueryAllocator) (*arrow.Schema, execution.Stream, error)
	cancelResult(ctx context.Context, ref ResultRef) error
	addResultBytes(ctx context.Context, ref ResultRef, n, max int64) error
}

// Hold starts job for partition-wise fetch: it returns once the producer
// stages ran (or failed, or ctx ended). ok=false when the final stage has
// a single partition or the plan must run as one stream here (system
// tables): the caller runs it with Run.
func (s *Scheduler) Hold(ctx context.Context, job *Job, opts HoldOptions) (*Held, bool, error) {
	if len(job.Graph.Stages) == 0 || job.Graph.Final().Partitions < 2 {
		return nil, false, nil
	}
	if opts.TTL <= 0 {
		opts.TTL = DefaultResultTTL
	}
	if h := s.holder(); h != nil {
		return h.hold(ctx, job, opts)
	}
	return s.holds.hold(ctx, s, job, opts)
}

// holder is the installed Distributor's result holder (nil: none).
func (s *Scheduler) holder() resultHolder {
	if box := s.dist.Load(); box != nil {
		if h, ok := box.d.(resultHolder); ok {
			return h
		}
	}
	return nil
}

func errNotDistributed(ref ResultRef) error {
	return qerr.New(qerr.Unavailable, "the result of query %s is held by cluster node %s; this node runs without distribution", ref.Query, ref.Coordinator)
}

// OpenResult runs one partition of a held result on this node and streams
// it; alloc accounts its memory. The stream's end (io.EOF) marks the
// partition fetched.
func (s *Scheduler) OpenResult(ctx context.Context, ref ResultRef, alloc *execution.QueryAllocator) (*arrow.Schema, execution.Stream, error) {
	if ref.Coordinator != "" {
		if h := s.holder(); h != nil {
			return h.openResult(ctx, ref, alloc)
		}
		return nil, nil, errNotDistributed(ref)
	}
	return s.holds.open(ctx, ref, alloc)
}

// CancelResult ends a held result at once (CancelFlightInfo).
func (s *Scheduler) CancelResult(ctx context.Context, ref ResultRef) error {
	if ref.Coordinator != "" {
		if h := s.holder(); h != nil {
			return h.cancelResult(ctx, ref)
		}
		return nil
	}
	s.holds.cancel(ref.Query)
	return nil
}

// AddResultBytes counts n more bytes streamed from a held result: when the
// sum over all its partitions' fetches passes max, the query ends (its
// other fetches stop) and the error is ResourceExhausted.
func (s *Scheduler) AddResultBytes(ctx context.Context, ref ResultRef, n, max int64) error {
	if ref.Coordinator != "" {
		if h := s.holder(); h != nil {
			return h.addResultBytes(ctx, ref, n, max)
		}
		return errNotDistributed(ref)
	}
	lh := s.holds.get(ref.Query)
	if lh == nil {
		return errResultGone(ref.Query)
	}
	if err := lh.bytes.add(ref.Query, n, max); err != nil {
		s.holds.finish(lh)
		return err
	}
	return nil
}

// resultBytes sums the bytes streamed from a held result.
type resultBytes struct {
	mu  sync.Mutex
	sum int64
}

func (r *resultBytes) add(query string, n, max int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.sum += n
	if max > 0 && r.sum > max {
		return errResultTooLarge(query, max)
	}
	return nil
}

func errResultTooLarge(query string, max int64) error {
	return qerr.New(qerr.ResourceExhausted,
		"the result of query %s exceeds %d bytes over all its partitions (--max-result-bytes): the query ended; add a LIMIT or aggregate", query, max)
}

// takeSlot takes one of the node's task slots for a fetch, so that a
// flood of fetches queues instead of oversubscribing the node; release
// gives it back (once).
func takeSlot(ctx context.Context, slots chan struct{}) (release func(), err error) {
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	var once sync.Once
	return func() { once.Do(func() { <-slots }) }, nil
}

// fetchTracker counts the partitions still to fetch and closes all when
// every one was fetched once.
type fetchTracker struct {
	mu      sync.Mutex
	fetched []bool
	left    int
	all     chan struct{}
}

func newFetchTracker(n int) *fetchTracker {
	return &fetchTracker{fetched: make([]bool, n), left: n, all: make(chan struct{})}
}

func (f *fetchTracker) done(p int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p < 0 || p >= len(f.fetched) || f.fetched[p] {
		return
	}
	f.fetched[p] = true
	if f.left--; f.left == 0 {
		close(f.all)
	}
}

// heldStream is a fetched partition: it reports its end once (nil at
// EOF, an error when it failed or was closed early) and turns a panic of
// the partition's operators into an error of this fetch only.
type heldStream struct {
	in     execution.Stream
	ctx    context.Context // the fetch's: ends with the client or the query
	cancel context.CancelFunc
	rows   int64
	report func(rows int64, err error)
	once   sync.Once
}

var errFetchStopped = errors.New("the client stopped reading the partition before its end")

func (h *heldStream) Schema() *arrow.Schema { return h.in.Schema() }

func (h *heldStream) Next(_ context.Context) (b arrow.RecordBatch, err error) {
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, panicError(r)
		}
		if err != nil {
			if errors.Is(err, execution.EOF) {
				h.end(nil)
			} else {
				h.end(err)
			}
		}
	}()
	b, err = h.in.Next(h.ctx)
	if err == nil {
		h.rows += b.NumRows()
	}
	return b, err
}

func (h *heldStream) end(err error) {
	h.once.Do(func() { h.report(h.rows, err) })
}

func (h *heldStream) Close() error {
	h.end(errFetchStopped)
	h.cancel()
	return h.in.Close()
}

// --- a node without distribution ---

// localHolds are the results held by a Scheduler without distribution.
type localHolds struct {
	mu sync.Mutex
	m  map[string]*localHeld
}

type localHeld struct {
	id      string
	q       *runningQuery
	ctx     context.Context
	final   *stages.Stage
	schema  *arrow.Schema
	fetches *fetchTracker
	bytes   resultBytes
	end     chan struct{}
	once    sync.Once
}

func (h *localHolds) hold(ctx context.Context, s *Scheduler, job *Job, opts HoldOptions) (*Held, bool, error) {
	graph := job.Graph.Stages
	schemas := map[int]*arrow.Schema{}
	for _, st := range graph {
		schemas[st.ID] = st.Root.Schema()
	}
	qctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	q := &runningQuery{s: s, job: job, shuffle: NewLocalShuffle(schemas), cancel: cancel, done: make(chan struct{})}
	close(q.done)
	stop := context.AfterFunc(ctx, cancel)
	defer stop()
	consumers := map[int]int{}
	for _, st := range graph {
		for _, in := range st.Inputs {
			consumers[in]++
		}
	}
	producers, ended := 0, 0
	for _, st := range graph[:len(graph)-1] {
		producers += st.Partitions
	}
	if opts.Progress != nil {
		opts.Progress(0, producers)
	}
	for _, st := range graph[:len(graph)-1] {
		err := q.runStage(qctx, st, false)
		if q.err != nil {
			err = q.err
		}
		if err == nil && ctx.Err() != nil {
			err = ctx.Err()
		}
		if err != nil {
			cancel()
			q.shuffle.Release()
			return nil, true, err
		}
		for _, in := range st.Inputs {
			if consumers[in]--; consumers[in] == 0 {
				q.shuffle.ReleaseStage(in)
			}
		}
		if ended += st.Partitions; opts.Progress != nil {
			opts.Progress(ended, producers)
		}
	}
	final := job.Graph.Final()
	lh := &localHeld{id: job.QueryID, q: q, ctx: qctx, final: final, schema: opts.Schema,
		fetches: newFetchTracker(final.Partitions), end: make(chan struct{})}
	h.mu.Lock()
	if h.m == nil {
		h.m = map[string]*localHeld{}
	}
	h.m[lh.id] = lh
	h.mu.Unlock()
	go func() {
		t := time.NewTimer(opts.TTL)
		defer t.Stop()
		select {
		case <-lh.fetches.all:
		case <-t.C:
			job.Log.Info("held result not fully fetched within its TTL: freed", zap.Duration("ttl", opts.TTL))
		case <-qctx.Done():
		}
		h.finish(lh)
	}()
	return &Held{Query: lh.id, Places: make([]string, final.Partitions), Done: lh.end}, true, nil
}

func (h *localHolds) finish(lh *localHeld) {
	lh.once.Do(func() {
		h.mu.Lock()
		delete(h.m, lh.id)
		h.mu.Unlock()
		lh.q.cancel()
		lh.q.shuffle.Release()
		close(lh.end)
	})
}

func (h *localHolds) get(id string) *localHeld {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.m[id]
}

func (h *localHolds) open(ctx context.Context, ref ResultRef, alloc *execution.QueryAllocator) (*arrow.Schema, execution.Stream, error) {
	lh := h.get(ref.Query)
	if lh == nil {
		return nil, nil, errResultGone(ref.Query)
	}
	if ref.Partition < 0 || ref.Partition >= lh.final.Partitions {
		return nil, nil, qerr.New(qerr.InvalidArgument, "query %s has no result partition %d", ref.Query, ref.Partition)
	}
	release, err := takeSlot(ctx, lh.q.s.slots)
	if err != nil {
		return nil, nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(lh.ctx, cancel)
	tc := &execution.TaskContext{
		QueryID: lh.id, Stage: lh.final.ID, Partition: ref.Partition, Alloc: alloc,
		Log: lh.q.job.Log.With(zap.Int("stage", lh.final.ID), zap.Int("task", ref.Partition)), Shuffle: lh.q.shuffle,
	}
	stream, err := lh.final.Root.Execute(fctx, ref.Partition, tc)
	if err != nil {
		stop()
		cancel()
		release()
		return nil, nil, err
	}
	return lh.schema, &heldStream{in: stream, ctx: fctx, cancel: func() { stop(); cancel(); release() }, report: func(_ int64, err error) {
		if err == nil {
			lh.fetches.done(ref.Partition)
		}
	}}, nil
}

func (h *localHolds) cancel(id string) {
	if lh := h.get(id); lh != nil {
		h.finish(lh)
	}
}

// --- across the cluster (Dist) ---

// holdState is the held part of a dquery (nil for a streamed one).
type holdState struct {
	opts      HoldOptions
	schemaIPC []byte
	ready     chan struct{} // closed when the producers ran and stage is set
	stage     *stages.Stage
	fetches   *fetchTracker
	bytes     resultBytes

	mu      sync.Mutex
	running map[[2]int]*taskRecord // (partition, attempt) → system.tasks record
}

// resultTask is the reply of result-fragment: what a node needs to run
// one final-stage partition (Error set when it cannot).
type resultTask struct {
	Stage       int
	Attempt     int
	Fragment    []byte
	Inputs      []ShuffleLocation
	Schema      []byte // Arrow IPC schema message of HoldOptions.Schema
	MemoryLimit int64
	Error       string `json:",omitempty"`
	Kind        int    `json:",omitempty"`
}

type resultRequest struct {
	Query     string
	Partition int
	Node      string // the fetching node
	Addr      string // its internal address
}

type resultDone struct {
	Query     string
	Partition int
	Attempt   int
	Rows      int64
	Error     string           `json:",omitempty"`
	Fetch     *ShuffleLocation `json:",omitempty"` // the fetch failed reading this input
}

func (d *Dist) hold(ctx context.Context, job *Job, opts HoldOptions) (*Held, bool, error) {
	graph := job.Graph.Stages
	frags := make([][]byte, len(graph))
	for _, st := range graph {
		if readsSystemTable(st.Root) {
			return nil, false, nil
		}
		b, err := EncodePlan(st.Root)
		if err != nil {
			d.log.Info("result stays one stream on this node: fragment codec", zap.Error(err))
			return nil, false, nil
		}
		frags[st.ID] = b
	}
	d.mu.Lock()
	closed := d.closed
	d.mu.Unlock()
	if closed {
		return nil, false, nil
	}
	hs := &holdState{opts: opts, ready: make(chan struct{}), fetches: newFetchTracker(job.Graph.Final().Partitions),
		running: map[[2]int]*taskRecord{}, schemaIPC: flight.SerializeSchema(opts.Schema, memory.DefaultAllocator)}
	// The query outlives this call (it waits for the fetches); ctx only
	// bounds the producer stages.
	q := d.newQuery(context.WithoutCancel(ctx), job, frags)
	q.hold = hs
	places := d.placeResults(job.Graph.Final().Partitions)
	go q.run()
	if opts.Progress != nil {
		go q.reportProgress(opts.Progress)
	}
	stop := context.AfterFunc(ctx, func() { q.fail(qerr.New(qerr.Canceled, "query canceled")) })
	select {
	case <-hs.ready:
	case <-q.done:
	}
	if !stop() && ctx.Err() != nil {
		<-q.done
		return nil, true, ctx.Err()
	}
	select {
	case <-hs.ready:
	default:
		<-q.done
		if err := q.error(); err != nil {
			return nil, true, err
		}
		return nil, true, errors.New("internal: held query ended before its result was ready")
	}
	return &Held{Query: q.id, Coordinator: d.cfg.NodeName, CoordinatorAddr: d.selfAddr(), Places: places, Done: q.done}, true, nil
}

// reportProgress tells progress the producer tasks that ended, until the
// result is ready (from the query's system.tasks records).
func (q *dquery) reportProgress(progress func(done, total int)) {
	final := q.job.Graph.Final().ID
	total := 0
	for _, st := range q.job.Graph.Stages {
		if st.ID != final {
			total += st.Partitions
		}
	}
	progress(0, total)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-q.hold.ready:
			progress(total, total)
			return
		case <-q.done:
			return
		case <-t.C:
		}
		ended := map[[2]int]bool{}
		q.d.mu.Lock()
		for _, tr := range q.rec.tasks {
			if tr.Stage != final && tr.State == "succeeded" {
				ended[[2]int{tr.Stage, tr.Partition}] = true
			}
		}
		q.d.mu.Unlock()
		progress(min(len(ended), total), total)
	}
}

// holdFinal is the final stage of a held query: it waits until every
// partition was fetched, the TTL passed or the query was canceled.
func (q *dquery) holdFinal(st *stages.Stage) error {
	h := q.hold
	h.stage = st
	close(h.ready)
	t := time.NewTimer(h.opts.TTL)
	defer t.Stop()
	select {
	case <-h.fetches.all:
		return nil
	case <-t.C:
		return qerr.New(qerr.Canceled, "the result was not fetched within %s (the result TTL): freed", h.opts.TTL)
	case <-q.ctx.Done():
		if err := q.error(); err != nil {
			return err
		}
		return q.ctx.Err()
	}
}

// placeResults spreads n partitions over the live members, balanced by
// cores. (The inputs of a final-stage partition come from every producer
// node alike, so there is no locality to prefer.)
func (d *Dist) placeResults(n int) []string {
	var nodes []Node
	for _, m := range d.cfg.Members() {
		if m.State.Live() && !m.Leaving && m.FlightAddr != "" && !d.isUnreachable(m.Name) {
			nodes = append(nodes, m)
		}
	}
	places := make([]string, n)
	if len(nodes) == 0 {
		return places
	}
	sort.Slice(nodes, func(i, j int) bool { return nodes[i].Name < nodes[j].Name })
	given := make([]int, len(nodes))
	for p := range places {
		best := 0
		for i, m := range nodes {
			if float64(given[i]+1)/float64(max(m.Cores, 1)) < float64(given[best]+1)/float64(max(nodes[best].Cores, 1)) {
				best = i
			}
		}
		given[best]++
		if nodes[best].Name != d.cfg.NodeName {
			places[p] = nodes[best].FlightAddr
		}
	}
	return places
}

func (d *Dist) selfAddr() string {
	for _, m := range d.cfg.Members() {
		if m.Name == d.cfg.NodeName {
			return m.InternalAddr
		}
	}
	return ""
}

func (d *Dist) heldQuery(id string) *dquery {
	d.mu.Lock()
	defer d.mu.Unlock()
	if q := d.queries[id]; q != nil && q.hold != nil {
		return q
	}
	return nil
}

// fragment hands out final-stage partition p to node (coordinator side).
func (q *dquery) fragment(p int, node, addr string) (resultTask, error) {
	h := q.hold
	select {
	case <-h.ready:
	case <-q.ctx.Done():
		return resultTask{}, errResultGone(q.id)
	}
	st := h.stage
	if p < 0 || p >= st.Partitions {
		return resultTask{}, qerr.New(qerr.InvalidArgument, "query %s has no result partition %d", q.id, p)
	}
	if err := q.ensureInputs(st); err != nil {
		return resultTask{}, err
	}
	inputs, ok := q.inputLocations(st)
	if !ok {
		return resultTask{}, qerr.New(qerr.Unavailable, "the inputs of result partition %d of query %s were lost again: fetch it again", p, q.id)
	}
	k := [2]int{st.ID, p}
	q.mu.Lock()
	attempt := q.attempts[k]
	q.attempts[k]++
	if node != q.d.cfg.NodeName && addr != "" {
		q.used[node] = addr // its fetch is stopped when the query ends
	}
	q.mu.Unlock()
	tr := q.d.recordTask(q.rec, st.ID, p, attempt, node)
	h.mu.Lock()
	h.running[[2]int{p, attempt}] = tr
	h.mu.Unlock()
	return resultTask{Stage: st.ID, Attempt: attempt, Fragment: q.frags[st.ID], Inputs: inputs, Schema: h.schemaIPC,
		MemoryLimit: q.d.cfg.QueryMemoryLimit}, nil
}

// fetched records the end of one fetch (coordinator side).
func (q *dquery) fetched(r resultDone) {
	h := q.hold
	h.mu.Lock()
	tr := h.running[[2]int{r.Partition, r.Attempt}]
	delete(h.running, [2]int{r.Partition, r.Attempt})
	h.mu.Unlock()
	var err error
	if r.Error != "" {
		err = errors.New(r.Error)
	}
	if tr != nil {
		q.d.endTask(tr, taskResult{Rows: r.Rows}, err)
	}
	if r.Fetch != nil {
		q.markLost(*r.Fetch) // recomputed by the next fetch
	}
	if err == nil {
		node := ""
		if tr != nil {
			node = tr.Node
		}
		q.log.Info("result partition fetched", zap.Int("partition", r.Partition), zap.String("node", node), zap.Int64("rows", r.Rows))
		h.fetches.done(r.Partition)
	}
}

func (d *Dist) openResult(ctx context.Context, ref ResultRef, alloc *execution.QueryAllocator) (*arrow.Schema, execution.Stream, error) {
	var (
		rt     resultTask
		root   physical.Plan
		schema *arrow.Schema
		err    error
	)
	self := d.cfg.NodeName
	if ref.Coordinator == self {
		q := d.heldQuery(ref.Query)
		if q == nil {
			return nil, nil, errResultGone(ref.Query)
		}
		if rt, err = q.fragment(ref.Partition, self, ""); err != nil {
			return nil, nil, err
		}
		root, schema = q.hold.stage.Root, q.hold.opts.Schema
	} else {
		body, _ := json.Marshal(resultRequest{Query: ref.Query, Partition: ref.Partition, Node: self, Addr: d.selfAddr()})
		var reply []byte
		if err := d.callAction(ctx, ref.CoordinatorAddr, ActionResultFragment, body, &reply); err != nil {
			if ctx.Err() != nil {
				return nil, nil, ctx.Err()
			}
			d.log.Warn("fetching a result partition: coordinator unreachable", zap.String("query_id", ref.Query), zap.String("coordinator", ref.Coordinator), zap.String("addr", ref.CoordinatorAddr), zap.Error(err))
			return nil, nil, qerr.New(qerr.Unavailable, "the coordinator of query %s (node %s) holding its result cannot be reached", ref.Query, ref.Coordinator)
		}
		if err := json.Unmarshal(reply, &rt); err != nil {
			return nil, nil, qerr.Wrap(qerr.Internal, err, "malformed result-fragment reply from node %s", ref.Coordinator)
		}
		if rt.Error != "" {
			return nil, nil, qerr.New(qerr.Kind(rt.Kind), "%s", rt.Error)
		}
		if root, err = DecodePlan(ctx, rt.Fragment, CatalogResolver(d.cfg.Catalog)); err != nil {
			d.reportFetch(ref, resultDone{Query: ref.Query, Partition: ref.Partition, Attempt: rt.Attempt, Error: err.Error()})
			return nil, nil, err
		}
		if schema, err = flight.DeserializeSchema(rt.Schema, memory.DefaultAllocator); err != nil {
			d.reportFetch(ref, resultDone{Query: ref.Query, Partition: ref.Partition, Attempt: rt.Attempt, Error: err.Error()})
			return nil, nil, qerr.Wrap(qerr.Internal, err, "result schema from node %s", ref.Coordinator)
		}
	}
	report := func(rows int64, err error) {
		r := resultDone{Query: ref.Query, Partition: ref.Partition, Attempt: rt.Attempt, Rows: rows}
		if err != nil {
			r.Error = err.Error()
			var fe *FetchError
			if errors.As(err, &fe) {
				loc := fe.Loc
				r.Fetch = &loc
			}
		}
		d.reportFetch(ref, r)
	}
	release, err := takeSlot(ctx, d.cfg.Local.slots)
	if err != nil {
		report(0, err)
		return nil, nil, err
	}
	fctx, cancel := context.WithCancel(ctx)
	if err := d.trackTask(ref.Query, ref.Coordinator, &cancel); err != nil {
		cancel()
		release()
		report(0, err)
		return nil, nil, qerr.Wrap(qerr.Unavailable, err, "node %s cannot serve the result partition", self)
	}
	untrack := func() { cancel(); d.untrackTask(ref.Query, &cancel); release() }
	log := d.log.With(zap.String("query_id", ref.Query), zap.Int("stage", rt.Stage), zap.Int("task", ref.Partition), zap.Int("attempt", rt.Attempt))
	log.Info("serving result partition", zap.String("coordinator", ref.Coordinator))
	t := &taskRun{query: ref.Query, stage: rt.Stage, partition: ref.Partition, attempt: rt.Attempt,
		root: root, inputs: rt.Inputs, alloc: alloc, log: log}
	ts := &taskShuffle{d: d, t: t, schemas: map[int]*arrow.Schema{}}
	collectReadSchemas(root, ts.schemas)
	tc := &execution.TaskContext{QueryID: t.query, Stage: t.stage, Partition: t.partition, Alloc: alloc, Log: log, Shuffle: ts}
	stream, err := root.Execute(fctx, ref.Partition, tc)
	if err != nil {
		untrack()
		report(0, err)
		return nil, nil, err
	}
	return schema, &heldStream{in: stream, ctx: fctx, cancel: untrack, report: report}, nil
}

// reportFetch tells the coordinator a fetch ended.
func (d *Dist) reportFetch(ref ResultRef, r resultDone) {
	if ref.Coordinator == d.cfg.NodeName {
		if q := d.heldQuery(ref.Query); q != nil {
			q.fetched(r)
		}
		return
	}
	body, _ := json.Marshal(r)
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.callAction(ctx, ref.CoordinatorAddr, ActionResultDone, body, nil); err != nil {
			d.log.Warn("reporting a result partition's fetch to its coordinator", zap.String("query_id", ref.Query), zap.Error(err))
		}
	}()
}

// addResultBytes counts a fetch's streamed bytes at the coordinator.
func (d *Dist) addResultBytes(ctx context.Context, ref ResultRef, n, max int64) error {
	if ref.Coordinator == d.cfg.NodeName {
		return d.countResultBytes(resultBytesReq{Query: ref.Query, Bytes: n, Max: max})
	}
	body, _ := json.Marshal(resultBytesReq{Query: ref.Query, Bytes: n, Max: max})
	var reply []byte
	if err := d.callAction(ctx, ref.CoordinatorAddr, ActionResultBytes, body, &reply); err != nil {
		d.log.Warn("counting result bytes: coordinator unreachable", zap.String("query_id", ref.Query), zap.String("coordinator", ref.Coordinator), zap.Error(err))
		return qerr.New(qerr.Unavailable, "the coordinator of query %s (node %s) cannot be reached", ref.Query, ref.Coordinator)
	}
	if len(reply) > 0 && string(reply) != "ok" {
		var rt resultTask
		if err := json.Unmarshal(reply, &rt); err == nil && rt.Error != "" {
			return qerr.New(qerr.Kind(rt.Kind), "%s", rt.Error)
		}
	}
	return nil
}

type resultBytesReq struct {
	Query string
	Bytes int64
	Max   int64
}

// countResultBytes adds to a held query's streamed bytes and ends the
// query when they pass the limit (coordinator side).
func (d *Dist) countResultBytes(r resultBytesReq) error {
	q := d.heldQuery(r.Query)
	if q == nil {
		return errResultGone(r.Query)
	}
	if err := q.hold.bytes.add(r.Query, r.Bytes, r.Max); err != nil {
		q.fail(err)
		return err
	}
	return nil
}

func (d *Dist) cancelResult(ctx context.Context, ref ResultRef) error {
	if ref.Coordinator == d.cfg.NodeName {
		if q := d.heldQuery(ref.Query); q != nil {
			q.fail(qerr.New(qerr.Canceled, "the result was canceled by the client"))
		}
		return nil
	}
	return d.callAction(ctx, ref.CoordinatorAddr, ActionResultCancel, []byte(ref.Query), nil)
}

// handleResultAction serves the held-result actions (coordinator side);
// handled=false for other action types.
func (d *Dist) handleResultAction(typ string, body []byte) (reply []byte, handled bool, err error) {
	switch typ {
	case ActionResultFragment:
		var r resultRequest
		if err := strictJSON(body, &r); err != nil {
			return nil, true, err
		}
		var rt resultTask
		q := d.heldQuery(r.Query)
		if q == nil {
			err = errResultGone(r.Query)
		} else {
			rt, err = q.fragment(r.Partition, r.Node, r.Addr)
		}
		if err != nil {
			rt = resultTask{Error: err.Error(), Kind: int(qerr.KindOf(err))}
		}
		reply, err = json.Marshal(rt)
		return reply, true, err
	case ActionResultDone:
		var r resultDone
		if err := strictJSON(body, &r); err != nil {
			return nil, true, err
		}
		if q := d.heldQuery(r.Query); q != nil {
			q.fetched(r)
		}
		return []byte("ok"), true, nil
	case ActionResultBytes:
		var r resultBytesReq
		if err := strictJSON(body, &r); err != nil {
			return nil, true, err
		}
		if err := d.countResultBytes(r); err != nil {
			reply, err = json.Marshal(resultTask{Error: err.Error(), Kind: int(qerr.KindOf(err))})
			return reply, true, err
		}
		return []byte("ok"), true, nil
	case ActionResultCancel:
		if q := d.heldQuery(string(body)); q != nil {
			q.fail(qerr.New(qerr.Canceled, "the result was canceled by the client"))
		}
		return []byte("ok"), true, nil
	}
	return nil, false, nil
}

func strictJSON(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("malformed held-result request: %w", err)
	}
	return nil
}
