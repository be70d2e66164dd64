package server

import (
	"context"
	"errors"
	"io"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/execution"
)

// streamResult turns an engine result into the schema and chunk channel
// flightsql's DoGet expects. Each batch is sent as soon as the engine
// yields it. When the client goes away (ctx ends) the engine stream is
// closed, which stops the query.
func (s *Server) streamResult(ctx context.Context, res *engine.Result) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if res.Stream == nil {
		b := rowsAffectedBatch(s.Alloc, res.RowsAffected)
		ch := make(chan flight.StreamChunk, 1)
		ch <- flight.StreamChunk{Data: b}
		close(ch)
		return rowsAffectedSchema, ch, nil
	}
	schema := res.Schema
	if schema == nil {
		schema = res.Stream.Schema()
	}
	ch := make(chan flight.StreamChunk)
	go s.pump(ctx, res, ch)
	return schema, ch, nil
}

func (s *Server) pump(ctx context.Context, res *engine.Result, ch chan<- flight.StreamChunk) {
	// The engine stream is closed (which settles the query's memory
	// accounting) once arrow-go's DoGet handler returned, so that a batch
	// it is still writing does not count as leaked (see afterGet); called
	// without one, as soon as the stream ends.
	after := afterGetFrom(ctx)
	if after == nil {
		defer res.Stream.Close()
	} else {
		after.do(func() { res.Stream.Close() })
	}
	defer close(ch)
	send := func(c flight.StreamChunk) bool {
		if c.Data != nil && after != nil {
			c.Data = after.track(c.Data)
		}
		select {
		case ch <- c:
			return true
		case <-ctx.Done():
			if c.Data != nil {
				c.Data.Release()
			}
			return false
		}
	}
	for {
		b, err := res.Stream.Next(ctx)
		if errors.Is(err, io.EOF) {
			return
		}
		if err != nil {
			send(flight.StreamChunk{Err: s.toStatus(err)})
			return
		}
		for _, part := range splitBatch(b, s.maxBytes) {
			if !send(flight.StreamChunk{Data: part}) {
				return
			}
		}
	}
}

// afterGet is what a DoGet's result stream needs done once arrow-go's
// DoGet handler returned (guardedService.DoGet runs it): release the
// batches it was sent and did not release (it drops the one whose write
// failed), then close the engine stream.
type afterGet struct {
	mu      sync.Mutex
	pending map[*sentBatch]struct{}
	funcs   []func()
}

type afterGetKey struct{}

func afterGetFrom(ctx context.Context) *afterGet {
	a, _ := ctx.Value(afterGetKey{}).(*afterGet)
	return a
}

func (a *afterGet) do(f func()) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.funcs = append(a.funcs, f)
}

// track wraps b so that its release by the handler is seen.
func (a *afterGet) track(b arrow.RecordBatch) arrow.RecordBatch {
	sb := &sentBatch{RecordBatch: b, a: a}
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.pending == nil {
		a.pending = map[*sentBatch]struct{}{}
	}
	a.pending[sb] = struct{}{}
	return sb
}

func (a *afterGet) run() {
	a.mu.Lock()
	pending, funcs := a.pending, a.funcs
	a.pending, a.funcs = nil, nil
	a.mu.Unlock()
	for b := range pending {
		b.Release()
	}
	for _, f := range funcs {
		f()
	}
}

// sentBatch is a batch handed to the DoGet handler; its one release is
// the handler's.
type sentBatch struct {
	arrow.RecordBatch
	a    *afterGet
	once sync.Once
}

func (b *sentBatch) Release() {
	b.once.Do(func() {
		b.a.mu.Lock()
		delete(b.a.pending, b)
		b.a.mu.Unlock()
		b.RecordBatch.Release()
	})
}

// splitBatch cuts b into row slices of at most about maxBytes each (by the
// batch's average row width), taking ownership of b. Slices share b's
// buffers; the IPC writer sends only the sliced range.
func splitBatch(b arrow.RecordBatch, maxBytes int64) []arrow.RecordBatch {
	rows := b.NumRows()
	size := execution.BatchBytes(b)
	if size <= maxBytes || rows <= 1 {
		return []arrow.RecordBatch{b}
	}
	perRow := max(size/rows, 1)
	step := max(maxBytes/perRow, 1)
	out := make([]arrow.RecordBatch, 0, (rows+step-1)/step)
	for i := int64(0); i < rows; i += step {
		out = append(out, b.NewSlice(i, min(i+step, rows)))
	}
	b.Release()
	return out
}

func rowsAffectedBatch(mem memory.Allocator, n int64) arrow.RecordBatch {
	bld := array.NewInt64Builder(mem)
	defer bld.Release()
	bld.Append(n)
	col := bld.NewArray()
	defer col.Release()
	return array.NewRecordBatch(rowsAffectedSchema, []arrow.Array{col}, 1)
}
