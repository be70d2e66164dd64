package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Result return: a final-stage task placed on a peer pushes its rows to the
// coordinator with DoPut on the internal service (cluster secret checked as
// on every internal call). The descriptor names query, stage, partition and
// attempt; batches are chunked under the message limit and compressed as
// the shuffle is (--shuffle-compression). The coordinator hands each batch
// to the client's stream through the query's small output channel: while the
// client does not read, the handler does not read the DoPut stream, so gRPC
// flow control stops the worker (nothing is buffered without bound).
//
// Rows sent to the client cannot be taken back, so a final task is retried
// elsewhere only while none of its rows reached the coordinator (the
// `emitted` rule of the local final tasks); a push of an attempt that ended
// (failed, superseded) is refused.

// ResultPushPrefix starts the descriptor command of a result push.
const ResultPushPrefix = "quiver-result-push/v1:"

// resultPushKey names one attempt of one final-stage partition.
type resultPushKey struct {
	Query                     string
	Stage, Partition, Attempt int
}

func encodeResultPush(k resultPushKey) []byte {
	b, _ := json.Marshal(k)
	return append([]byte(ResultPushPrefix), b...)
}

func decodeResultPush(cmd []byte) (resultPushKey, error) {
	var k resultPushKey
	if len(cmd) < len(ResultPushPrefix) || string(cmd[:len(ResultPushPrefix)]) != ResultPushPrefix {
		return k, errors.New("not a result push descriptor")
	}
	if err := strictJSON(cmd[len(ResultPushPrefix):], &k); err != nil || k.Query == "" || k.Stage < 0 || k.Partition < 0 || k.Attempt < 0 {
		return k, errors.New("malformed result push descriptor")
	}
	return k, nil
}

// pushSlot is the coordinator's receiving end of one final task attempt
// running on a peer.
type pushSlot struct {
	attempt int
	out     chan<- arrow.RecordBatch
	emitted *atomic.Bool
	schema  *arrow.Schema
	ctx     context.Context
	cancel  context.CancelFunc

	mu     sync.Mutex
	closed bool
	active sync.WaitGroup // pushes being received
}

// openPush registers the attempt's slot before its run-task is sent.
func (q *dquery) openPush(p, attempt int, out chan<- arrow.RecordBatch, emitted *atomic.Bool) *pushSlot {
	ctx, cancel := context.WithCancel(q.ctx)
	s := &pushSlot{attempt: attempt, out: out, emitted: emitted, schema: q.job.Graph.Final().Root.Schema(), ctx: ctx, cancel: cancel}
	q.mu.Lock()
	if q.pushes == nil {
		q.pushes = map[int]*pushSlot{}
	}
	q.pushes[p] = s
	q.mu.Unlock()
	return s
}

// closePush ends the attempt's slot: a push still arriving is refused, one
// being received stops, and closePush returns once no batch of it can reach
// the output any more (so `emitted` is final).
func (q *dquery) closePush(p int, s *pushSlot) {
	s.mu.Lock()
	s.closed = true
	s.mu.Unlock()
	s.cancel()
	s.active.Wait()
	q.mu.Lock()
	if q.pushes[p] == s {
		delete(q.pushes, p)
	}
	q.mu.Unlock()
}

// ServeDoPut receives a final task's pushed rows (the internal service's
// DoPut handler).
func (d *Dist) ServeDoPut(stream flight.FlightService_DoPutServer) error {
	rd, err := flight.NewRecordReader(stream)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "result push: %v", err)
	}
	defer rd.Release()
	desc := rd.LatestFlightDescriptor()
	if desc == nil {
		return status.Error(codes.InvalidArgument, "result push without a descriptor")
	}
	k, err := decodeResultPush(desc.GetCmd())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	s, err := d.pushSlot(k)
	if err != nil {
		return err
	}
	defer s.active.Done()
	n := s.schema.NumFields()
	if len(rd.Schema().Fields()) != n {
		return status.Errorf(codes.InvalidArgument, "result push of query %s partition %d has %d columns, want %d", k.Query, k.Partition, len(rd.Schema().Fields()), n)
	}
	ctx := stream.Context()
	for rd.Next() {
		b := rd.RecordBatch()
		if b.NumRows() == 0 {
			continue
		}
		b.Retain()
		if b, err = withSchema(b, s.schema); err != nil {
			return status.Errorf(codes.InvalidArgument, "result push of query %s partition %d: %v", k.Query, k.Partition, err)
		}
		select {
		case s.out <- b:
			s.emitted.Store(true)
		case <-s.ctx.Done():
			b.Release()
			return status.Error(codes.Canceled, "result push: the attempt or query ended")
		case <-ctx.Done():
			b.Release()
			return status.FromContextError(ctx.Err()).Err()
		}
	}
	if err := rd.Err(); err != nil {
		if s.ctx.Err() != nil {
			return status.Error(codes.Canceled, "result push: the attempt or query ended")
		}
		return status.Errorf(codes.Internal, "result push: %v", err)
	}
	return nil
}

// pushSlot finds the open slot of a push (marked active) or says why not.
func (d *Dist) pushSlot(k resultPushKey) (*pushSlot, error) {
	d.mu.Lock()
	q := d.queries[k.Query]
	d.mu.Unlock()
	if q == nil {
		return nil, status.Errorf(codes.NotFound, "result push: query %s is not running here", k.Query)
	}
	q.mu.Lock()
	s := q.pushes[k.Partition]
	q.mu.Unlock()
	if s == nil || s.attempt != k.Attempt || k.Stage != q.job.Graph.Final().ID {
		return nil, status.Errorf(codes.FailedPrecondition, "result push: query %s expects no rows from stage %d partition %d attempt %d", k.Query, k.Stage, k.Partition, k.Attempt)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, status.Errorf(codes.FailedPrecondition, "result push: attempt %d of partition %d of query %s has ended", k.Attempt, k.Partition, k.Query)
	}
	s.active.Add(1)
	return s, nil
}

// resultPusher is the worker's sending end: the DoPut opens with the first
// non-empty batch (a partition without rows pushes nothing).
type resultPusher struct {
	d      *Dist
	addr   string
	key    resultPushKey
	cancel context.CancelFunc
	stream flight.FlightService_DoPutClient
	w      *flight.Writer
}

func (p *resultPusher) write(ctx context.Context, b arrow.RecordBatch) error {
	if p.w == nil {
		if p.addr == "" {
			return errors.New("result push: the task names no coordinator address")
		}
		c, err := p.d.client(ctx, p.addr)
		if err != nil {
			return fmt.Errorf("result push to the coordinator: %w", err)
		}
		pctx, cancel := context.WithCancel(ctx)
		st, err := c.DoPut(pctx)
		if err != nil {
			cancel()
			return fmt.Errorf("result push to the coordinator: %w", err)
		}
		p.cancel, p.stream = cancel, st
		p.w = flight.NewRecordWriter(st, p.d.store.writerOptions(b.Schema())...)
		p.w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: encodeResultPush(p.key)})
	}
	if err := writeChunked(p.w, b); err != nil {
		return p.status(err)
	}
	return nil
}

// finish ends the push and waits until the coordinator took every row.
func (p *resultPusher) finish() error {
	if p.w == nil {
		return nil
	}
	defer p.cancel()
	if err := p.w.Close(); err != nil {
		return p.status(err)
	}
	if err := p.stream.CloseSend(); err != nil {
		return p.status(err)
	}
	return p.status(nil)
}

// abort drops the push (the task failed).
func (p *resultPusher) abort() {
	if p.cancel != nil {
		p.cancel()
	}
}

// status drains the server's answers: its final status is the push's
// outcome (a failed Send only says the stream ended).
func (p *resultPusher) status(sendErr error) error {
	for {
		_, err := p.stream.Recv()
		if errors.Is(err, io.EOF) {
			if sendErr != nil {
				return fmt.Errorf("result push ended early: %w", sendErr)
			}
			return nil
		}
		if err != nil {
			return fmt.Errorf("result push to the coordinator: %w", err)
		}
	}
}
