package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
)

// MySQL has no boolean result type: comparisons, logical operators and
// BOOLEAN (TINYINT(1)) columns come back to clients as integers 1/0. The
// engine computes with Arrow booleans and converts only at the edge.

// ClientSchema is s with boolean columns as BIGINT: the schema clients
// receive for rows of s (results and table metadata alike).
func ClientSchema(s *arrow.Schema) *arrow.Schema {
	fields := s.Fields()
	changed := false
	for i, f := range fields {
		if f.Type.ID() == arrow.BOOL {
			fields[i].Type = arrow.PrimitiveTypes.Int64
			changed = true
		}
	}
	if !changed {
		return s
	}
	md := s.Metadata()
	return arrow.NewSchema(fields, &md)
}

// clientStream converts boolean columns of in to 1/0 integers.
type clientStream struct {
	in     execution.Stream
	schema *arrow.Schema
}

func newClientStream(in execution.Stream) execution.Stream {
	s := ClientSchema(in.Schema())
	if s == in.Schema() {
		return in
	}
	return &clientStream{in: in, schema: s}
}

func (c *clientStream) Schema() *arrow.Schema { return c.schema }

func (c *clientStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := c.in.Next(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	cols := make([]arrow.Array, b.NumCols())
	for i, col := range b.Columns() {
		if bools, ok := col.(*array.Boolean); ok {
			cols[i] = boolsToInt64(bools)
		} else {
			col.Retain()
			cols[i] = col
		}
	}
	out := array.NewRecordBatch(c.schema, cols, b.NumRows())
	for _, col := range cols {
		col.Release()
	}
	return out, nil
}

func (c *clientStream) Close() error { return c.in.Close() }

// boolsToInt64 keeps the validity bitmap and writes 1/0 values.
func boolsToInt64(b *array.Boolean) arrow.Array {
	n := b.Len()
	vals := memory.NewResizableBuffer(memory.DefaultAllocator)
	vals.Resize(n * 8)
	out := arrow.Int64Traits.CastFromBytes(vals.Bytes())
	data := b.Data()
	raw := data.Buffers()[1].Bytes()
	for i := 0; i < n; i++ {
		if bitutil.BitIsSet(raw, data.Offset()+i) {
			out[i] = 1
		} else {
			out[i] = 0
		}
	}
	var validity *memory.Buffer
	if b.NullN() > 0 {
		validity = memory.NewResizableBuffer(memory.DefaultAllocator)
		validity.Resize(int(bitutil.BytesForBits(int64(n))))
		bitutil.CopyBitmap(data.Buffers()[0].Bytes(), data.Offset(), n, validity.Bytes(), 0)
	}
	d := array.NewData(arrow.PrimitiveTypes.Int64, n, []*memory.Buffer{validity, vals}, nil, b.NullN(), 0)
	defer d.Release()
	vals.Release()
	if validity != nil {
		validity.Release()
	}
	return array.MakeFromData(d)
}
