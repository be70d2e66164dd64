package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/quiverdb/quiver/planner/stages"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// dquery is one query this node coordinates.
type dquery struct {
	d      *Dist
	job    *Job
	id     string // cluster-wide: coordinator node + local query id
	frags  [][]byte
	ctx    context.Context
	cancel context.CancelFunc
	out    chan arrow.RecordBatch
	done   chan struct{}
	sem    chan struct{} // the query's tasks in flight across the cluster
	rec    *queryRecord
	hold   *holdState // held result (--advertise-endpoints); nil when streamed
	log    *zap.Logger

	errMu sync.Mutex
	err   error

	mu       sync.Mutex
	locs     map[int][]*ShuffleLocation // stage → output location per producer partition (nil: none or lost)
	attempts map[[2]int]int             // (stage, partition) → attempts started
	slotMu   map[[2]int]*sync.Mutex     // serializes (re)runs of one producer task
	pushes   map[int]*pushSlot          // final partition → its attempt pushing rows here (result_push.go)
	used     map[string]string          // nodes that ran tasks → internal address
	lost     map[string]bool            // nodes gone during the query
	outBytes map[[2]int]int64           // (stage, producer) → shuffle bytes its output holds
	rr       int
}

func (d *Dist) newQuery(ctx context.Context, job *Job, frags [][]byte) *dquery {
	ctx, cancel := context.WithCancel(ctx)
	id := d.cfg.NodeName + "/" + job.QueryID
	cores := 0
	for _, n := range d.cfg.Members() {
		cores += max(n.Cores, 1)
	}
	total := 0
	for _, st := range job.Graph.Stages {
		total += st.Partitions
	}
	q := &dquery{
		d: d, job: job, id: id, frags: frags, ctx: ctx, cancel: cancel,
		out: make(chan arrow.RecordBatch, 4), done: make(chan struct{}), sem: make(chan struct{}, max(cores, 1)),
		log:  job.Log.With(zap.String("dquery", id)),
		locs: map[int][]*ShuffleLocation{}, attempts: map[[2]int]int{}, slotMu: map[[2]int]*sync.Mutex{},
		used: map[string]string{}, lost: map[string]bool{}, outBytes: map[[2]int]int64{},
	}
	for _, st := range job.Graph.Stages {
		q.locs[st.ID] = make([]*ShuffleLocation, st.Partitions)
	}
	q.rec = &queryRecord{ID: id, Coordinator: d.cfg.NodeName, Stages: len(job.Graph.Stages), Tasks: total, Started: time.Now(), State: "running",
		stageStates: make([]StageState, len(job.Graph.Stages))}
	d.mu.Lock()
	d.queries[id] = q
	d.records = append(d.records, q.rec)
	if n := len(d.records) - recentQueries; n > 0 {
		// Drop the oldest finished records.
		kept := d.records[:0]
		for _, r := range d.records {
			if n > 0 && r.finished() {
				n--
				continue
			}
			kept = append(kept, r)
		}
		d.records = kept
	}
	d.mu.Unlock()
	return q
}

// StageState is where a stage of a distributed query is: unresolved (an
// input stage has not succeeded yet) → ready → running → succeeded | failed.
type StageState int

// Stage states (system.queries shows them).
const (
	StageUnresolved StageState = iota
	StageReady
	StageRunning
	StageSucceeded
	StageFailed
)

func (s StageState) String() string {
	return [...]string{"unresolved", "ready", "running", "succeeded", "failed"}[s]
}

func (q *dquery) setStageState(stage int, s StageState) {
	q.d.mu.Lock()
	q.rec.stageStates[stage] = s
	q.d.mu.Unlock()
}

func (q *dquery) fail(err error) {
	q.errMu.Lock()
	if q.err == nil {
		q.err = err
	}
	q.errMu.Unlock()
	q.cancel()
}

func (q *dquery) error() error {
	q.errMu.Lock()
	defer q.errMu.Unlock()
	return q.err
}

// run executes the stage DAG: a stage starts once all its input stages
// have succeeded, so independent stages (the two sides of a partitioned
// join, the branches of a UNION) run at the same time; the query's and the
// nodes' slots bound how many tasks actually run. The final stage starts
// when its inputs are done. A failure cancels q.ctx, which stops every
// stage.
func (q *dquery) run() {
	defer close(q.done)
	defer close(q.out)
	defer q.finish()
	q.d.refreshLoads(q.ctx)
	graph := q.job.Graph.Stages
	gate := newStageGate(len(graph))
	ready := func(st *stages.Stage) bool {
		if !gate.wait(q.ctx, st) {
			return false
		}
		q.setStageState(st.ID, StageReady)
		return true
	}
	rel := newStageReleaser(graph) // shuffle_release.go
	var relMu sync.Mutex
	var wg sync.WaitGroup
	defer wg.Wait()
	for _, st := range graph[:len(graph)-1] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if !ready(st) || !q.runTracked(st, q.runStage) {
				return
			}
			relMu.Lock()
			done := rel.succeeded(st)
			relMu.Unlock()
			for _, in := range done {
				q.releaseStage(in)
			}
			if q.d.afterStage != nil {
				q.d.afterStage(q.id, st.ID)
			}
			gate.done(st.ID)
		}()
	}
	if final := graph[len(graph)-1]; ready(final) {
		q.runTracked(final, q.runFinal)
	}
}

// runTracked runs a ready stage, recording its state; a failure fails the
// query (false).
func (q *dquery) runTracked(st *stages.Stage, run func(*stages.Stage) error) bool {
	q.setStageState(st.ID, StageRunning)
	if err := run(st); err != nil {
		q.setStageState(st.ID, StageFailed)
		q.fail(err)
		return false
	}
	q.setStageState(st.ID, StageSucceeded)
	return true
}

// finish records the outcome and frees the query's work on every node.
func (q *dquery) finish() {
	state, msg := "succeeded", ""
	if err := q.error(); err != nil {
		state, msg = "failed", err.Error()
		if qerr.KindOf(err) == qerr.Canceled {
			state = "canceled"
		}
	}
	q.cancel()
	d := q.d
	d.mu.Lock()
	delete(d.queries, q.id)
	q.rec.State, q.rec.Error, q.rec.Ended = state, msg, time.Now()
	d.mu.Unlock()
	d.cancelQuery(q.id)
	q.mu.Lock()
	peers := map[string]string{}
	for name, addr := range q.used {
		if name != d.cfg.NodeName { // lost ones too: they may have been only slow
			peers[name] = addr
		}
	}
	q.mu.Unlock()
	for name, addr := range peers {
		d.wg.Add(1)
		go func() {
			defer d.wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := d.callAction(ctx, addr, ActionCancelQuery, []byte(q.id), nil); err != nil {
				d.log.Debug("freeing a query's work on a peer", zap.String("node", name), zap.Error(err))
			}
		}()
	}
}

func (d *Dist) callAction(ctx context.Context, addr, typ string, body []byte, reply *[]byte) error {
	c, err := d.client(ctx, addr)
	if err != nil {
		return err
	}
	st, err := c.DoAction(ctx, &flight.Action{Type: typ, Body: body})
	if err != nil {
		return err
	}
	r, err := st.Recv()
	if err != nil {
		return err
	}
	if reply != nil {
		*reply = r.GetBody()
	}
	for {
		if _, err := st.Recv(); err != nil {
			break
		}
	}
	return nil
}

// nodeLost forgets the outputs a dead node held.
func (q *dquery) nodeLost(name string) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.lost[name] = true
	for _, ls := range q.locs {
		for i, l := range ls {
			if l != nil && l.NodeID == name {
				ls[i] = nil
			}
		}
	}
}

// markLost forgets the output a fetch failed on and, since a node loses
// its outputs together (restart, disk, cleanup), the stage's other outputs
// on that node too: one retry then recomputes all of them.
func (q *dquery) markLost(loc ShuffleLocation) {
	q.mu.Lock()
	defer q.mu.Unlock()
	ls := q.locs[loc.Stage]
	if loc.Producer < len(ls) {
		cur := ls[loc.Producer]
		if cur == nil || cur.Attempt != loc.Attempt {
			return // already recomputed
		}
	}
	for i, l := range ls {
		if l != nil && l.NodeID == loc.NodeID {
			ls[i] = nil
		}
	}
}

func (q *dquery) runStage(st *stages.Stage) error {
	var wg sync.WaitGroup
	errs := make([]error, st.Partitions)
	for p := 0; p < st.Partitions; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			if err := q.runProducer(st, p); err != nil {
				errs[p] = err
				q.fail(err)
			}
		}(p)
	}
	wg.Wait()
	if err := q.error(); err != nil {
		return err
	}
	return errors.Join(errs...)
}

// runProducer makes sure producer task (st, p) has output somewhere,
// running it (again) if needed.
func (q *dquery) runProducer(st *stages.Stage, p int) error {
	k := [2]int{st.ID, p}
	q.mu.Lock()
	m := q.slotMu[k]
	if m == nil {
		m = &sync.Mutex{}
		q.slotMu[k] = m
	}
	q.mu.Unlock()
	m.Lock()
	defer m.Unlock()
	q.mu.Lock()
	have := q.locs[st.ID][p] != nil
	q.mu.Unlock()
	if have {
		return nil
	}
	return q.runTask(st, p, nil)
}

// ensureInputs re-runs producers of st's inputs whose output was lost.
func (q *dquery) ensureInputs(st *stages.Stage) error {
	for _, in := range st.Inputs {
		ist := q.job.Graph.Stages[in]
		var wg sync.WaitGroup
		errs := make([]error, ist.Partitions)
		for p := 0; p < ist.Partitions; p++ {
			q.mu.Lock()
			have := q.locs[in][p] != nil
			q.mu.Unlock()
			if have {
				continue
			}
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				q.log.Info("recomputing lost shuffle output", zap.Int("stage", in), zap.Int("task", p))
				errs[p] = q.runProducer(ist, p)
			}(p)
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
	}
	return nil
}

func (q *dquery) inputLocations(st *stages.Stage) ([]ShuffleLocation, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []ShuffleLocation
	for _, in := range st.Inputs {
		for _, l := range q.locs[in] {
			if l == nil {
				return nil, false
			}
			out = append(out, *l)
		}
	}
	return out, true
}

// retriable: failures of the node or the transport, internal errors and
// lost inputs are retried; errors in the query itself (bad values, memory
// limit, ...) fail it at once.
func retriable(err error) bool {
	var fe *FetchError
	var pd *errPeerDown
	if errors.As(err, &fe) || errors.As(err, &pd) {
		return true
	}
	if _, ok := status.FromError(err); ok && status.Code(err) != codes.OK && status.Code(err) != codes.Unknown {
		return true
	}
	var re *remoteError
	if errors.As(err, &re) {
		// Canceled there while the query goes on: the node dropped the
		// work (it thought this coordinator dead, or is shutting down).
		return re.kind == qerr.Internal || re.kind == qerr.Canceled
	}
	return qerr.KindOf(err) == qerr.Internal
}

// remoteError is a task's failure reported by the node that ran it.
type remoteError struct {
	node string
	kind qerr.Kind
	msg  string
}

func (e *remoteError) Error() string { return e.msg + " (on node " + e.node + ")" }

// runTask runs task (st, p) until it succeeds or its attempts are spent.
// For the final stage (out != nil) it runs here, and is retried only while
// it has sent no rows.
func (q *dquery) runTask(st *stages.Stage, p int, out chan<- arrow.RecordBatch) error {
	exclude := map[string]bool{}
	var lastErr error
	var emitted atomic.Bool
	fetchFailures := 0
	for try := 0; try < q.d.cfg.MaxAttempts; try++ {
		if err := q.ctx.Err(); err != nil {
			return err
		}
		if err := q.ensureInputs(st); err != nil {
			return err
		}
		inputs, ok := q.inputLocations(st)
		if !ok {
			lastErr = fmt.Errorf("inputs of stage %d lost again", st.ID)
			continue
		}
		select {
		case q.sem <- struct{}{}:
		case <-q.ctx.Done():
			return q.ctx.Err()
		}
		node, ok := q.pick(exclude, out != nil && q.finalHere(st), q.inputsMostlyOn(inputs))
		if !ok {
			<-q.sem
			return fmt.Errorf("stage %d task %d: no live node to run on", st.ID, p)
		}
		q.mu.Lock()
		q.attempts[[2]int{st.ID, p}]++
		attempt := q.attempts[[2]int{st.ID, p}] - 1
		q.used[node.Name] = node.InternalAddr
		q.mu.Unlock()
		tr := q.d.recordTask(q.rec, st.ID, p, attempt, node.Name)
		started := time.Now()
		if q.d.taskHook != nil {
			q.d.taskHook(q.id, st.ID, p, true)
		}
		res, err := q.runOn(node, st, p, attempt, inputs, out, &emitted)
		if q.d.taskHook != nil {
			q.d.taskHook(q.id, st.ID, p, false)
		}
		q.job.Tasks.add(TaskStat{Stage: st.ID, Partition: p, Attempt: attempt, Node: node.Name, Rows: res.Rows, Bytes: res.Bytes,
			ReadBytes: res.ReadBytes, Elapsed: time.Since(started), Failed: err != nil, Ops: res.Ops})
		q.d.unplace(node.Name, res.NodeTasks)
		<-q.sem
		if errors.Is(err, errNodeLeaving) && q.ctx.Err() == nil {
			// Not a failure: the node drains before leaving. Run the task
			// elsewhere (its outputs there stay readable meanwhile).
			q.mu.Lock()
			q.attempts[[2]int{st.ID, p}]--
			q.lost[node.Name] = true
			q.mu.Unlock()
			q.d.rescheduled(tr)
			try--
			continue
		}
		q.d.endTask(tr, res, err)
		if err == nil {
			if out == nil {
				q.mu.Lock()
				q.locs[st.ID][p] = &ShuffleLocation{Stage: st.ID, Producer: p, Attempt: attempt, NodeID: node.Name, Addr: node.InternalAddr}
				q.outBytes[[2]int{st.ID, p}] = res.Bytes
				q.mu.Unlock()
			}
			return nil
		}
		if q.ctx.Err() != nil {
			return q.ctx.Err()
		}
		lastErr = err
		if emitted.Load() || !retriable(err) {
			return err
		}
		var fe *FetchError
		if errors.As(err, &fe) {
			// Not the task's fault: its input is recomputed and it runs
			// again without spending an attempt (up to a bound, so a
			// producer that keeps losing its output ends the query).
			q.markLost(fe.Loc)
			if unreachableErr(fe.Err) {
				q.d.markUnreachable(fe.Loc.NodeID, fe.Err)
			}
			if fetchFailures++; fetchFailures <= 2*q.d.cfg.MaxAttempts {
				try--
			}
		} else {
			exclude[node.Name] = true
		}
		q.log.Info("task failed; retrying", zap.Int("stage", st.ID), zap.Int("task", p), zap.Int("attempt", attempt), zap.String("node", node.Name), zap.Error(err))
	}
	return fmt.Errorf("stage %d task %d failed %d times, last: %w", st.ID, p, q.d.cfg.MaxAttempts, lastErr)
}

// inputsMostlyOn returns the node holding at least half of the shuffle
// input bytes of a task reading inputs (by producer count when no bytes
// were written), or "" when none does or the task reads no shuffle input
// (scans: every node reads the same files).
func (q *dquery) inputsMostlyOn(inputs []ShuffleLocation) string {
	q.mu.Lock()
	defer q.mu.Unlock()
	var total, n int64
	byNode := map[string]int64{}
	for _, l := range inputs {
		b := q.outBytes[[2]int{l.Stage, l.Producer}]
		byNode[l.NodeID] += b
		total += b
	}
	if total == 0 {
		clear(byNode)
		for _, l := range inputs {
			byNode[l.NodeID]++
		}
		total = int64(len(inputs))
	}
	best := ""
	for node, b := range byNode {
		if b > n || b == n && node < best {
			best, n = node, b
		}
	}
	if total == 0 || 2*n < total {
		return ""
	}
	return best
}

// pick chooses where a task runs and reserves a slot there (Dist.unplace
// frees it): the coordinator when local; else the node holding most of the
// task's input (prefer) while it has a free slot (its local reads skip the
// network); else the live node with the most free slots relative to its
// cores. Slots are node-wide: a node's load counts every query's tasks on
// it (Dist.loadLocked). Nodes in exclude are avoided unless every candidate
// is.
func (q *dquery) pick(exclude map[string]bool, local bool, prefer string) (Node, bool) {
	d := q.d
	members := d.cfg.Members()
	if local {
		self := Node{Name: d.cfg.NodeName}
		for _, n := range members {
			if n.Name == d.cfg.NodeName {
				self = n
			}
		}
		d.reserve(self.Name)
		return self, true
	}
	var cands []Node
	q.mu.Lock()
	for _, n := range members {
		if !q.lost[n.Name] && d.placeable(n) {
			cands = append(cands, n)
		}
	}
	q.rr++
	rr := q.rr
	q.mu.Unlock()
	if len(cands) == 0 {
		return Node{}, false
	}
	var ok []Node
	for _, n := range cands {
		if !exclude[n.Name] {
			ok = append(ok, n)
		}
	}
	if len(ok) == 0 {
		ok = cands
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	best := -1
	for i, n := range ok {
		if n.Name == prefer && d.loadLocked(n.Name) < int64(max(n.Cores, 1)) {
			best = i
		}
	}
	if best < 0 {
		bestLoad := 0.0
		for i := range ok {
			j := (i + rr) % len(ok)
			load := float64(d.loadLocked(ok[j].Name)) / float64(max(ok[j].Cores, 1))
			if best < 0 || load < bestLoad {
				best, bestLoad = j, load
			}
		}
	}
	d.placed[ok[best].Name]++
	return ok[best], true
}

// finalHere reports whether the final stage's tasks run on the coordinator:
// when it has one partition (typically a gather: a top-N, a global
// aggregate, a sort — small, or bound for this node's client anyway) or its
// plan cannot be shipped.
func (q *dquery) finalHere(st *stages.Stage) bool {
	return st.Partitions <= 1 || q.frags[st.ID] == nil || q.d.selfAddr() == ""
}

// runOn runs one attempt of a task on node.
func (q *dquery) runOn(node Node, st *stages.Stage, p, attempt int, inputs []ShuffleLocation, out chan<- arrow.RecordBatch, emitted *atomic.Bool) (taskResult, error) {
	start := time.Now()
	log := q.job.Log.With(zap.Int("stage", st.ID), zap.Int("task", p), zap.Int("attempt", attempt), zap.String("node", node.Name))
	if node.Name == q.d.cfg.NodeName {
		t := &taskRun{
			query: q.id, stage: st.ID, partition: p, attempt: attempt, root: st.Root, inputs: inputs,
			alloc: q.job.Alloc, metrics: q.taskMetrics(), log: log, out: out, emitted: emitted,
		}
		rows, bytes, err := q.d.execTask(q.ctx, t)
		return taskResult{Rows: rows, Bytes: bytes, ReadBytes: t.read.Load(), ElapsedMs: time.Since(start).Milliseconds(),
			Ops: q.keepMetrics(st.Root, t.metrics)}, err
	}
	spec := &TaskSpec{
		QueryID: q.id, Stage: st.ID, Partition: p, Attempt: attempt, Fragment: q.frags[st.ID], Inputs: inputs,
		CoordinatorNode: q.d.cfg.NodeName, MemoryLimit: q.d.cfg.QueryMemoryLimit, CollectMetrics: q.job.Metrics != nil,
		CoordinatorInstance: q.d.cfg.Instance, CoordinatorStarted: q.d.cfg.Started,
	}
	if out != nil {
		// A final task on a peer pushes its rows here (result_push.go).
		spec.PushResult, spec.CoordinatorAddr = true, q.d.selfAddr()
		slot := q.openPush(p, attempt, out, emitted)
		defer q.closePush(p, slot)
	}
	body, err := EncodeTask(spec)
	if err != nil {
		return taskResult{}, err
	}
	var reply []byte
	q.d.mu.Lock()
	q.d.sent[node.Name]++
	q.d.mu.Unlock()
	cctx, release := q.d.watchPeer(q.ctx, node.Name)
	err = q.d.callAction(cctx, node.InternalAddr, ActionRunTask, body, &reply)
	release()
	if err != nil {
		if pd := peerDownCause(cctx); pd != nil && q.ctx.Err() == nil {
			err = pd
		}
		if q.ctx.Err() == nil && unreachableErr(err) {
			q.d.markUnreachable(node.Name, err)
		}
		return taskResult{}, fmt.Errorf("node %s: %w", node.Name, err)
	}
	res, err := decodeTaskResult(reply)
	if err != nil {
		return taskResult{}, fmt.Errorf("node %s: malformed task status: %w", node.Name, err)
	}
	if res.Refused {
		return res, errNodeLeaving
	}
	if res.Error != "" {
		if res.Fetch != nil {
			return res, &FetchError{Loc: *res.Fetch, Err: &remoteError{node: node.Name, kind: qerr.Kind(res.Kind), msg: res.Error}}
		}
		re := &remoteError{node: node.Name, kind: qerr.Kind(res.Kind), msg: res.Error}
		if re.kind != qerr.Internal && re.kind != qerr.Canceled {
			// Keep the query error's kind for the client.
			return res, &qerr.Error{Kind: re.kind, Msg: res.Error, Err: re}
		}
		return res, re
	}
	return res, nil
}

// runFinal runs the final stage's partitions, here or on peers that push
// their rows here (finalHere), streaming to out.
func (q *dquery) runFinal(st *stages.Stage) error {
	if q.hold != nil {
		return q.holdFinal(st) // its partitions run when clients fetch them
	}
	var wg sync.WaitGroup
	for p := 0; p < st.Partitions; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			if err := q.runTask(st, p, q.out); err != nil {
				q.fail(err)
			}
		}(p)
	}
	wg.Wait()
	return q.error()
}

// withSchema returns b under schema (the field names the receiver planned)
// and takes b's reference; a batch whose columns are not schema's types is
// an error, not array.NewRecordBatch's panic (it came from a peer).
func withSchema(b arrow.RecordBatch, schema *arrow.Schema) (arrow.RecordBatch, error) {
	if b.Schema().Equal(schema) {
		return b, nil
	}
	defer b.Release()
	if int(b.NumCols()) != schema.NumFields() {
		return nil, fmt.Errorf("%d columns, want %d", b.NumCols(), schema.NumFields())
	}
	for i, f := range schema.Fields() {
		if got := b.Column(i).DataType(); !arrow.TypeEqual(got, f.Type) {
			return nil, fmt.Errorf("column %d (%s) is %s, want %s", i+1, f.Name, got, f.Type)
		}
	}
	return array.NewRecordBatch(schema, b.Columns(), b.NumRows()), nil
}
