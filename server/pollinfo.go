package server

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"io"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
	"google.golang.org/protobuf/types/known/timestamppb"
)

// PollFlightInfo (incremental execution, used by ADBC): the first poll of a
// statement or prepared statement starts the query in the background and
// answers at once; the returned PollInfo carries the progress (ended tasks
// / all tasks of the query's stages), a FlightInfo whose one endpoint reads
// the result, and, while the query runs, a descriptor to poll again. A
// repeated poll waits up to pollWait for the query to end. The endpoint
// can be read while the query runs (DoGet streams rows as they come) or
// after; the rows are held on the server until read once, the query is
// canceled (CancelFlightInfo, or the server stops) or pollResultTTL after
// the query ended without being read.

var pollMagic = []byte("QVPQ1:")

const (
	pollWait      = time.Second
	pollResultTTL = 10 * time.Minute
)

// maxHeldPollBytes bounds the rows held for one user's (or, without auth,
// one client address's) background queries: a client that starts many and
// reads none made the server hold every result (60 polls of TPC-H SF 0.01
// lineitem held 660 MB). A variable for tests.
var maxHeldPollBytes int64 = 512 << 20

type pollQuery struct {
	id     string
	user   string
	schema *arrow.Schema
	desc   *flight.FlightDescriptor // the command that started it
	cancel context.CancelFunc
	store  *pollStore
	key    string // whose held bytes these are (limitKey)

	mu      sync.Mutex
	changed chan struct{} // closed and replaced on every change
	batches []arrow.RecordBatch
	bytes   int64 // of batches, charged to store.held[key]
	done    bool
	err     error
	tasks   [2]int // ended, total
	// A query held for per-partition endpoints (--advertise-endpoints):
	// info is its FlightInfo once the producers ran; no rows pass here.
	partitioned bool
	info        *flight.FlightInfo
	expires     time.Time
	released    bool
	expireTimer *time.Timer
}

type pollStore struct {
	mu   sync.Mutex
	m    map[string]*pollQuery
	held map[string]int64 // bytes of rows held, by limitKey
}

// charge counts n more held bytes for key, or refuses them past
// maxHeldPollBytes; n < 0 gives bytes back.
func (ps *pollStore) charge(key string, n int64) error {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if n > 0 && ps.held[key]+n > maxHeldPollBytes {
		return qerr.New(qerr.ResourceExhausted,
			"%s already has %d bytes of PollFlightInfo results held on this server (at most %d): read them (DoGet) or cancel them (CancelFlightInfo), or run the query with GetFlightInfo and DoGet, which streams",
			key, ps.held[key], maxHeldPollBytes)
	}
	if ps.held == nil {
		ps.held = map[string]int64{}
	}
	if ps.held[key] += n; ps.held[key] <= 0 {
		delete(ps.held, key)
	}
	return nil
}

func (ps *pollStore) add(q *pollQuery) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	if ps.m == nil {
		ps.m = map[string]*pollQuery{}
	}
	ps.m[q.id] = q
}

func (ps *pollStore) get(id, user string) (*pollQuery, error) {
	ps.mu.Lock()
	defer ps.mu.Unlock()
	q, ok := ps.m[id]
	if !ok || q.user != user {
		return nil, qerr.New(qerr.NotFound, "unknown or expired query '%s' (its result was read, canceled or expired)", printable([]byte(id)))
	}
	return q, nil
}

func (ps *pollStore) remove(q *pollQuery) {
	ps.mu.Lock()
	if ps.m[q.id] == q {
		delete(ps.m, q.id)
	}
	ps.mu.Unlock()
}

// cancelAll stops every background query and frees every held result
// (server shutdown).
func (ps *pollStore) cancelAll() {
	ps.mu.Lock()
	qs := make([]*pollQuery, 0, len(ps.m))
	for _, q := range ps.m {
		qs = append(qs, q)
	}
	ps.mu.Unlock()
	for _, q := range qs {
		q.release()
	}
}

// notifyLocked wakes the waiters.
func (q *pollQuery) notifyLocked() {
	close(q.changed)
	q.changed = make(chan struct{})
}

// release cancels the query (if running), frees its rows and forgets it.
func (q *pollQuery) release() {
	q.cancel()
	q.store.remove(q)
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.released {
		return
	}
	q.released = true
	for _, b := range q.batches {
		b.Release()
	}
	q.batches = nil
	q.store.charge(q.key, -q.bytes)
	q.bytes = 0
	if q.expireTimer != nil {
		q.expireTimer.Stop()
	}
	if !q.done {
		q.done, q.err = true, qerr.New(qerr.Canceled, "query canceled")
	}
	q.notifyLocked()
}

// spool reads the query's result into memory.
func (q *pollQuery) spool(ctx context.Context, res *engine.Result) {
	var err error
	for {
		var b arrow.RecordBatch
		b, err = res.Stream.Next(ctx)
		if err != nil {
			break
		}
		q.mu.Lock()
		if q.released {
			q.mu.Unlock()
			b.Release()
			break
		}
		n := execution.BatchBytes(b)
		if err = q.store.charge(q.key, n); err != nil {
			// Over the limit: the query fails and frees what it held.
			for _, held := range q.batches {
				held.Release()
			}
			q.batches = nil
			q.store.charge(q.key, -q.bytes)
			q.bytes = 0
			q.mu.Unlock()
			b.Release()
			break
		}
		q.bytes += n
		q.batches = append(q.batches, b)
		q.notifyLocked()
		q.mu.Unlock()
	}
	res.Stream.Close()
	if errors.Is(err, io.EOF) {
		err = nil
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.released {
		return
	}
	q.done, q.err = true, err
	q.expires = time.Now().Add(pollResultTTL)
	q.expireTimer = time.AfterFunc(pollResultTTL, q.release)
	q.notifyLocked()
}

// startPoll runs sql in the background and returns its first PollInfo.
func (s *Server) startPoll(ctx context.Context, sess *engine.Session, sql string, params []scalar.Scalar, desc *flight.FlightDescriptor) (*flight.PollInfo, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "query id")
	}
	q := &pollQuery{id: hex.EncodeToString(b[:]), user: userOf(ctx), key: limitKey(ctx), desc: desc, store: &s.polls, changed: make(chan struct{})}
	// The query outlives this call: detached from its cancellation, it keeps
	// the caller's identity (read-only checks, per-user limits).
	qctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	q.cancel = cancel
	qctx = engine.WithProgress(qctx, func(done, total int) {
		q.mu.Lock()
		q.tasks = [2]int{done, total}
		q.notifyLocked()
		q.mu.Unlock()
	})
	plan, err := s.planPartitioned(ctx, sess, sql, params)
	if err != nil {
		cancel()
		return nil, err
	}
	if plan != nil {
		return s.startPartitionedPoll(qctx, sess, sql, params, plan, q)
	}
	res, err := s.eng.Execute(qctx, sess, sql, params)
	if err != nil {
		cancel()
		return nil, err
	}
	if res.Stream == nil { // DDL/DML: done, one row with the count
		q.schema = rowsAffectedSchema
		q.batches = []arrow.RecordBatch{rowsAffectedBatch(s.Alloc, res.RowsAffected)}
		q.done, q.tasks = true, [2]int{1, 1}
		q.expires = time.Now().Add(pollResultTTL)
		q.expireTimer = time.AfterFunc(pollResultTTL, q.release)
		s.polls.add(q)
		return s.pollInfo(q)
	}
	q.schema = res.Schema
	if q.schema == nil {
		q.schema = res.Stream.Schema()
	}
	s.polls.add(q)
	go q.spool(qctx, res)
	return s.pollInfo(q)
}

// startPartitionedPoll runs a query qualifying for per-partition
// endpoints in the background: polls report the producer stages' progress
// and, once they ran, the completed PollInfo carries the endpoints
// (GetFlightInfo's). The poll counts as the user's running query from
// here (the concurrency limit refuses it at once).
func (s *Server) startPartitionedPoll(qctx context.Context, sess *engine.Session, sql string, params []scalar.Scalar, plan *engine.PartitionPlan, q *pollQuery) (*flight.PollInfo, error) {
	release, err := s.guard().acquire(qctx)
	if err != nil {
		q.cancel()
		return nil, err
	}
	q.schema, q.partitioned = plan.Schema(), true
	s.polls.add(q)
	go func() {
		info, ok, err := s.holdInfo(qctx, sess, plan, q.desc, release)
		if err == nil && !ok { // the scheduler streams it after all
			q.mu.Lock()
			q.partitioned = false
			q.mu.Unlock()
			var res *engine.Result
			if res, err = s.eng.Execute(qctx, sess, sql, params); err == nil && res.Stream != nil {
				q.spool(qctx, res)
				return
			}
		}
		q.heldDone(s, info, err)
	}()
	return s.pollInfo(q)
}

// heldDone records the end of a partitioned poll's producers.
func (q *pollQuery) heldDone(s *Server, info *flight.FlightInfo, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.released {
		if info != nil && len(info.Endpoint) > 0 { // canceled meanwhile: free the result
			go s.cancelPartition(info.Endpoint[0].GetTicket().GetTicket(), q.user, map[string]bool{})
		}
		return
	}
	q.done, q.err, q.info = true, err, info
	q.expires = time.Now().Add(pollResultTTL)
	if info != nil && len(info.Endpoint) > 0 {
		q.expires = info.Endpoint[0].GetExpirationTime().AsTime()
	}
	q.expireTimer = time.AfterFunc(time.Until(q.expires), q.release)
	q.notifyLocked()
}

// pollInfo describes q's state now.
func (s *Server) pollInfo(q *pollQuery) (*flight.PollInfo, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.done && q.err != nil {
		return nil, q.err
	}
	var info *flight.FlightInfo
	switch {
	case q.info != nil:
		info = q.info
	case q.partitioned:
		// Endpoints come when the producers ran; the app metadata names
		// the poll so that CancelFlightInfo of this info stops it.
		info = &flight.FlightInfo{FlightDescriptor: q.desc, Schema: flight.SerializeSchema(q.schema, s.Alloc), TotalRecords: -1, TotalBytes: -1,
			AppMetadata: append(append([]byte{}, pollMagic...), q.id...)}
	default:
		tkt, err := flightsql.CreateStatementQueryTicket(append(append([]byte{}, pollMagic...), q.id...))
		if err != nil {
			return nil, qerr.Wrap(qerr.Internal, err, "ticket")
		}
		info = s.resultInfo(q.desc, tkt, q.schema)
	}
	pi := &flight.PollInfo{Info: info}
	progress := 0.0
	if q.tasks[1] > 0 {
		progress = float64(q.tasks[0]) / float64(q.tasks[1])
	}
	if q.done {
		progress = 1
		pi.ExpirationTime = timestamppb.New(q.expires)
	} else {
		progress = min(progress, 0.99)
		pi.FlightDescriptor = &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: append(append([]byte{}, pollMagic...), q.id...)}
	}
	pi.Progress = &progress
	return pi, nil
}

// PollFlightInfoStatement starts a query (see PollFlightInfo above).
func (s *Server) PollFlightInfoStatement(ctx context.Context, cmd flightsql.StatementQuery, desc *flight.FlightDescriptor) (*flight.PollInfo, error) {
	_, sess := s.session(ctx)
	pi, err := s.startPoll(ctx, sess, cmd.GetQuery(), nil, desc)
	return pi, s.toStatus(err)
}

// PollFlightInfoPreparedStatement starts a prepared query with its bound
// parameters.
func (s *Server) PollFlightInfoPreparedStatement(ctx context.Context, cmd flightsql.PreparedStatementQuery, desc *flight.FlightDescriptor) (*flight.PollInfo, error) {
	p, _, err := s.preparedFor(ctx, cmd.GetPreparedStatementHandle())
	if err != nil {
		return nil, s.toStatus(err)
	}
	rows := p.bound()
	if len(rows) > 1 {
		return nil, s.toStatus(qerr.New(qerr.InvalidArgument,
			"a query takes one row of parameters, %d rows were bound", len(rows)))
	}
	var params []scalar.Scalar
	if len(rows) == 1 {
		params = rows[0]
	}
	pi, err := s.startPoll(ctx, p.sess, p.sql, params, desc)
	return pi, s.toStatus(err)
}

// PollFlightInfo answers a repeated poll (the descriptor a previous
// PollInfo returned), waiting up to pollWait for the query to end.
func (s *Server) PollFlightInfo(ctx context.Context, desc *flight.FlightDescriptor) (*flight.PollInfo, error) {
	id, ok := bytes.CutPrefix(desc.GetCmd(), pollMagic)
	if !ok {
		return nil, s.toStatus(qerr.New(qerr.InvalidArgument, "PollFlightInfo: unknown command (poll a statement, a prepared statement or the descriptor a PollInfo returned)"))
	}
	q, err := s.polls.get(string(id), userOf(ctx))
	if err != nil {
		return nil, s.toStatus(err)
	}
	t := time.NewTimer(pollWait)
	defer t.Stop()
	for {
		q.mu.Lock()
		done, changed := q.done, q.changed
		q.mu.Unlock()
		if done {
			break
		}
		select {
		case <-changed:
			continue
		case <-t.C:
		case <-ctx.Done():
			return nil, s.toStatus(ctx.Err())
		}
		break
	}
	pi, err := s.pollInfo(q)
	return pi, s.toStatus(err)
}

// doGetPoll streams a background query's rows (waiting for those still to
// come); once all were sent the result is freed.
func (s *Server) doGetPoll(ctx context.Context, id string) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	q, err := s.polls.get(id, userOf(ctx))
	if err != nil {
		return nil, nil, s.toStatus(err)
	}
	ch := make(chan flight.StreamChunk)
	go func() {
		defer close(ch)
		for i := 0; ; {
			q.mu.Lock()
			if q.released {
				q.mu.Unlock()
				select {
				case ch <- flight.StreamChunk{Err: s.toStatus(qerr.New(qerr.Canceled, "query canceled"))}:
				case <-ctx.Done():
				}
				return
			}
			if i < len(q.batches) {
				b := q.batches[i]
				b.Retain()
				q.mu.Unlock()
				i++
				parts := splitBatch(b, s.maxBytes)
				for j, part := range parts {
					select {
					case ch <- flight.StreamChunk{Data: part}:
					case <-ctx.Done():
						for _, p := range parts[j:] {
							p.Release()
						}
						return
					}
				}
				continue
			}
			done, qErr, changed := q.done, q.err, q.changed
			q.mu.Unlock()
			if done {
				if qErr != nil {
					select {
					case ch <- flight.StreamChunk{Err: s.toStatus(qErr)}:
					case <-ctx.Done():
					}
				}
				q.release() // read once: free the rows
				return
			}
			select {
			case <-changed:
			case <-ctx.Done():
				return
			}
		}
	}()
	return q.schema, ch, nil
}

// cancelPoll cancels the background query a ticket reads (CancelFlightInfo).
func (s *Server) cancelPoll(ticket []byte, user string) {
	t, err := flightsql.GetStatementQueryTicket(&flight.Ticket{Ticket: ticket})
	if err != nil {
		return
	}
	id, ok := bytes.CutPrefix(t.GetStatementHandle(), pollMagic)
	if !ok {
		return
	}
	if q, err := s.polls.get(string(id), user); err == nil {
		q.release()
	}
}
