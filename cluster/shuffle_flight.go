package cluster

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Shuffle over Flight: a consumer pulls one output partition of one
// producer task with DoGet; the ticket names it. The server streams the
// batches from memory or the spill file as the consumer reads (gRPC flow
// control is the backpressure: nothing is buffered beyond its window),
// each sliced so an IPC message stays well under gRPC's 4 MiB default.

// ShuffleTicketPrefix starts every shuffle DoGet ticket.
const ShuffleTicketPrefix = "quiver-shuffle/v1:"

// maxChunkBytes bounds the bytes of one batch sent in one Flight message.
const maxChunkBytes = 2 << 20

// ShuffleTicket names one output partition of one producer task.
type ShuffleTicket struct {
	OutputKey
	Partition int
}

// EncodeShuffleTicket encodes a DoGet ticket.
func EncodeShuffleTicket(t ShuffleTicket) []byte {
	b, _ := json.Marshal(struct {
		Q          string
		S, P, T, A int
	}{t.Query, t.Stage, t.Partition, t.Producer, t.Attempt})
	return append([]byte(ShuffleTicketPrefix), b...)
}

// IsShuffleTicket reports whether a DoGet ticket is a shuffle ticket.
func IsShuffleTicket(b []byte) bool {
	return len(b) >= len(ShuffleTicketPrefix) && string(b[:len(ShuffleTicketPrefix)]) == ShuffleTicketPrefix
}

// DecodeShuffleTicket decodes a ticket written by EncodeShuffleTicket.
func DecodeShuffleTicket(b []byte) (ShuffleTicket, error) {
	var t ShuffleTicket
	if !IsShuffleTicket(b) {
		return t, errors.New("not a shuffle ticket")
	}
	var v struct {
		Q          string
		S, P, T, A int
	}
	if err := json.Unmarshal(b[len(ShuffleTicketPrefix):], &v); err != nil || v.Q == "" || v.S < 0 || v.P < 0 || v.T < 0 || v.A < 0 {
		return t, fmt.Errorf("malformed shuffle ticket")
	}
	t.Query, t.Stage, t.Partition, t.Producer, t.Attempt = v.Q, v.S, v.P, v.T, v.A
	return t, nil
}

// ServeDoGet streams the partition a shuffle ticket names (the internal
// Flight service's DoGet handler for shuffle tickets).
func (s *ShuffleStore) ServeDoGet(tkt *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	t, err := DecodeShuffleTicket(tkt.GetTicket())
	if err != nil {
		return status.Error(codes.InvalidArgument, err.Error())
	}
	ctx := stream.Context()
	src, err := s.Read(t.OutputKey, t.Partition, memory.NewGoAllocator())
	if err != nil {
		return status.Error(codes.NotFound, err.Error())
	}
	defer src.Close()
	w := flight.NewRecordWriter(stream, s.writerOptions(src.Schema())...)
	defer w.Close()
	for {
		b, err := src.Next(ctx)
		if errors.Is(err, execution.EOF) {
			return nil
		}
		if err != nil {
			return status.Error(codes.Internal, err.Error())
		}
		err = writeChunked(w, b)
		b.Release()
		if err != nil {
			return err
		}
	}
}

// writeChunked writes b as slices of at most maxChunkBytes (estimated).
func writeChunked(w *flight.Writer, b arrow.RecordBatch) error {
	size := execution.BatchBytes(b)
	n := b.NumRows()
	if size <= maxChunkBytes || n <= 1 {
		return w.Write(b)
	}
	pieces := (size + maxChunkBytes - 1) / maxChunkBytes
	step := max((n+pieces-1)/pieces, 1)
	for off := int64(0); off < n; off += step {
		s := b.NewSlice(off, min(off+step, n))
		err := w.Write(s)
		s.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// FetchError is a consumer's failure to read a producer's output (the node
// is gone, or no longer has it): the scheduler re-runs the producer.
type FetchError struct {
	Loc ShuffleLocation
	Err error
}

func (e *FetchError) Error() string {
	return fmt.Sprintf("shuffle fetch of stage %d producer %d (attempt %d) from node %s failed: %v",
		e.Loc.Stage, e.Loc.Producer, e.Loc.Attempt, e.Loc.NodeID, e.Err)
}

func (e *FetchError) Unwrap() error { return e.Err }

// fetchStream pulls one partition of a remote producer over DoGet.
type fetchStream struct {
	loc    ShuffleLocation
	schema *arrow.Schema
	cancel context.CancelFunc
	rd     *flight.Reader
	closed bool
}

// openFetch starts the DoGet; the schema message is read at once so a
// missing output fails here.
func openFetch(ctx context.Context, client flight.FlightServiceClient, query string, loc ShuffleLocation, partition int, mem memory.Allocator) (execution.Stream, error) {
	parent := ctx
	ctx, cancel := context.WithCancel(ctx)
	tkt := EncodeShuffleTicket(ShuffleTicket{OutputKey: OutputKey{Query: query, Stage: loc.Stage, Producer: loc.Producer, Attempt: loc.Attempt}, Partition: partition})
	st, err := client.DoGet(ctx, &flight.Ticket{Ticket: tkt})
	if err != nil {
		cancel()
		if parent.Err() != nil {
			return nil, parent.Err()
		}
		return nil, &FetchError{Loc: loc, Err: err}
	}
	rd, err := flight.NewRecordReader(st, ipc.WithAllocator(mem))
	if err != nil {
		cancel()
		if parent.Err() != nil {
			return nil, parent.Err()
		}
		return nil, &FetchError{Loc: loc, Err: err}
	}
	return &fetchStream{loc: loc, schema: rd.Schema(), cancel: cancel, rd: rd}, nil
}

func (f *fetchStream) Schema() *arrow.Schema { return f.schema }

func (f *fetchStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if f.rd.Next() {
		b := f.rd.RecordBatch()
		b.Retain()
		return b, nil
	}
	if err := f.rd.Err(); err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &FetchError{Loc: f.loc, Err: err}
	}
	return nil, execution.EOF
}

func (f *fetchStream) Close() error {
	if f.closed {
		return nil
	}
	f.closed = true
	f.cancel()
	f.rd.Release()
	return nil
}
