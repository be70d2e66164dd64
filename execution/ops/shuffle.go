package ops

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

// PartitionOf maps a row hash (HashColumns, seed 0) to one of n partitions.
// The hash is remixed first: hash tables inside a partition index with the
// raw hash's low bits, which must not all be equal there.
func PartitionOf(h uint64, n int) int {
	return int((execution.HashInt(h) >> 1) % uint64(n))
}

type shuffleWrite struct {
	tc     *execution.TaskContext
	input  execution.Stream
	stage  int
	part   int
	keys   []expr.Expr // nil: everything to output partition 0
	count  int
	done   bool
	closed bool
	hashes []uint64  // per-batch scratch
	sel    [][]int32 // per-batch scratch: rows of each output partition
}

// NewShuffleWrite routes the rows of input (producer partition part of
// stage) to count output partitions by hash of keys (keys nil: all to
// partition 0, for Single and Broadcast targets) through tc.Shuffle. It emits
// no rows: its first Next does all the work and returns EOF.
func NewShuffleWrite(tc *execution.TaskContext, input execution.Stream, stage, part int, keys []expr.Expr, count int) execution.Stream {
	return &shuffleWrite{tc: tc, input: input, stage: stage, part: part, keys: keys, count: max(count, 1)}
}

func (s *shuffleWrite) Schema() *arrow.Schema { return s.input.Schema() }

func (s *shuffleWrite) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.done {
		return nil, execution.EOF
	}
	s.done = true
	if s.tc.Shuffle == nil {
		return nil, qerr.New(qerr.Internal, "shuffle write without a shuffle store")
	}
	w, err := s.tc.Shuffle.Writer(ctx, s.stage, s.part)
	if err != nil {
		return nil, err
	}
	ok := false
	defer func() {
		if !ok {
			w.Abort()
		}
	}()
	for {
		b, err := s.input.Next(ctx)
		if err == execution.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		err = s.route(w, b)
		b.Release()
		if err != nil {
			return nil, err
		}
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	ok = true
	return nil, execution.EOF
}

func (s *shuffleWrite) route(w execution.ShuffleWriter, b arrow.RecordBatch) error {
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	if s.keys == nil || s.count == 1 {
		return w.Put(0, b)
	}
	mem := s.tc.Mem()
	keys, err := evalAll(mem, s.keys, b)
	if err != nil {
		return err
	}
	s.hashes = resize(s.hashes, n)
	execution.HashColumns(keys, 0, s.hashes)
	releaseAll(keys)
	if s.sel == nil {
		s.sel = make([][]int32, s.count)
	}
	sel := s.sel
	for p := range sel {
		sel[p] = sel[p][:0]
	}
	for i, h := range s.hashes {
		p := PartitionOf(h, s.count)
		sel[p] = append(sel[p], int32(i))
	}
	for p, rows := range sel {
		if len(rows) == 0 {
			continue
		}
		if len(rows) == n {
			return w.Put(p, b)
		}
		cols, err := gatherAll(mem, b.Columns(), rows)
		if err != nil {
			return err
		}
		part := array.NewRecordBatch(b.Schema(), cols, int64(len(rows)))
		releaseAll(cols)
		err = w.Put(p, part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *shuffleWrite) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	return s.input.Close()
}

// NewValues streams literal rows (one batch; values are cast to the schema's
// types where they differ). A schema without columns yields len(rows) empty rows.
func NewValues(tc *execution.TaskContext, rows [][]scalar.Scalar, out *arrow.Schema) (execution.Stream, error) {
	mem := tc.Mem()
	if len(rows) == 0 {
		return execution.NewEmptyStream(out), nil
	}
	cols := make([]arrow.Array, out.NumFields())
	for c := range cols {
		parts := make([]arrow.Array, len(rows))
		for r, row := range rows {
			if len(row) != len(cols) {
				releaseAll(parts)
				releaseAll(cols)
				return nil, qerr.New(qerr.InvalidArgument, "Column count doesn't match value count at row %d", r+1)
			}
			a, err := scalar.MakeArrayFromScalar(row[c], 1, mem)
			if err != nil {
				releaseAll(parts)
				releaseAll(cols)
				return nil, err
			}
			parts[r] = a
		}
		if len(parts) == 1 {
			cols[c] = parts[0]
			continue
		}
		a, err := array.Concatenate(parts, mem)
		releaseAll(parts)
		if err != nil {
			releaseAll(cols)
			return nil, err
		}
		cols[c] = a
	}
	b, err := makeBatch(mem, out, cols, len(rows))
	if err != nil {
		return nil, err
	}
	return execution.NewBatchStream(out, []arrow.RecordBatch{b}), nil
}
