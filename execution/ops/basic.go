package ops

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

type filterStream struct {
	tc    *execution.TaskContext
	input execution.Stream
	pred  expr.Expr
	sel   []int32
}

// NewFilter keeps the rows where pred is true (NULL counts as false) and
// drops batches that end up empty.
func NewFilter(tc *execution.TaskContext, input execution.Stream, pred expr.Expr) execution.Stream {
	return &filterStream{tc: tc, input: input, pred: pred}
}

func (f *filterStream) Schema() *arrow.Schema { return f.input.Schema() }
func (f *filterStream) Close() error          { return f.input.Close() }

func (f *filterStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	mem := f.tc.Mem()
	for {
		b, err := f.input.Next(ctx)
		if err != nil {
			return nil, err
		}
		var out arrow.RecordBatch
		out, f.sel, err = filterBatch(mem, b, f.pred, f.sel[:0])
		b.Release()
		if err != nil {
			return nil, err
		}
		if out.NumRows() > 0 {
			return out, nil
		}
		out.Release()
	}
}

// filterBatch evaluates pred over b and keeps the true rows (b stays owned
// by the caller); sel is scratch for the selected row numbers.
func filterBatch(m memory.Allocator, b arrow.RecordBatch, pred expr.Expr, sel []int32) (arrow.RecordBatch, []int32, error) {
	c, err := pred.Eval(m, b)
	if err != nil {
		return nil, sel, err
	}
	defer c.Release()
	bc, ok := c.(*array.Boolean)
	if !ok {
		return nil, sel, qerr.New(qerr.Internal, "filter predicate %s is %s, not boolean", pred, c.DataType())
	}
	sel = execution.SelectTrue(bc, sel)
	if len(sel) == int(b.NumRows()) {
		b.Retain()
		return b, sel, nil
	}
	cols, err := gatherAll(m, b.Columns(), sel)
	if err != nil {
		return nil, sel, err
	}
	out := arrowBatch(b.Schema(), cols, int64(len(sel)))
	releaseAll(cols)
	return out, sel, nil
}

type projectStream struct {
	tc    *execution.TaskContext
	input execution.Stream
	exprs []expr.Expr
	memo  *expr.Memo // repeated subexpressions of exprs, per batch
	out   *arrow.Schema
}

// NewProject evaluates exprs over every input batch.
func NewProject(tc *execution.TaskContext, input execution.Stream, exprs []expr.Expr, out *arrow.Schema) execution.Stream {
	shared, memo := expr.ShareCommon(exprs)
	return &projectStream{tc: tc, input: input, exprs: shared, memo: memo, out: out}
}

func (p *projectStream) Schema() *arrow.Schema { return p.out }
func (p *projectStream) Close() error          { return p.input.Close() }

func (p *projectStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := p.input.Next(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	mem := p.tc.Mem()
	cols, err := evalAll(mem, p.exprs, b)
	p.memo.Reset()
	if err != nil {
		return nil, err
	}
	return makeBatch(mem, p.out, cols, int(b.NumRows()))
}

type limitStream struct {
	input         execution.Stream
	offset, count int64 // count < 0: no limit
	done          bool
}

// NewLimit skips offset rows then passes count rows (count < 0: all).
func NewLimit(input execution.Stream, offset, count int64) execution.Stream {
	return &limitStream{input: input, offset: offset, count: count}
}

func (l *limitStream) Schema() *arrow.Schema { return l.input.Schema() }
func (l *limitStream) Close() error          { return l.input.Close() }

func (l *limitStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if l.done || l.count == 0 {
			// Stop pulling (and release the input early) once the limit is met.
			if !l.done {
				l.done = true
				l.input.Close()
			}
			return nil, execution.EOF
		}
		b, err := l.input.Next(ctx)
		if err != nil {
			return nil, err
		}
		n := b.NumRows()
		if l.offset >= n {
			l.offset -= n
			b.Release()
			continue
		}
		start := l.offset
		l.offset = 0
		end := n
		if l.count >= 0 && end-start > l.count {
			end = start + l.count
		}
		if l.count >= 0 {
			l.count -= end - start
		}
		if start == 0 && end == n {
			return b, nil
		}
		out := b.NewSlice(start, end)
		b.Release()
		return out, nil
	}
}

type renameStream struct {
	execution.Stream
	tc  *execution.TaskContext
	out *arrow.Schema
}

// NewRename relabels input's batches with schema out (same column types; a
// column whose type differs is cast), e.g. UNION inputs under the union's
// column names.
func NewRename(tc *execution.TaskContext, input execution.Stream, out *arrow.Schema) execution.Stream {
	if input.Schema().Equal(out) {
		return input
	}
	return &renameStream{Stream: input, tc: tc, out: out}
}

func (r *renameStream) Schema() *arrow.Schema { return r.out }

func (r *renameStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := r.Stream.Next(ctx)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	cols := make([]arrow.Array, b.NumCols())
	for i, c := range b.Columns() {
		c.Retain()
		cols[i] = c
	}
	return makeBatch(r.tc.Mem(), r.out, cols, int(b.NumRows()))
}
