package ops

import (
	"bytes"
	"context"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
)

// mergeStream k-way merges sorted runs whose last column is the encoded
// sort key (execution.EncodeSortKeys) into BatchSize batches of schema (the
// key column dropped), with a binary heap over the runs' current rows.
type mergeStream struct {
	mem    memory.Allocator
	schema *arrow.Schema
	runs   []*mergeCursor // every run, for Close
	heap   []*mergeCursor // runs with rows left
	// held are the batches the pending output rows come from (every run's
	// current batch and the finished ones not yet gathered); sel are those
	// rows in output order.
	held    []arrow.RecordBatch
	sel     []heldRow
	started bool
	closed  bool
}

type heldRow struct{ batch, row int32 }

type mergeCursor struct {
	in   execution.Stream
	b    arrow.RecordBatch
	keys *array.Binary
	held int32 // index of b in mergeStream.held
	row  int
}

func newMerge(mem memory.Allocator, schema *arrow.Schema, inputs []execution.Stream) *mergeStream {
	m := &mergeStream{mem: mem, schema: schema}
	for _, in := range inputs {
		m.runs = append(m.runs, &mergeCursor{in: in})
	}
	return m
}

func (m *mergeStream) Schema() *arrow.Schema { return m.schema }

// advance loads c's next non-empty batch; false at the run's end.
func (m *mergeStream) advance(ctx context.Context, c *mergeCursor) (bool, error) {
	for {
		b, err := c.in.Next(ctx)
		if err == execution.EOF {
			c.b, c.keys = nil, nil
			return false, nil
		}
		if err != nil {
			return false, err
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		c.b, c.row = b, 0
		c.keys = b.Column(int(b.NumCols()) - 1).(*array.Binary)
		c.held = int32(len(m.held))
		m.held = append(m.held, b)
		return true, nil
	}
}

func (m *mergeStream) less(a, b *mergeCursor) bool {
	return bytes.Compare(a.keys.Value(a.row), b.keys.Value(b.row)) < 0
}

func (m *mergeStream) down(i int) {
	h := m.heap
	for {
		l := 2*i + 1
		if l >= len(h) {
			return
		}
		j := l
		if r := l + 1; r < len(h) && m.less(h[r], h[l]) {
			j = r
		}
		if !m.less(h[j], h[i]) {
			return
		}
		h[i], h[j] = h[j], h[i]
		i = j
	}
}

func (m *mergeStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !m.started {
		m.started = true
		for _, c := range m.runs {
			ok, err := m.advance(ctx, c)
			if err != nil {
				return nil, err
			}
			if ok {
				m.heap = append(m.heap, c)
			}
		}
		for i := len(m.heap)/2 - 1; i >= 0; i-- {
			m.down(i)
		}
	}
	for len(m.heap) > 0 && len(m.sel) < execution.BatchSize {
		c := m.heap[0]
		m.sel = append(m.sel, heldRow{c.held, int32(c.row)})
		c.row++
		if c.row == int(c.b.NumRows()) {
			ok, err := m.advance(ctx, c)
			if err != nil {
				return nil, err
			}
			if !ok {
				last := len(m.heap) - 1
				m.heap[0] = m.heap[last]
				m.heap = m.heap[:last]
			}
		}
		m.down(0)
	}
	if len(m.sel) == 0 {
		return nil, execution.EOF
	}
	return m.flush()
}

// flush gathers the selected rows into one batch and drops the held
// batches no run still reads.
func (m *mergeStream) flush() (arrow.RecordBatch, error) {
	ncol := m.schema.NumFields()
	// Rows per held batch, in output order; then where each output row
	// lands in the concatenation of those per-batch takes.
	per := make([][]int32, len(m.held))
	for _, s := range m.sel {
		per[s.batch] = append(per[s.batch], s.row)
	}
	start := make([]int32, len(m.held))
	var n int32
	used := 0
	for h, rows := range per {
		start[h] = n
		n += int32(len(rows))
		if len(rows) > 0 {
			used++
		}
	}
	var perm []int32
	if used > 1 {
		perm = make([]int32, len(m.sel))
		next := slices.Clone(start)
		for i, s := range m.sel {
			perm[i] = next[s.batch]
			next[s.batch]++
		}
	}
	cols := make([]arrow.Array, ncol)
	for c := 0; c < ncol; c++ {
		var parts []arrow.Array
		for h, rows := range per {
			if len(rows) == 0 {
				continue
			}
			t, err := execution.Take(m.mem, m.held[h].Column(c), rows)
			if err != nil {
				releaseAll(parts)
				releaseAll(cols)
				return nil, err
			}
			parts = append(parts, t)
		}
		if len(parts) == 1 {
			cols[c] = parts[0]
			continue
		}
		cat, err := array.Concatenate(parts, m.mem)
		releaseAll(parts)
		if err != nil {
			releaseAll(cols)
			return nil, err
		}
		col, err := execution.Take(m.mem, cat, perm)
		cat.Release()
		if err != nil {
			releaseAll(cols)
			return nil, err
		}
		cols[c] = col
	}
	rows := len(m.sel)
	m.sel = m.sel[:0]
	// Keep only the runs' current batches.
	var keep []arrow.RecordBatch
	for _, c := range m.heap {
		keep = append(keep, c.b)
		c.b.Retain()
		c.held = int32(len(keep) - 1)
	}
	releaseBatches(m.held)
	m.held = keep
	return makeBatch(m.mem, m.schema, cols, rows)
}

func (m *mergeStream) Close() error {
	if m.closed {
		return nil
	}
	m.closed = true
	releaseBatches(m.held)
	m.held, m.heap = nil, nil
	for _, c := range m.runs {
		c.in.Close()
	}
	return nil
}
