package engine

import (
	"context"
	"errors"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// renameStream relabels batches with the client-visible schema (operators
// name columns internally; the types are the same). It is the query's
// outermost stream: Close ends the query and settles its memory.
type renameStream struct {
	in     execution.Stream
	schema *arrow.Schema
	settle func()
}

func (r *renameStream) Schema() *arrow.Schema { return r.schema }

func (r *renameStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := r.in.Next(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	if int(b.NumCols()) != len(r.schema.Fields()) {
		return nil, qerr.New(qerr.Internal, "internal: result has %d columns, expected %d", b.NumCols(), len(r.schema.Fields()))
	}
	for i, c := range b.Columns() {
		if !arrow.TypeEqual(c.DataType(), r.schema.Field(i).Type) {
			return nil, qerr.New(qerr.Internal, "internal: result column %d has type %s, expected %s", i, c.DataType(), r.schema.Field(i).Type)
		}
	}
	return array.NewRecordBatch(r.schema, b.Columns(), b.NumRows()), nil
}

func (r *renameStream) Close() error {
	err := r.in.Close()
	if r.settle != nil {
		r.settle()
		r.settle = nil
	}
	return err
}

// streamReader adapts an INSERT's source Stream to array.RecordReader (for
// Catalog.Append), converting each column to the table's type (storeColumn).
// The first error is kept in err.
type streamReader struct {
	ctx    context.Context
	in     execution.Stream
	schema *arrow.Schema
	mem    memory.Allocator
	rows   int64 // rows converted so far
	cur    arrow.RecordBatch
	err    error
	closed bool
}

func (r *streamReader) Retain() {}

func (r *streamReader) Release() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if !r.closed {
		r.closed = true
		r.in.Close()
	}
}

func (r *streamReader) Schema() *arrow.Schema { return r.schema }

func (r *streamReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if r.err != nil || r.closed {
		return false
	}
	b, err := r.in.Next(r.ctx)
	if errors.Is(err, execution.EOF) {
		return false
	}
	if err != nil {
		r.err = err
		return false
	}
	defer b.Release()
	if int(b.NumCols()) != len(r.schema.Fields()) {
		r.err = qerr.New(qerr.Internal, "internal: insert source has %d columns, table %d", b.NumCols(), len(r.schema.Fields()))
		return false
	}
	cols := make([]arrow.Array, b.NumCols())
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for i, c := range b.Columns() {
		if cols[i], r.err = storeColumn(r.mem, c, r.schema.Field(i), r.rows+1); r.err != nil {
			return false
		}
	}
	r.rows += b.NumRows()
	r.cur = array.NewRecordBatch(r.schema, cols, b.NumRows())
	return true
}

func (r *streamReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is the deprecated name array.RecordReader still requires.
func (r *streamReader) Record() arrow.RecordBatch { return r.cur }

func (r *streamReader) Err() error { return r.err }
