package ops

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/agg/accum"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

// AccumSpec converts an AggSpec to the accumulator description (shared with
// the window operator and the agg typing rules).
func AccumSpec(s AggSpec) accum.Spec {
	as := accum.Spec{Func: s.Func, Distinct: s.Distinct, Separator: s.Separator, Result: s.Type}
	for _, a := range s.Args {
		as.ArgTypes = append(as.ArgTypes, a.DataType())
	}
	for _, k := range s.OrderBy {
		as.ArgTypes = append(as.ArgTypes, k.Expr.DataType())
		as.OrderDesc = append(as.OrderDesc, k.Desc)
		as.OrderNullsFirst = append(as.OrderNullsFirst, k.NullsFirst)
	}
	return as
}

type hashAgg struct {
	tc      *execution.TaskContext
	input   execution.Stream
	mode    AggMode
	groupBy []expr.Expr
	aggs    []AggSpec
	out     *arrow.Schema
	accs    []accum.Accumulator
	stateAt []int // Final: first input column of each aggregate's state
	table   *groupTable
	keys    [][]arrow.Array // per key column: the key values of new groups, per batch
	groups  int
	res     reservation
	pending []arrow.RecordBatch
	done    bool
	closed  bool
	ids     []uint32
	newRows []int32
	memo    *expr.Memo // shared subexpressions of groupBy and aggs, per batch
	// A partial aggregate that barely reduces its input (nearly one group
	// per row) stops grouping: after partialProbeRows rows with more than
	// partialSkipRatio groups per row it emits what it has and then passes
	// each row on as its own one-row state, leaving the grouping to Final
	// (DataFusion's skip_partial_aggregation).
	rows    int
	probed  bool
	passing bool
	// Under a memory limit (see spill_agg.go): origGroupBy/origAggs rebuild
	// the operator for a spilled partition; spill holds the rows of groups
	// the frozen table does not have, partitioned by key hash.
	origGroupBy []expr.Expr
	origAggs    []AggSpec
	level       int   // spill recursion depth of this operator
	keyBytes    int64 // of keys
	spill       *aggSpill
}

const (
	partialProbeRows = 100_000
	partialSkipRatio = 0.8
)

// NewHashAggregate groups input by groupBy and computes aggs. Single and
// Partial read raw rows; Final reads a Partial output (keys first, then each
// aggregate's state columns). Output: key columns, then one column per
// aggregate (Partial: its state columns).
func NewHashAggregate(tc *execution.TaskContext, input execution.Stream, mode AggMode, groupBy []expr.Expr, aggs []AggSpec, out *arrow.Schema) (execution.Stream, error) {
	h := &hashAgg{tc: tc, input: input, mode: mode, groupBy: groupBy, aggs: aggs, out: out,
		origGroupBy: groupBy, origAggs: aggs}
	if mode != AggFinal {
		h.groupBy, h.aggs, h.memo = shareAggExprs(groupBy, aggs)
	}
	h.res.alloc = tc.Alloc
	col := len(groupBy)
	for _, s := range aggs {
		as := AccumSpec(s)
		if mode != AggSingle && !accum.Splittable(as) {
			return nil, qerr.New(qerr.Internal, "aggregate %s cannot run in %s mode", s.Func, mode)
		}
		h.stateAt = append(h.stateAt, col)
		col += len(accum.StateTypes(as))
	}
	if err := h.initState(); err != nil {
		return nil, err
	}
	return h, nil
}

// initState makes the empty group table and accumulators.
func (h *hashAgg) initState() error {
	h.keys = make([][]arrow.Array, len(h.groupBy))
	h.groups = 0
	for _, s := range h.aggs {
		as := AccumSpec(s)
		as.Mem = h.tc.Mem()
		a, err := accum.New(as)
		if err != nil {
			h.releaseAccs()
			return err
		}
		h.accs = append(h.accs, a)
	}
	if len(h.groupBy) == 1 {
		h.table = newGroupTable(intLike(h.groupBy[0].DataType()), 0)
	} else if len(h.groupBy) > 1 {
		h.table = newGroupTable(false, 0)
	} else {
		// Without GROUP BY there is exactly one group, even over no rows.
		h.groups = 1
		for _, a := range h.accs {
			a.Resize(1)
		}
	}
	return nil
}

// shareAggExprs rewrites the key and aggregate expressions so that a subtree
// repeated among them is evaluated once per batch (leaving aggs untouched).
func shareAggExprs(groupBy []expr.Expr, aggs []AggSpec) ([]expr.Expr, []AggSpec, *expr.Memo) {
	all := append([]expr.Expr(nil), groupBy...)
	for _, s := range aggs {
		all = append(all, s.Args...)
		all = append(all, sortKeyExprs(s.OrderBy)...)
		if s.Filter != nil {
			all = append(all, s.Filter)
		}
	}
	shared, memo := expr.ShareCommon(all)
	if memo == nil {
		return groupBy, aggs, nil
	}
	next := func(n int) []expr.Expr {
		out := shared[:n:n]
		shared = shared[n:]
		return out
	}
	keys := next(len(groupBy))
	out := make([]AggSpec, len(aggs))
	for i, s := range aggs {
		s.Args = next(len(s.Args))
		ob := make([]expr.SortKey, len(s.OrderBy))
		for j, e := range next(len(s.OrderBy)) {
			ob[j] = s.OrderBy[j]
			ob[j].Expr = e
		}
		s.OrderBy = ob
		if s.Filter != nil {
			s.Filter = next(1)[0]
		}
		out[i] = s
	}
	return keys, out, memo
}

func (h *hashAgg) Schema() *arrow.Schema { return h.out }

func (h *hashAgg) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if len(h.pending) > 0 {
			b := h.pending[0]
			h.pending = h.pending[1:]
			return b, nil
		}
		if h.done {
			return h.nextSpilled(ctx)
		}
		if h.passing {
			b, err := h.input.Next(ctx)
			if err == execution.EOF {
				h.done = true
				continue
			}
			if err != nil {
				return nil, err
			}
			if err := h.passOwned(b); err != nil {
				return nil, err
			}
			continue
		}
		flush, err := h.consume(ctx)
		if err != nil {
			return nil, err
		}
		if flush {
			// A partial aggregate over its memory share hands on what it
			// has and starts again: the final aggregate merges the parts.
			if err := h.emit(); err != nil {
				return nil, err
			}
			if err := h.initState(); err != nil {
				return nil, err
			}
			continue
		}
		h.done = !h.passing
		if err := h.emit(); err != nil {
			return nil, err
		}
		if h.done && h.spill != nil {
			if err := h.spill.finish(); err != nil {
				return nil, err
			}
		}
	}
}

// consume groups the input until its end, until a partial aggregate
// decides to pass rows through, or (flush) until a partial aggregate is
// over its memory share.
func (h *hashAgg) consume(ctx context.Context) (flush bool, err error) {
	for {
		b, err := h.input.Next(ctx)
		if err == execution.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		h.rows += int(b.NumRows())
		size := execution.BatchBytes(b)
		if h.spill != nil {
			err = h.spill.addOwned(b)
		} else {
			err = h.addOwned(b)
		}
		if err != nil {
			return false, err
		}
		if h.mode == AggPartial && h.table != nil && !h.probed && h.rows >= partialProbeRows {
			h.probed = true
			if float64(h.groups) > partialSkipRatio*float64(h.rows) {
				h.passing = true
				return false, nil
			}
		}
		if h.spill == nil && h.overBudget(size) {
			if h.mode == AggPartial {
				return true, nil
			}
			if err := h.startSpill(); err != nil {
				return false, err
			}
		}
	}
}

// passOwned emits every row of b (released) as its own group's state.
func (h *hashAgg) passOwned(b arrow.RecordBatch) error {
	defer b.Release()
	defer h.memo.Reset()
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	mem := h.tc.Mem()
	cols, err := evalAll(mem, h.groupBy, b)
	if err != nil {
		return err
	}
	h.ids = resize(h.ids, n)
	for i := range h.ids {
		h.ids[i] = uint32(i)
	}
	for i, s := range h.aggs {
		as := AccumSpec(s)
		as.Mem = mem
		a, err := accum.New(as)
		if err != nil {
			releaseAll(cols)
			return err
		}
		a.Resize(n)
		err = h.update(i, a, b, h.ids)
		var st []arrow.Array
		if err == nil {
			st, err = a.State(mem)
		}
		a.Release()
		if err != nil {
			releaseAll(cols)
			return err
		}
		cols = append(cols, st...)
	}
	out, err := makeBatch(mem, h.out, cols, n)
	if err != nil {
		return err
	}
	h.pending = append(h.pending, out)
	return nil
}

// addOwned adds b and releases it, even when the memory limit panics.
func (h *hashAgg) addOwned(b arrow.RecordBatch) error {
	defer b.Release()
	return h.add(b)
}

func (h *hashAgg) add(b arrow.RecordBatch) error {
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	defer h.memo.Reset()
	mem := h.tc.Mem()
	if cap(h.ids) < n {
		h.ids = make([]uint32, n)
	}
	ids := h.ids[:n]
	if h.table != nil {
		keys, err := evalAll(mem, h.groupBy, b)
		if err != nil {
			return err
		}
		defer releaseAll(keys)
		h.newRows = h.table.insert(keys, n, ids, h.newRows[:0])
		if len(h.newRows) > 0 {
			for k, key := range keys {
				nk, err := gather(mem, key, h.newRows)
				if err != nil {
					return err
				}
				h.keys[k] = append(h.keys[k], nk)
				h.keyBytes += execution.ArrayBytes(nk)
			}
		}
		h.groups = h.table.n
		for _, a := range h.accs {
			a.Resize(h.groups)
		}
	} else {
		for i := range ids {
			ids[i] = 0
		}
	}
	for i, a := range h.accs {
		if err := h.update(i, a, b, ids); err != nil {
			return err
		}
	}
	h.account()
	return nil
}

func (h *hashAgg) account() {
	n := int64(cap(h.ids))*4 + int64(cap(h.newRows))*4
	if h.table != nil {
		n += h.table.bytes()
	}
	for _, a := range h.accs {
		n += a.Bytes()
	}
	h.res.resize(n)
}

func (h *hashAgg) update(i int, a accum.Accumulator, b arrow.RecordBatch, ids []uint32) error {
	mem := h.tc.Mem()
	if h.mode == AggFinal {
		nst := len(accum.StateTypes(AccumSpec(h.aggs[i])))
		st := b.Columns()[h.stateAt[i] : h.stateAt[i]+nst]
		return a.Merge(ids, st)
	}
	s := h.aggs[i]
	exprs := s.Args
	if len(s.OrderBy) > 0 {
		exprs = append(append([]expr.Expr(nil), s.Args...), sortKeyExprs(s.OrderBy)...)
	}
	args, err := evalAll(mem, exprs, b)
	if err != nil {
		return err
	}
	defer releaseAll(args)
	if s.Filter == nil {
		return a.Update(ids, args)
	}
	// FILTER (WHERE ...): only rows where the condition is true.
	cond, err := s.Filter.Eval(mem, b)
	if err != nil {
		return err
	}
	defer cond.Release()
	bc, ok := cond.(*array.Boolean)
	if !ok {
		return qerr.New(qerr.Internal, "aggregate filter is %s, not boolean", cond.DataType())
	}
	var sel []int32
	var gs []uint32
	for r := 0; r < bc.Len(); r++ {
		if bc.IsValid(r) && bc.Value(r) {
			sel = append(sel, int32(r))
			gs = append(gs, ids[r])
		}
	}
	if len(sel) == 0 {
		return nil
	}
	taken, err := gatherAll(mem, args, sel)
	if err != nil {
		return err
	}
	defer releaseAll(taken)
	return a.Update(gs, taken)
}

func sortKeyExprs(keys []expr.SortKey) []expr.Expr {
	out := make([]expr.Expr, len(keys))
	for i, k := range keys {
		out[i] = k.Expr
	}
	return out
}

// emit builds the output batches: keys, then results (or states).
func (h *hashAgg) emit() error {
	mem := h.tc.Mem()
	var cols []arrow.Array
	for k, chunks := range h.keys {
		var col arrow.Array
		switch len(chunks) {
		case 0:
			col = nullColumn(mem, h.groupBy[k].DataType(), 0)
		case 1:
			col = chunks[0]
			col.Retain()
		default:
			c, err := array.Concatenate(chunks, mem)
			if err != nil {
				releaseAll(cols)
				return err
			}
			col = c
		}
		cols = append(cols, col)
	}
	for _, a := range h.accs {
		if h.mode == AggPartial {
			st, err := a.State(mem)
			if err != nil {
				releaseAll(cols)
				return err
			}
			cols = append(cols, st...)
			continue
		}
		f, err := a.Final(mem)
		if err != nil {
			releaseAll(cols)
			return err
		}
		cols = append(cols, f)
	}
	all, err := makeBatch(mem, h.out, cols, h.groups)
	if err != nil {
		return err
	}
	defer all.Release()
	h.pending = sliceBatches(h.out, all.Columns(), h.groups)
	h.freeState()
	return nil
}

func (h *hashAgg) freeState() {
	for _, chunks := range h.keys {
		releaseAll(chunks)
	}
	h.keys = nil
	h.keyBytes = 0
	h.releaseAccs()
	h.table = nil
	h.res.free()
	h.groups = 0
}

func (h *hashAgg) releaseAccs() {
	for _, a := range h.accs {
		a.Release()
	}
	h.accs = nil
}

func (h *hashAgg) Close() error {
	if h.closed {
		return nil
	}
	h.closed = true
	h.freeState()
	releaseBatches(h.pending)
	h.pending = nil
	if h.spill != nil {
		h.spill.close()
	}
	return h.input.Close()
}
