package ops

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

// reservation accounts Go-side memory (hash tables, index slices) against
// the query budget; the QueryAllocator panics with ResourceExhausted over
// the limit, which Instrument turns into the query's error.
type reservation struct {
	alloc *execution.QueryAllocator
	n     int64
}

func (r *reservation) resize(n int64) {
	if r.alloc != nil {
		if d := n - r.n; d > 0 {
			r.alloc.Reserve(d)
		} else if d < 0 {
			r.alloc.Unreserve(-d)
		}
	}
	r.n = n
}

func (r *reservation) free() { r.resize(0) }

func computeCtx(mem memory.Allocator) context.Context {
	return compute.WithAllocator(context.Background(), mem)
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		if a != nil {
			a.Release()
		}
	}
}

func releaseBatches(bs []arrow.RecordBatch) {
	for _, b := range bs {
		if b != nil {
			b.Release()
		}
	}
}

// evalAll evaluates exprs over b; on error nothing is leaked.
func evalAll(mem memory.Allocator, exprs []expr.Expr, b arrow.RecordBatch) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(exprs))
	for i, e := range exprs {
		a, err := e.Eval(mem, b)
		if err != nil {
			releaseAll(out)
			return nil, err
		}
		if a.Len() != int(b.NumRows()) {
			a.Release()
			releaseAll(out)
			return nil, qerr.New(qerr.Internal, "expression %s returned %d rows for a batch of %d", e, a.Len(), b.NumRows())
		}
		out[i] = a
	}
	return out, nil
}

// gather takes rows idx (negative = NULL) of col.
func gather(mem memory.Allocator, col arrow.Array, idx []int32) (arrow.Array, error) {
	allNull := true
	for _, v := range idx {
		if v >= 0 {
			allNull = false
			break
		}
	}
	if allNull {
		return array.MakeArrayOfNull(mem, col.DataType(), len(idx)), nil
	}
	return execution.Take(mem, col, idx)
}

// gatherAll gathers idx from every column.
func gatherAll(mem memory.Allocator, cols []arrow.Array, idx []int32) ([]arrow.Array, error) {
	return gatherSome(mem, cols, idx, nil)
}

// gatherSome gathers idx from the columns marked in need (nil = all); the
// others stay nil.
func gatherSome(mem memory.Allocator, cols []arrow.Array, idx []int32, need []bool) ([]arrow.Array, error) {
	out := make([]arrow.Array, len(cols))
	// Every row once, in order (a probe batch whose rows each match one
	// build row): share the columns instead of copying them. Columns not
	// needed may be nil (a join's dropped build columns).
	n := -1
	for _, c := range cols {
		if c != nil {
			n = c.Len()
			break
		}
	}
	same := n >= 0 && identity(idx, n)
	for i, c := range cols {
		if need != nil && !need[i] {
			continue
		}
		if same {
			c.Retain()
			out[i] = c
			continue
		}
		a, err := gather(mem, c, idx)
		if err != nil {
			releaseAll(out)
			return nil, err
		}
		out[i] = a
	}
	return out, nil
}

// identity reports whether idx is 0, 1, ..., n-1.
func identity(idx []int32, n int) bool {
	if len(idx) != n {
		return false
	}
	for i, v := range idx {
		if v != int32(i) {
			return false
		}
	}
	return true
}

// nullColumn returns an all-NULL column of type t.
func nullColumn(mem memory.Allocator, t arrow.DataType, n int) arrow.Array {
	return array.MakeArrayOfNull(mem, t, n)
}

// makeBatch assembles columns (taking ownership) into a batch of schema,
// casting a column whose type differs from the schema (e.g. a dictionary
// key column to its value type).
func makeBatch(mem memory.Allocator, schema *arrow.Schema, cols []arrow.Array, n int) (arrow.RecordBatch, error) {
	if len(cols) != schema.NumFields() {
		releaseAll(cols)
		return nil, qerr.New(qerr.Internal, "operator produced %d columns for a schema of %d", len(cols), schema.NumFields())
	}
	for i, c := range cols {
		want := schema.Field(i).Type
		if arrow.TypeEqual(c.DataType(), want) {
			continue
		}
		conv, err := compute.CastArray(computeCtx(mem), c, compute.SafeCastOptions(want))
		if err != nil {
			releaseAll(cols)
			return nil, qerr.New(qerr.Internal, "column %s: cannot convert %s to %s: %v", schema.Field(i).Name, c.DataType(), want, err)
		}
		c.Release()
		cols[i] = conv
	}
	b := array.NewRecordBatch(schema, cols, int64(n))
	releaseAll(cols)
	return b, nil
}

// concatColumns concatenates the batches column by column (one array per
// column; zero batches give empty columns).
func concatColumns(mem memory.Allocator, schema *arrow.Schema, batches []arrow.RecordBatch) ([]arrow.Array, error) {
	cols := make([]arrow.Array, schema.NumFields())
	for c := range cols {
		if len(batches) == 1 {
			a := batches[0].Column(c)
			a.Retain()
			cols[c] = a
			continue
		}
		if len(batches) == 0 {
			cols[c] = array.MakeArrayOfNull(mem, schema.Field(c).Type, 0)
			continue
		}
		parts := make([]arrow.Array, len(batches))
		for i, b := range batches {
			parts[i] = b.Column(c)
		}
		a, err := array.Concatenate(parts, mem)
		if err != nil {
			releaseAll(cols)
			return nil, err
		}
		cols[c] = a
	}
	return cols, nil
}

// concatConsume is concatColumns that releases the batches (always, also
// on error) column by column as it copies them, so at most one column is
// held twice rather than the whole input. Columns not in keep (nil = all)
// are dropped: their entries are nil.
func concatConsume(mem memory.Allocator, schema *arrow.Schema, batches []arrow.RecordBatch, keep []bool) ([]arrow.Array, error) {
	if len(batches) <= 1 {
		defer releaseBatches(batches)
		cols, err := concatColumns(mem, schema, batches)
		for c := range cols {
			if keep != nil && !keep[c] {
				cols[c].Release()
				cols[c] = nil
			}
		}
		return cols, err
	}
	parts := make([][]arrow.Array, schema.NumFields())
	for c := range parts {
		if keep != nil && !keep[c] {
			continue
		}
		parts[c] = make([]arrow.Array, len(batches))
		for i, b := range batches {
			a := b.Column(c)
			a.Retain()
			parts[c][i] = a
		}
	}
	releaseBatches(batches)
	cols := make([]arrow.Array, len(parts))
	done := false
	defer func() { // also when Concatenate panics over the memory limit
		if !done {
			releaseAll(cols)
			for _, p := range parts {
				releaseAll(p)
			}
		}
	}()
	for c, p := range parts {
		if p == nil {
			continue
		}
		a, err := array.Concatenate(p, mem)
		if err != nil {
			return nil, err
		}
		releaseAll(p)
		parts[c] = nil
		cols[c] = a
	}
	done = true
	return cols, nil
}

// sliceBatches cuts columns of n rows into BatchSize batches of schema.
func sliceBatches(schema *arrow.Schema, cols []arrow.Array, n int) []arrow.RecordBatch {
	var out []arrow.RecordBatch
	for off := 0; off < n; off += execution.BatchSize {
		end := min(off+execution.BatchSize, n)
		if off == 0 && end == n {
			out = append(out, array.NewRecordBatch(schema, cols, int64(n)))
			break
		}
		parts := make([]arrow.Array, len(cols))
		for i, c := range cols {
			parts[i] = array.NewSlice(c, int64(off), int64(end))
		}
		out = append(out, array.NewRecordBatch(schema, parts, int64(end-off)))
		releaseAll(parts)
	}
	return out
}

// drain reads input to the end (releasing nothing it returns to the caller).
func drain(ctx context.Context, in execution.Stream) ([]arrow.RecordBatch, error) {
	var out []arrow.RecordBatch
	for {
		b, err := in.Next(ctx)
		if err == execution.EOF {
			return out, nil
		}
		if err != nil {
			releaseBatches(out)
			return nil, err
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		out = append(out, b)
	}
}

// arrowBatch wraps columns (retained) as a batch.
func arrowBatch(schema *arrow.Schema, cols []arrow.Array, rows int64) arrow.RecordBatch {
	return array.NewRecordBatch(schema, cols, rows)
}
