package scan

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

// applyFilters evaluates each filter on what is left of b and keeps the rows
// where it is true (NULL and false drop the row). It consumes b and returns
// nil when no row is left.
func applyFilters(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, filters []expr.Expr) (arrow.RecordBatch, error) {
	for _, f := range filters {
		if b.NumRows() == 0 {
			break
		}
		mask, err := f.Eval(mem, b)
		if err != nil {
			b.Release()
			return nil, fmt.Errorf("scan filter %s: %w", f, err)
		}
		bm, ok := mask.(*array.Boolean)
		if !ok {
			mask.Release()
			b.Release()
			return nil, qerr.New(qerr.Internal, "scan filter %s returned %s, not boolean", f, mask.DataType())
		}
		switch selected := countTrue(bm); {
		case selected == bm.Len():
			// every row passes: keep b as is
		case selected == 0:
			b.Release()
			b = nil
		default:
			out, err := takeRows(mem, b, execution.SelectTrue(bm, make([]int32, 0, selected)))
			b.Release()
			if err != nil {
				mask.Release()
				return nil, fmt.Errorf("scan filter %s: %w", f, err)
			}
			b = out
		}
		mask.Release()
		if b == nil {
			return nil, nil
		}
	}
	if b != nil && b.NumRows() == 0 {
		b.Release()
		return nil, nil
	}
	return b, nil
}

// takeRows gathers rows sel of every column of b with the typed kernels
// of execution.Take (compute.FilterRecordBatch runs a goroutine and a
// generic kernel per column).
func takeRows(mem memory.Allocator, b arrow.RecordBatch, sel []int32) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, b.NumCols())
	for i, c := range b.Columns() {
		t, err := execution.Take(mem, c, sel)
		if err != nil {
			for _, d := range cols[:i] {
				d.Release()
			}
			return nil, err
		}
		cols[i] = t
	}
	out := array.NewRecordBatch(b.Schema(), cols, int64(len(sel)))
	for _, c := range cols {
		c.Release()
	}
	return out, nil
}

// countTrue counts values that are true and not NULL.
func countTrue(b *array.Boolean) int {
	if b.Len() == 0 {
		return 0
	}
	vals := b.Data().Buffers()[1].Bytes()
	off := b.Data().Offset()
	if b.NullN() == 0 {
		return bitutil.CountSetBits(vals, off, b.Len())
	}
	valid := b.NullBitmapBytes()
	n := 0
	for i := 0; i < b.Len(); i++ {
		if bitutil.BitIsSet(valid, off+i) && bitutil.BitIsSet(vals, off+i) {
			n++
		}
	}
	return n
}

// limiter passes at most n rows (n < 0: unlimited).
type limiter struct{ left int64 }

func (l *limiter) done() bool { return l.left == 0 }

// take trims b to the rows still allowed; it consumes b.
func (l *limiter) take(b arrow.RecordBatch) arrow.RecordBatch {
	if l.left < 0 {
		return b
	}
	if b.NumRows() > l.left {
		s := b.NewSlice(0, l.left)
		b.Release()
		b = s
	}
	l.left -= b.NumRows()
	return b
}

// conform makes b's columns exactly the out types (casting where a file
// stores a compatible but different type) and labels them with out.
func conform(ctx context.Context, mem memory.Allocator, b arrow.RecordBatch, pick []int, out *arrow.Schema) (arrow.RecordBatch, error) {
	return conformCols(ctx, mem, b.Columns(), b.NumRows(), pick, out)
}

// conformCols is conform over the columns of a batch of nrows rows.
func conformCols(ctx context.Context, mem memory.Allocator, in []arrow.Array, nrows int64, pick []int, out *arrow.Schema) (arrow.RecordBatch, error) {
	cols := make([]arrow.Array, len(pick))
	release := func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}
	for i, p := range pick {
		c := in[p]
		want := out.Field(i).Type
		if arrow.TypeEqual(c.DataType(), want) {
			c.Retain()
			cols[i] = c
			continue
		}
		cast, err := compute.CastArray(compute.WithAllocator(ctx, mem), c, compute.SafeCastOptions(want))
		if err != nil {
			release()
			return nil, qerr.Wrap(qerr.Internal, err, "scan: column %s has type %s, expected %s", out.Field(i).Name, c.DataType(), want)
		}
		cols[i] = cast
	}
	rb := array.NewRecordBatch(out, cols, nrows)
	release()
	return rb, nil
}
