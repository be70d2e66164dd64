package ops

import (
	"context"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
)

type sortStream struct {
	tc      *execution.TaskContext
	input   execution.Stream
	keys    []expr.SortKey
	fetch   int64
	res     reservation
	pending []arrow.RecordBatch
	done    bool
	closed  bool
}

// NewSort sorts its input by keys (stable); fetch >= 0 keeps only the first
// fetch rows (top-N: the buffered rows are cut back to fetch whenever they
// exceed twice that, so memory stays bounded).
func NewSort(tc *execution.TaskContext, input execution.Stream, keys []expr.SortKey, fetch int64) execution.Stream {
	s := &sortStream{tc: tc, input: input, keys: keys, fetch: fetch}
	s.res.alloc = tc.Alloc
	return s
}

func (s *sortStream) Schema() *arrow.Schema { return s.input.Schema() }

func (s *sortStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !s.done {
		s.done = true
		if err := s.run(ctx); err != nil {
			return nil, err
		}
	}
	if len(s.pending) == 0 {
		return nil, execution.EOF
	}
	b := s.pending[0]
	s.pending = s.pending[1:]
	return b, nil
}

func (s *sortStream) run(ctx context.Context) error {
	var buf []arrow.RecordBatch
	var rows int64
	defer func() { releaseBatches(buf) }()
	for {
		b, err := s.input.Next(ctx)
		if err == execution.EOF {
			break
		}
		if err != nil {
			return err
		}
		if b.NumRows() == 0 || s.fetch == 0 {
			b.Release()
			continue
		}
		buf = append(buf, b)
		rows += b.NumRows()
		if s.fetch > 0 && rows > 2*s.fetch+execution.BatchSize {
			cut, err := s.sorted(buf, rows, s.fetch)
			releaseBatches(buf)
			buf = cut
			if err != nil {
				return err
			}
			rows = min(rows, s.fetch)
		}
	}
	limit := rows
	if s.fetch >= 0 {
		limit = min(rows, s.fetch)
	}
	out, err := s.sorted(buf, rows, limit)
	if err != nil {
		return err
	}
	s.pending = out
	return nil
}

// sorted returns the first limit rows of batches in key order.
func (s *sortStream) sorted(batches []arrow.RecordBatch, rows, limit int64) ([]arrow.RecordBatch, error) {
	if len(batches) == 0 || limit == 0 {
		return nil, nil
	}
	mem := s.tc.Mem()
	schema := s.input.Schema()
	cols, err := concatColumns(mem, schema, batches)
	if err != nil {
		return nil, err
	}
	defer releaseAll(cols)
	one := arrowBatch(schema, cols, rows)
	defer one.Release()
	keyCols, err := evalAll(mem, sortKeyExprs(s.keys), one)
	if err != nil {
		return nil, err
	}
	defer releaseAll(keyCols)
	cmps := make([]execution.Comparator, len(keyCols))
	for i, k := range keyCols {
		cmps[i] = execution.NewComparator(k, s.keys[i].Desc, s.keys[i].NullsFirst)
	}
	idx := make([]int32, rows)
	s.res.resize(rows * 4)
	defer s.res.free()
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(a, b int32) int {
		for _, c := range cmps {
			if r := c(int(a), int(b)); r != 0 {
				return r
			}
		}
		return 0
	})
	idx = idx[:limit]
	var out []arrow.RecordBatch
	for off := 0; off < len(idx); off += execution.BatchSize {
		part := idx[off:min(off+execution.BatchSize, len(idx))]
		g, err := gatherAll(mem, cols, part)
		if err != nil {
			releaseBatches(out)
			return nil, err
		}
		b, err := makeBatch(mem, schema, g, len(part))
		if err != nil {
			releaseBatches(out)
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

func (s *sortStream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	releaseBatches(s.pending)
	s.pending = nil
	s.res.free()
	return s.input.Close()
}
