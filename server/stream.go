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
	defer close(ch)
	// The engine stream is closed (which settles the query's memory
	// accounting) once the writer released every batch sent, so a batch
	// still being written does not count as leaked; a client gone away
	// ends the wait (arrow-go's DoGet does not release the batch it failed
	// to write).
	var inFlight sync.WaitGroup
	defer func() {
		done := make(chan struct{})
		go func() { inFlight.Wait(); close(done) }()
		select {
		case <-done:
		case <-ctx.Done():
		}
		res.Stream.Close()
	}()
	send := func(c flight.StreamChunk) bool {
		if c.Data != nil {
			inFlight.Add(1)
			c.Data = &sentBatch{RecordBatch: c.Data, done: inFlight.Done}
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

// sentBatch reports when the DoGet writer releases a batch it was sent.
type sentBatch struct {
	arrow.RecordBatch
	once sync.Once
	done func()
}

func (b *sentBatch) Release() {
	b.RecordBatch.Release()
	b.once.Do(b.done)
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
