package ops

import (
	"context"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"go.uber.org/zap"
)

// spillBatchRows is the rows per batch of a sort run file: the merge holds
// one batch per run, so smaller batches keep a many-run merge small.
const spillBatchRows = 2048

type sortStream struct {
	tc      *execution.TaskContext
	input   execution.Stream
	keys    []expr.SortKey
	fetch   int64
	res     reservation
	pending []arrow.RecordBatch
	out     execution.Stream // the sorted rows, after run
	spill   *execution.Spiller
	done    bool
	closed  bool
}

// NewSort sorts its input by keys; fetch >= 0 keeps only the first fetch
// rows (top-N: the buffered rows are cut back to fetch whenever they exceed
// twice that, so memory stays bounded). A full sort under a query memory
// limit is external: when the buffered input would no longer fit twice
// (the sort copies it), it is sorted and written to a run file and the
// runs are merged at the end.
func NewSort(tc *execution.TaskContext, input execution.Stream, keys []expr.SortKey, fetch int64) execution.Stream {
	s := &sortStream{tc: tc, input: input, keys: keys, fetch: fetch, spill: execution.NewSpiller(tc, "sort")}
	s.res.alloc = tc.Alloc
	return s
}

func (s *sortStream) Schema() *arrow.Schema { return s.input.Schema() }

func (s *sortStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !s.done {
		s.done = true
		var err error
		if s.fetch >= 0 {
			err = s.topN(ctx)
		} else {
			err = s.run(ctx)
		}
		if err != nil {
			return nil, err
		}
	}
	if s.out != nil {
		return s.out.Next(ctx)
	}
	if len(s.pending) == 0 {
		return nil, execution.EOF
	}
	b := s.pending[0]
	s.pending = s.pending[1:]
	return b, nil
}

// run buffers the input, spilling sorted runs when over budget, and sets
// s.out to the sorted rows: the one in-memory run, or a merge of the runs.
func (s *sortStream) run(ctx context.Context) error {
	var buf []arrow.RecordBatch
	var rows, bytes, last int64
	var runs []*execution.SpillFile
	defer func() { releaseBatches(buf) }()
	for {
		b, err := s.input.Next(ctx)
		if err == execution.EOF {
			break
		}
		if err != nil {
			return err
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		buf = append(buf, b)
		rows += b.NumRows()
		last = execution.BatchBytes(b)
		bytes += last
		if s.overBudget(bytes, rows, last) {
			f, err := s.spillRun(ctx, buf, rows)
			buf = nil
			if err != nil {
				return err
			}
			runs = append(runs, f)
			rows, bytes = 0, 0
		}
	}
	if len(runs) == 0 {
		mr, err := s.sortRun(buf, rows, false)
		buf = nil
		if err != nil {
			return err
		}
		s.out = mr
		return nil
	}
	// The last run stays in memory as one of the merge's inputs.
	inputs := make([]execution.Stream, 0, len(runs)+1)
	mr, err := s.sortRun(buf, rows, true)
	buf = nil
	if err != nil {
		return err
	}
	if mr != nil {
		inputs = append(inputs, mr)
	}
	for _, f := range runs {
		r, err := f.Open()
		if err != nil {
			for _, in := range inputs {
				in.Close()
			}
			return err
		}
		inputs = append(inputs, r)
	}
	s.tc.Logger().Info("sort merging spilled runs", zap.Int("runs", len(runs)))
	s.out = newMerge(s.tc.Mem(), s.input.Schema(), inputs)
	return nil
}

// overBudget reports whether the buffered input (bytes, rows; last is the
// latest batch) should go to a run file now: under a memory limit, when
// sorting it (a copy of it, its sort index and keys) plus room for the
// next two input batches would not fit. A single batch is never spilled.
func (s *sortStream) overBudget(bytes, rows, last int64) bool {
	a := s.tc.Alloc
	if a == nil || rows <= execution.BatchSize || !a.Limited() {
		return false
	}
	return !a.Fits(bytes + rows*16 + 2*last)
}

// spillRun sorts the batches (taking them) and writes them to a run file,
// each row with its encoded sort key in a last binary column.
func (s *sortStream) spillRun(ctx context.Context, batches []arrow.RecordBatch, rows int64) (*execution.SpillFile, error) {
	mr, err := s.sortRun(batches, rows, true)
	if err != nil {
		return nil, err
	}
	defer mr.Close()
	w, err := s.spill.Create(mr.Schema())
	if err != nil {
		return nil, err
	}
	for {
		b, err := mr.Next(ctx)
		if err == execution.EOF {
			break
		}
		if err != nil {
			w.Abort()
			return nil, err
		}
		err = w.Write(b)
		b.Release()
		if err != nil {
			w.Abort()
			return nil, err
		}
	}
	return w.Finish()
}

// sortRun sorts batches (released here) into a run that yields them in
// order; withKeys adds the encoded sort key column (for merging).
func (s *sortStream) sortRun(batches []arrow.RecordBatch, rows int64, withKeys bool) (*memRun, error) {
	defer func() { releaseBatches(batches) }()
	mem := s.tc.Mem()
	schema := s.input.Schema()
	r := &memRun{mem: mem, schema: schema, batchRows: execution.BatchSize, res: reservation{alloc: s.tc.Alloc}}
	if withKeys {
		r.schema = withSortKeyField(schema)
		r.batchRows = spillBatchRows
		r.desc = make([]bool, len(s.keys))
		r.nullsFirst = make([]bool, len(s.keys))
		for i, k := range s.keys {
			r.desc[i], r.nullsFirst[i] = k.Desc, k.NullsFirst
		}
	}
	if rows == 0 {
		return r, nil
	}
	cols, err := concatColumns(mem, schema, batches)
	if err != nil {
		return nil, err
	}
	// The copy replaces the batches: drop them now, not after sorting.
	releaseBatches(batches)
	batches = nil
	r.cols = cols
	one := arrowBatch(schema, cols, rows)
	defer one.Release()
	keyCols, err := evalAll(mem, sortKeyExprs(s.keys), one)
	if err != nil {
		r.Close()
		return nil, err
	}
	r.keyCols = keyCols
	r.idx = s.sortIndex(keyCols, rows)
	r.res.resize(rows * 4)
	if !withKeys {
		releaseAll(r.keyCols)
		r.keyCols = nil
	}
	return r, nil
}

func (s *sortStream) sortIndex(keyCols []arrow.Array, rows int64) []int32 {
	cmps := make([]execution.Comparator, len(keyCols))
	for i, k := range keyCols {
		cmps[i] = execution.NewComparator(k, s.keys[i].Desc, s.keys[i].NullsFirst)
	}
	idx := make([]int32, rows)
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
	return idx
}

// topN keeps the first fetch rows in key order.
func (s *sortStream) topN(ctx context.Context) error {
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
		if rows > 2*s.fetch+execution.BatchSize {
			cut, err := s.sorted(buf, rows, s.fetch)
			releaseBatches(buf)
			buf = cut
			if err != nil {
				return err
			}
			rows = min(rows, s.fetch)
		}
	}
	out, err := s.sorted(buf, rows, min(rows, s.fetch))
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
	s.res.resize(rows * 4)
	defer s.res.free()
	idx := s.sortIndex(keyCols, rows)[:limit]
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
	if s.out != nil {
		s.out.Close()
	}
	s.res.free()
	s.spill.Close()
	return s.input.Close()
}

// memRun yields sorted rows of in-memory columns a batch at a time,
// gathered as they are pulled (so the sorted copy is never whole).
type memRun struct {
	mem        memory.Allocator
	schema     *arrow.Schema
	cols       []arrow.Array
	keyCols    []arrow.Array // withKeys: the evaluated sort keys
	desc       []bool
	nullsFirst []bool
	idx        []int32
	res        reservation
	batchRows  int
	pos        int
}

func (r *memRun) Schema() *arrow.Schema { return r.schema }

func (r *memRun) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if r.pos >= len(r.idx) {
		return nil, execution.EOF
	}
	part := r.idx[r.pos:min(r.pos+r.batchRows, len(r.idx))]
	r.pos += len(part)
	g, err := gatherAll(r.mem, r.cols, part)
	if err != nil {
		return nil, err
	}
	if r.keyCols != nil {
		kc, err := gatherAll(r.mem, r.keyCols, part)
		if err != nil {
			releaseAll(g)
			return nil, err
		}
		g = append(g, execution.EncodeSortKeys(r.mem, kc, r.desc, r.nullsFirst))
		releaseAll(kc)
	}
	return makeBatch(r.mem, r.schema, g, len(part))
}

func (r *memRun) Close() error {
	releaseAll(r.cols)
	releaseAll(r.keyCols)
	r.cols, r.keyCols, r.idx = nil, nil, nil
	r.res.free()
	return nil
}

// withSortKeyField is schema plus the encoded sort key column of a run.
func withSortKeyField(schema *arrow.Schema) *arrow.Schema {
	fields := append(slices.Clone(schema.Fields()), arrow.Field{Name: "__sort_key", Type: arrow.BinaryTypes.Binary})
	return arrow.NewSchema(fields, nil)
}
