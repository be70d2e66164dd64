package cluster

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/planner/physical"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// Distributed scheduling. The node that received a query coordinates it:
// every producer stage's tasks (stage, partition, attempt) go to live
// members by free slots — this node's run in-process, others' are sent as
// DoAction "run-task" (TaskSpec with the encoded stage fragment and the
// locations of the input stages' outputs) over the internal Flight service
// and answer when the task ended, with its status and metrics. A producer's
// output stays on the node that ran it (ShuffleStore); consumers pull each
// partition with DoGet from every producer's node (local ones are read
// directly). Stages run as a DAG: a stage starts once its inputs
// succeeded. The final stage's partitions run on any node and push
// their rows to the coordinator over the internal DoPut (result_push.go),
// which streams them to the client; a single-partition final stage runs on
// the coordinator. A held query (per-partition endpoints,
// dscheduler_results.go) runs no final stage itself: each partition runs
// when a client fetches it. Failed tasks are retried on another node;
// output lost with a node (or a failed fetch) is recomputed from its inputs
// (lineage).

// Internal Flight action types.
const (
	ActionRunTask     = "run-task"
	ActionCancelQuery = "cancel-query"
)

// DefaultMaxAttempts is how many times a task runs before its query fails.
const DefaultMaxAttempts = 4

// DistConfig configures distributed scheduling on one node.
type DistConfig struct {
	NodeName string
	// Instance and Started identify this node's process (NodeMeta): sent
	// with every task, so that peers can drop the work of an instance a
	// restart replaced. Optional (tests): peers then know it by name only.
	Instance string
	Started  time.Time
	// Members returns the members that take tasks, this node included
	// (Membership.Members).
	Members func() []Node
	// Subscribe registers for membership events (Membership.Subscribe);
	// optional: without it lost nodes are found by failed calls.
	Subscribe func(func(Event)) (unsubscribe func())
	// Dial returns a client of a node's internal Flight service (with the
	// cluster credentials). Clients are cached per address.
	Dial func(ctx context.Context, addr string) (flight.FlightServiceClient, error)
	// Catalog resolves the tables of received fragments; system.queries and
	// system.tasks are registered in it.
	Catalog *catalog.Catalog
	// Local is this node's scheduler: its slots bound the tasks running
	// here, and it runs the queries that stay on this node.
	Local   *Scheduler
	WorkDir string // shuffle spill files go under WorkDir/shuffle/<node>
	// RemoveWorkDir removes all of WorkDir at Close (a default temporary
	// work dir); otherwise only WorkDir/shuffle/<node> goes.
	RemoveWorkDir      bool
	ShuffleMemory      int64  // in-memory shuffle budget of the node (bytes)
	ShuffleCompression string // lz4 | zstd | none
	QueryMemoryLimit   int64  // per query on a worker, <= 0 unlimited
	MaxAttempts        int    // default DefaultMaxAttempts
	// UnreachableCooldown is how long a node that refused a connection
	// (dial error, Unavailable) gets no tasks of new queries; the query
	// that saw the failure never uses it again. Default
	// DefaultUnreachableCooldown.
	UnreachableCooldown time.Duration
	Log                 *zap.Logger
}

// Dist is one node's distributed scheduler: coordinator of the queries it
// receives and worker for the tasks peers send it. Install it with
// Scheduler.SetDistributor; serve its DoGet and DoAction handlers on the
// internal Flight service.
type Dist struct {
	cfg   DistConfig
	log   *zap.Logger
	store *ShuffleStore
	unsub func()
	lock  *workDirLock
	// shuffleDir is WorkDir/shuffle/<node>, this node's own.
	shuffleDir string
	wg         sync.WaitGroup
	done       chan struct{}

	// afterStage, when set (tests), runs after each producer stage.
	afterStage func(query string, stage int)
	// taskHook, when set (tests), runs as each task attempt the
	// coordinator placed starts (start) and ends.
	taskHook func(query string, stage, partition int, start bool)
	// workerHook, when set (tests), runs as a peer's task starts here
	// (counted in NodeTasks).
	workerHook func(query string, stage, partition int)

	mu      sync.Mutex
	clients map[string]flight.FlightServiceClient
	queries map[string]*dquery      // coordinated here, running
	work    map[string]*workerQuery // queries this node runs tasks of
	records []*queryRecord          // coordinated here, running and recent
	ran     []*workerTaskRecord     // tasks run here for peers, running and recent
	closed  bool

	draining    bool                 // leaving: new tasks are refused
	unreachable map[string]time.Time // node → until when it gets no tasks
	gone        map[coordRef]bool    // coordinators gossip reports dead or left, or replaced by a restart: their tasks are refused
	sent        map[string]int64     // run-task calls sent per node (tests, metrics)
	placed      map[string]int       // node → tasks this node's queries run there (dscheduler_load.go)
	loads       map[string]peerLoad  // peer → tasks others run there, as last reported

	peers peerCalls // calls outstanding to each peer

	mem execution.NodeMemory // allocators of the tasks run here for peers (system.nodes)
}

type workerQuery struct {
	coordinator string
	instance    string // the coordinator's instance ("" if not sent)
	tasks       map[*context.CancelFunc]struct{}
}

const recentQueries = 200

// NewDist creates the distributed scheduler of a node.
func NewDist(cfg DistConfig) (*Dist, error) {
	if cfg.NodeName == "" || cfg.Members == nil || cfg.Dial == nil || cfg.Local == nil || cfg.Catalog == nil {
		return nil, errors.New("dist: NodeName, Members, Dial, Local and Catalog are required")
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = DefaultMaxAttempts
	}
	if cfg.UnreachableCooldown <= 0 {
		cfg.UnreachableCooldown = DefaultUnreachableCooldown
	}
	if cfg.WorkDir == "" {
		return nil, errors.New("dist: a work directory (--work-dir) is required")
	}
	if _, err := compressionOption(cfg.ShuffleCompression); err != nil {
		return nil, err
	}
	shuffleDir := filepath.Join(cfg.WorkDir, "shuffle", safeName(cfg.NodeName))
	lock, err := claimShuffleDir(shuffleDir)
	if err != nil {
		return nil, err
	}
	store, err := NewShuffleStore(shuffleDir, cfg.ShuffleMemory, cfg.ShuffleCompression)
	if err != nil {
		lock.release(shuffleDir, cfg.WorkDir, false) //nolint:errcheck
		return nil, err
	}
	d := &Dist{
		cfg: cfg, log: cfg.Log, store: store, done: make(chan struct{}), lock: lock, shuffleDir: shuffleDir,
		clients: map[string]flight.FlightServiceClient{}, queries: map[string]*dquery{}, work: map[string]*workerQuery{},
		unreachable: map[string]time.Time{}, sent: map[string]int64{}, gone: map[coordRef]bool{},
		placed: map[string]int{}, loads: map[string]peerLoad{},
	}
	if cfg.Subscribe != nil {
		d.unsub = cfg.Subscribe(d.onEvent)
	}
	if err := d.registerSystemTables(); err != nil {
		if d.unsub != nil {
			d.unsub()
		}
		lock.release(shuffleDir, cfg.WorkDir, false) //nolint:errcheck
		return nil, err
	}
	return d, nil
}

// Store is the node's shuffle store.
func (d *Dist) Store() *ShuffleStore { return d.store }

// Close cancels the work this node does for others, waits for background
// cleanup and drops all shuffle data.
func (d *Dist) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	for _, q := range d.queries {
		q.fail(errors.New("node shutting down"))
	}
	for _, wq := range d.work {
		for c := range wq.tasks {
			(*c)()
		}
	}
	d.mu.Unlock()
	if d.unsub != nil {
		d.unsub()
	}
	close(d.done)
	d.wg.Wait()
	d.store.Close()
	if err := d.lock.release(d.shuffleDir, d.cfg.WorkDir, d.cfg.RemoveWorkDir); err != nil {
		d.log.Warn("removing the work dir", zap.Error(err))
	}
	return nil
}

func (d *Dist) client(ctx context.Context, addr string) (flight.FlightServiceClient, error) {
	d.mu.Lock()
	c := d.clients[addr]
	d.mu.Unlock()
	if c != nil {
		return c, nil
	}
	c, err := d.cfg.Dial(ctx, addr)
	if err != nil {
		return nil, &errDial{err}
	}
	d.mu.Lock()
	if old := d.clients[addr]; old != nil {
		c = old
	} else {
		d.clients[addr] = c
	}
	d.mu.Unlock()
	return c, nil
}

// onEvent reacts to membership changes: output on a node that died is
// lost (its producers run again when a consumer needs them); work done
// here for a coordinator that died is dropped.
func (d *Dist) onEvent(ev Event) {
	if ev.Type == EventJoin {
		// Came back (a restart): it may take tasks again at once.
		d.mu.Lock()
		delete(d.unreachable, ev.Node.Name)
		d.mu.Unlock()
		d.rejoined(ev.Node)
		return
	}
	if ev.Type != EventFail && ev.Type != EventLeave {
		return
	}
	name := ev.Node.Name
	if ev.Type == EventFail {
		// Declared dead (silent or crashed): calls still waiting on it
		// end now and take the unreachable-node path.
		d.peerDown(name, "declared dead by gossip")
	}
	d.mu.Lock()
	qs := make([]*dquery, 0, len(d.queries))
	for _, q := range d.queries {
		qs = append(qs, q)
	}
	d.mu.Unlock()
	for _, q := range qs {
		q.nodeLost(name)
	}
	d.coordinatorGone(ev.Node, ev.Type.String())
}

// RunDistributed implements Distributor: with peers, producer stages run
// across the cluster. Plans that read this node's system tables, or that
// the fragment codec cannot encode, stay local.
func (d *Dist) RunDistributed(ctx context.Context, job *Job) (execution.Stream, bool, error) {
	members := d.cfg.Members()
	if len(members) < 2 || len(job.Graph.Stages) < 2 {
		return nil, false, nil
	}
	graph := job.Graph.Stages
	frags := make([][]byte, len(graph))
	for _, st := range graph {
		if readsSystemTable(st.Root) {
			return nil, false, nil
		}
	}
	for _, st := range graph[:len(graph)-1] {
		b, err := EncodePlan(st.Root)
		if err != nil {
			d.log.Info("plan stays on this node: fragment codec", zap.Error(err))
			return nil, false, nil
		}
		frags[st.ID] = b
	}
	// The final stage's tasks may run on peers (pushing their rows here);
	// a plan the codec cannot ship runs here.
	if b, err := EncodePlan(job.Graph.Final().Root); err == nil {
		frags[job.Graph.Final().ID] = b
	}
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil, false, nil
	}
	d.mu.Unlock()
	q := d.newQuery(ctx, job, frags)
	go q.run()
	return &queryStream{schema: job.Graph.Final().Root.Schema(), out: q.out, done: q.done, err: q.error,
		stop: func() { q.fail(qerr.New(qerr.Canceled, "query canceled")) }}, true, nil
}

// Slots is the number of task slots of the cluster: the cores of the live
// members that take tasks, this node included; 0 without peers (a query
// then runs here, on this node's own slots).
func (d *Dist) Slots() int {
	n, slots := 0, 0
	for _, m := range d.cfg.Members() {
		if d.placeable(m) {
			n++
			slots += max(m.Cores, 1)
		}
	}
	if n < 2 {
		return 0
	}
	return slots
}

// placeable reports whether node may get tasks: live, not leaving, and
// reachable (peers need an internal address and must not be in their
// unreachable cooldown).
func (d *Dist) placeable(n Node) bool {
	return n.State.Live() && !n.Leaving && (n.Name == d.cfg.NodeName || n.InternalAddr != "" && !d.isUnreachable(n.Name))
}

func readsSystemTable(p physical.Plan) bool {
	switch n := p.(type) {
	case *physical.MemoryScan:
		return true
	case *physical.Scan:
		if n.Table != nil && n.Table.Kind == catalog.SystemTable {
			return true
		}
	}
	for _, c := range p.Children() {
		if readsSystemTable(c) {
			return true
		}
	}
	return false
}

// --- worker side ---

// taskResult is the answer to run-task (planpb.TaskResult on the wire).
type taskResult struct {
	Rows      int64
	Bytes     int64
	ReadBytes int64 // shuffle input read
	ElapsedMs int64
	Error     string
	Kind      int
	Fetch     *ShuffleLocation // the failure was reading this producer's output
	Refused   bool             // the node is leaving: run it elsewhere
	Ops       []OpMetric       // operator metrics, when the task asked for them
	NodeTasks int64            // tasks the node runs as it answers (every query's)
}

// DoAction is the internal Flight service's DoAction handler for the
// scheduler's actions.
func (d *Dist) DoAction(a *flight.Action, stream flight.FlightService_DoActionServer) error {
	body, err := d.HandleAction(stream.Context(), a.GetType(), a.GetBody())
	if err != nil {
		return err
	}
	return stream.Send(&flight.Result{Body: body})
}

// DoGet serves shuffle tickets.
func (d *Dist) DoGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	return d.store.ServeDoGet(t, stream)
}

// HandleAction runs one scheduler action: run-task (blocks until the task
// ended; the reply is its status and metrics) or cancel-query.
func (d *Dist) HandleAction(ctx context.Context, typ string, body []byte) ([]byte, error) {
	switch typ {
	case ActionRunTask:
		spec, err := DecodeTask(body)
		if err != nil {
			return nil, err
		}
		rec := d.workerTaskStarted(spec)
		res := d.runRemoteTask(ctx, spec)
		d.workerTaskEnded(rec, res)
		return encodeTaskResult(res)
	case ActionCancelQuery:
		d.cancelQuery(string(body))
		return []byte("ok"), nil
	case ActionReleaseStage:
		return []byte("ok"), d.releaseStageAction(body)
	}
	if reply, ok, err := d.handleResultAction(typ, body); ok {
		return reply, err
	}
	return nil, fmt.Errorf("unknown action %q", typ)
}

func (d *Dist) runRemoteTask(ctx context.Context, spec *TaskSpec) taskResult {
	start := time.Now()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if d.Draining() {
		return taskResult{Error: errNodeLeaving.Error(), Refused: true}
	}
	coord := coordRef{Name: spec.CoordinatorNode, Instance: spec.CoordinatorInstance}
	if err := d.admit(coord, spec.CoordinatorStarted); err != nil {
		return taskResult{Error: err.Error()}
	}
	if err := d.trackWork(spec.QueryID, coord, &cancel); err != nil {
		return taskResult{Error: err.Error()}
	}
	defer d.untrackTask(spec.QueryID, &cancel)
	root, err := DecodePlan(ctx, spec.Fragment, CatalogResolver(d.cfg.Catalog))
	if err != nil {
		return errResult(err, start)
	}
	log := d.log.With(zap.String("query_id", spec.QueryID), zap.Int("stage", spec.Stage), zap.Int("task", spec.Partition), zap.Int("attempt", spec.Attempt))
	t := &taskRun{
		query: spec.QueryID, stage: spec.Stage, partition: spec.Partition, attempt: spec.Attempt,
		root: root, inputs: spec.Inputs,
		alloc: execution.NewQueryAllocator(nil, spec.MemoryLimit), log: log,
	}
	d.mem.Track(t.alloc)
	defer d.mem.Settle(t.alloc)
	if spec.CollectMetrics {
		t.metrics = execution.NewMetricsSet()
	}
	if d.workerHook != nil {
		d.workerHook(spec.QueryID, spec.Stage, spec.Partition)
	}
	if spec.PushResult {
		t.push = &resultPusher{d: d, addr: spec.CoordinatorAddr,
			key: resultPushKey{Query: spec.QueryID, Stage: spec.Stage, Partition: spec.Partition, Attempt: spec.Attempt}}
	}
	rows, bytes, err := d.execTask(ctx, t)
	if err != nil {
		log.Debug("task failed", zap.Error(err))
		r := errResult(err, start)
		r.NodeTasks = d.NodeTasks()
		return r
	}
	return taskResult{Rows: rows, Bytes: bytes, ReadBytes: t.read.Load(), ElapsedMs: time.Since(start).Milliseconds(),
		Ops: operatorMetrics(root, t.metrics), NodeTasks: d.NodeTasks()}
}

func errResult(err error, start time.Time) taskResult {
	r := taskResult{Error: err.Error(), Kind: int(qerr.KindOf(err)), ElapsedMs: time.Since(start).Milliseconds()}
	var fe *FetchError
	if errors.As(err, &fe) {
		loc := fe.Loc
		r.Fetch = &loc
	}
	return r
}

// trackTask is trackWork for a coordinator known by name only.
func (d *Dist) trackTask(query, coordinator string, cancel *context.CancelFunc) error {
	return d.trackWork(query, coordRef{Name: coordinator}, cancel)
}

func (d *Dist) untrackTask(query string, cancel *context.CancelFunc) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if wq := d.work[query]; wq != nil {
		delete(wq.tasks, cancel)
	}
}

// cancelQuery stops this node's tasks of query and drops its shuffle data.
func (d *Dist) cancelQuery(query string) {
	d.mu.Lock()
	wq := d.work[query]
	delete(d.work, query)
	d.mu.Unlock()
	if wq != nil {
		for c := range wq.tasks {
			(*c)()
		}
	}
	d.store.ReleaseQuery(query)
}

// taskRun is one task as executed on a node.
type taskRun struct {
	query                     string
	stage, partition, attempt int
	root                      physical.Plan
	inputs                    []ShuffleLocation
	alloc                     *execution.QueryAllocator
	metrics                   *execution.MetricsSet
	log                       *zap.Logger
	// final stage: batches go to out (emitted is set once one was sent),
	// or, on a peer of the coordinator, to push.
	out     chan<- arrow.RecordBatch
	emitted *atomic.Bool
	push    *resultPusher
	read    atomic.Int64 // shuffle input bytes read (EXPLAIN ANALYZE)
}

// execTask runs a task on this node (for the coordinator or for a peer):
// it takes one of the node's slots, runs the stage plan for its partition
// and returns the rows and bytes it wrote to the shuffle (or sent, for the
// final stage).
func (d *Dist) execTask(ctx context.Context, t *taskRun) (rows, bytes int64, err error) {
	if t.push != nil {
		defer t.push.abort()
	}
	slots := d.cfg.Local.slots
	select {
	case slots <- struct{}{}:
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	}
	defer func() { <-slots }()
	defer func() {
		if r := recover(); r != nil {
			err = panicError(r)
			t.log.Error("task panicked", zap.Any("panic", r), zap.Stack("stack"))
		}
	}()
	ts := &taskShuffle{d: d, t: t, schemas: map[int]*arrow.Schema{}}
	collectReadSchemas(t.root, ts.schemas)
	tc := &execution.TaskContext{
		QueryID: t.query, Stage: t.stage, Partition: t.partition,
		Alloc: t.alloc, Log: t.log, Metrics: t.metrics, Shuffle: ts,
		SpillDir: d.cfg.WorkDir,
	}
	stream, err := t.root.Execute(ctx, t.partition, tc)
	if err != nil {
		return 0, 0, err
	}
	defer stream.Close()
	for {
		b, err := stream.Next(ctx)
		if errors.Is(err, execution.EOF) {
			break
		}
		if err != nil {
			return 0, 0, err
		}
		if t.out == nil && t.push == nil {
			b.Release()
			return 0, 0, fmt.Errorf("internal: producer stage %d yielded rows", t.stage)
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		rows += b.NumRows()
		if t.push != nil {
			err := t.push.write(ctx, b)
			b.Release()
			if err != nil {
				return 0, 0, err
			}
			continue
		}
		select {
		case t.out <- b:
			t.emitted.Store(true)
		case <-ctx.Done():
			b.Release()
			return 0, 0, ctx.Err()
		}
	}
	if w := ts.writer; w != nil {
		return w.Rows(), w.Bytes(), nil
	}
	if t.push != nil {
		if err := t.push.finish(); err != nil {
			return 0, 0, err
		}
	}
	return rows, 0, nil
}

func collectReadSchemas(p physical.Plan, out map[int]*arrow.Schema) {
	if r, ok := p.(*physical.ShuffleRead); ok {
		out[r.Stage] = r.Out
	}
	for _, c := range p.Children() {
		collectReadSchemas(c, out)
	}
}

// taskShuffle is the execution.Shuffle of one task: its ShuffleWrite goes
// to this node's store; its ShuffleReads pull every producer's partition
// (local ones from the store, others over DoGet).
type taskShuffle struct {
	d       *Dist
	t       *taskRun
	schemas map[int]*arrow.Schema
	writer  *StoreWriter
}

func (s *taskShuffle) Writer(ctx context.Context, stage, inputPartition int) (execution.ShuffleWriter, error) {
	if stage != s.t.stage || inputPartition != s.t.partition {
		return nil, fmt.Errorf("internal: task %d/%d writes as %d/%d", s.t.stage, s.t.partition, stage, inputPartition)
	}
	s.writer = s.d.store.Writer(OutputKey{Query: s.t.query, Stage: stage, Producer: inputPartition, Attempt: s.t.attempt}, s.t.root.Schema())
	return s.writer, nil
}

func (s *taskShuffle) Read(ctx context.Context, stage, partition int) (execution.Stream, error) {
	var locs []ShuffleLocation
	for _, l := range s.t.inputs {
		if l.Stage == stage {
			locs = append(locs, l)
		}
	}
	sort.Slice(locs, func(i, j int) bool { return locs[i].Producer < locs[j].Producer })
	schema := s.schemas[stage]
	if schema == nil {
		return nil, fmt.Errorf("internal: task reads stage %d it has no ShuffleRead of", stage)
	}
	return &concatStream{s: s, schema: schema, locs: locs, partition: partition}, nil
}

func (s *taskShuffle) open(ctx context.Context, loc ShuffleLocation, partition int) (execution.Stream, error) {
	key := OutputKey{Query: s.t.query, Stage: loc.Stage, Producer: loc.Producer, Attempt: loc.Attempt}
	if loc.NodeID == s.d.cfg.NodeName {
		st, err := s.d.store.Read(key, partition, s.t.alloc)
		if err != nil {
			return nil, &FetchError{Loc: loc, Err: err}
		}
		return st, nil
	}
	c, err := s.d.client(ctx, loc.Addr)
	if err != nil {
		return nil, &FetchError{Loc: loc, Err: err}
	}
	wctx, release := s.d.watchPeer(ctx, loc.NodeID)
	st, err := openFetch(wctx, c, s.t.query, loc, partition, s.t.alloc)
	if err != nil {
		release()
		if pd := peerDownCause(wctx); pd != nil && ctx.Err() == nil {
			return nil, &FetchError{Loc: loc, Err: pd}
		}
		return nil, err
	}
	return &watchedFetch{Stream: st, ctx: wctx, loc: loc, release: release}, nil
}

// concatStream reads the producers' partitions one after the other.
type concatStream struct {
	s         *taskShuffle
	schema    *arrow.Schema
	locs      []ShuffleLocation
	locs0     ShuffleLocation // the one being read
	partition int
	cur       execution.Stream
	closed    bool
}

func (c *concatStream) Schema() *arrow.Schema { return c.schema }

func (c *concatStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if c.cur == nil {
			if len(c.locs) == 0 {
				return nil, execution.EOF
			}
			st, err := c.s.open(ctx, c.locs[0], c.partition)
			if err != nil {
				return nil, err
			}
			c.locs0 = c.locs[0]
			c.locs = c.locs[1:]
			c.cur = st
		}
		b, err := c.cur.Next(ctx)
		if errors.Is(err, execution.EOF) {
			c.cur.Close()
			c.cur = nil
			continue
		}
		if err != nil {
			return nil, err
		}
		if b, err = withSchema(b, c.schema); err != nil {
			return nil, fmt.Errorf("internal: shuffle input of stage %d from %v: %w", c.locs0.Stage, c.locs0, err)
		}
		c.s.t.read.Add(execution.BatchBytes(b))
		return b, nil
	}
}

func (c *concatStream) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.cur != nil {
		c.cur.Close()
	}
	return nil
}

// Serve plugs the scheduler into this node's internal Flight service:
// shuffle DoGet, pushed results (DoPut), the run-task and cancel-query
// actions, and the running-task count that ping reports.
func (d *Dist) Serve(s *InternalServer) {
	s.HandleDoGet(d.DoGet)
	for _, typ := range []string{ActionRunTask, ActionCancelQuery, ActionReleaseStage, ActionResultFragment, ActionResultDone, ActionResultCancel, ActionResultBytes} {
		s.HandleAction(typ, func(ctx context.Context, body []byte) ([]byte, error) {
			return d.HandleAction(ctx, typ, body)
		})
	}
	s.HandleDoPut(d.ServeDoPut)
	s.SetLoad(d.NodeTasks)
}

// RunningTasks is the number of tasks this node runs for peers' queries.
func (d *Dist) RunningTasks() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for _, wq := range d.work {
		n += len(wq.tasks)
	}
	return int64(n)
}

// InternalDialer returns a DistConfig.Dial over Dial with the cluster's
// security (secret and optional mTLS).
func InternalDialer(sec Security) func(ctx context.Context, addr string) (flight.FlightServiceClient, error) {
	return func(ctx context.Context, addr string) (flight.FlightServiceClient, error) {
		c, err := Dial(ctx, Node{Name: addr, NodeMeta: NodeMeta{InternalAddr: addr}}, sec)
		if err != nil {
			return nil, err
		}
		return c, nil
	}
}
