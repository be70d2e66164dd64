package ops

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/agg/accum"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

type windowStream struct {
	tc    *execution.TaskContext
	input execution.Stream
	funcs []WindowSpec
	out   *arrow.Schema
	// byPartition: every function has the same PARTITION BY and ORDER BY
	// (as the planner groups them), so partitions are computed one at a
	// time; otherwise the whole input is buffered.
	byPartition bool
	buf         []arrow.RecordBatch // rows not computed yet
	bufRows     int64
	bufBytes    int64
	tail        int64             // row of buf where its last (maybe incomplete) partition starts
	held        arrow.RecordBatch // input after a spilled partition's end, not looked at yet
	heldStart   bool              // held's first row starts a partition
	lastKey     []byte            // partition key of the last row looked at
	keyBuf      []byte
	keyOffs     []int
	part        *partWriter      // the partition being spilled
	spilled     execution.Stream // a spilled partition's output being read
	spill       *execution.Spiller
	pending     []arrow.RecordBatch
	eof         bool
	closed      bool
}

// NewWindow appends one column per window function to its input, which must
// be sorted by each function's PARTITION BY then ORDER BY keys. When all
// functions share those keys (one planner Window node), partitions are
// computed as they complete; otherwise the input is buffered whole. Ranking
// functions are one pass, aggregates over frames that start at the
// partition start (or end at its end) are running folds, other frames are
// folded per row. Under a query memory limit, a partition that does not fit
// is written to a spill file and evaluated in bounded chunks
// (window_spill.go).
func NewWindow(tc *execution.TaskContext, input execution.Stream, funcs []WindowSpec, out *arrow.Schema) (execution.Stream, error) {
	if out.NumFields() != input.Schema().NumFields()+len(funcs) {
		return nil, qerr.New(qerr.Internal, "window: output has %d columns, want %d", out.NumFields(), input.Schema().NumFields()+len(funcs))
	}
	w := &windowStream{tc: tc, input: input, funcs: funcs, out: out, byPartition: len(funcs) > 0}
	for _, f := range funcs[min(1, len(funcs)):] {
		if fmt.Sprint(f.PartitionBy, f.OrderBy) != fmt.Sprint(funcs[0].PartitionBy, funcs[0].OrderBy) {
			w.byPartition = false
		}
	}
	return w, nil
}

func (w *windowStream) Schema() *arrow.Schema { return w.out }

func (w *windowStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if w.spilled != nil {
			b, err := w.spilled.Next(ctx)
			if err != execution.EOF {
				return b, err
			}
			w.spilled.Close()
			w.spilled = nil
			continue
		}
		if len(w.pending) > 0 {
			b := w.pending[0]
			w.pending = w.pending[1:]
			return b, nil
		}
		if w.eof {
			return nil, execution.EOF
		}
		if err := w.advance(ctx); err != nil {
			return nil, err
		}
	}
}

// advance looks at one more input batch: it joins the buffer (computed
// once complete partitions add up to a batch) or the spilling partition.
func (w *windowStream) advance(ctx context.Context) error {
	b, start := w.held, w.heldStart
	w.held, w.heldStart = nil, false
	if b == nil {
		var err error
		if b, err = w.input.Next(ctx); err == execution.EOF {
			w.eof = true
			if w.part != nil {
				return w.finishSpill()
			}
			return w.flush(w.bufRows)
		} else if err != nil {
			return err
		}
	}
	n := int(b.NumRows())
	if n == 0 {
		b.Release()
		return nil
	}
	if !w.byPartition {
		w.buf = append(w.buf, b)
		w.bufRows += int64(n)
		return nil
	}
	starts, err := w.partitionStarts(b, start)
	if err != nil {
		b.Release()
		return err
	}
	if w.part != nil {
		if len(starts) == 0 {
			err := w.part.write(b)
			b.Release()
			return err
		}
		head := b.NewSlice(0, int64(starts[0]))
		err := w.part.write(head)
		head.Release()
		w.held, w.heldStart = b.NewSlice(int64(starts[0]), int64(n)), true
		b.Release()
		if err != nil {
			return err
		}
		return w.finishSpill()
	}
	base := w.bufRows
	w.buf = append(w.buf, b)
	w.bufRows += int64(n)
	last := execution.BatchBytes(b)
	w.bufBytes += last
	if len(starts) > 0 {
		w.tail = base + int64(starts[len(starts)-1])
	}
	if w.tail >= execution.BatchSize {
		return w.flush(w.tail)
	}
	if w.overBudget(last) {
		// The last partition goes to disk first: computing the complete
		// ones before it needs the room.
		head := w.cut(w.tail)
		if err := w.startSpill(); err != nil {
			releaseBatches(head)
			return err
		}
		out, err := w.computeAll(head)
		w.pending = append(w.pending, out...)
		return err
	}
	return nil
}

// partitionStarts returns the rows of b that start a new partition (a
// first row only when it differs from the previous batch's last, or start).
func (w *windowStream) partitionStarts(b arrow.RecordBatch, start bool) ([]int, error) {
	n := int(b.NumRows())
	keys, err := evalAll(w.tc.Mem(), w.funcs[0].PartitionBy, b)
	if err != nil {
		return nil, err
	}
	defer releaseAll(keys)
	w.keyBuf, w.keyOffs = execution.EncodeKeys(keys, n, w.keyBuf, w.keyOffs)
	key := func(i int) []byte { return w.keyBuf[w.keyOffs[i]:w.keyOffs[i+1]] }
	var starts []int
	if start || (w.lastKey != nil && !bytes.Equal(w.lastKey, key(0))) {
		starts = append(starts, 0)
	}
	for i := 1; i < n; i++ {
		if !bytes.Equal(key(i-1), key(i)) {
			starts = append(starts, i)
		}
	}
	w.lastKey = append(w.lastKey[:0], key(n-1)...)
	return starts, nil
}

// overBudget reports whether the buffered last partition should spill:
// under a memory limit, when computing it in memory (a copy of the rows,
// the results, per-row bounds) plus two more batches would not fit.
func (w *windowStream) overBudget(last int64) bool {
	a := w.tc.Alloc
	rows := w.bufRows - w.tail
	if a == nil || rows <= execution.BatchSize || !a.Limited() {
		return false
	}
	return !a.Fits(w.bufBytes + rows*int64(16+8*len(w.funcs)) + 2*last)
}

// flush computes the first k buffered rows (whole partitions) into pending.
func (w *windowStream) flush(k int64) error {
	out, err := w.computeAll(w.cut(k))
	w.pending = append(w.pending, out...)
	return err
}

// cut takes the first k buffered rows out of the buffer.
func (w *windowStream) cut(k int64) []arrow.RecordBatch {
	if k == 0 {
		return nil
	}
	var head, rest []arrow.RecordBatch
	off := int64(0)
	for _, b := range w.buf {
		n := b.NumRows()
		switch {
		case off+n <= k:
			head = append(head, b)
		case off >= k:
			rest = append(rest, b)
		default:
			head = append(head, b.NewSlice(0, k-off))
			rest = append(rest, b.NewSlice(k-off, n))
			b.Release()
		}
		off += n
	}
	w.buf, w.bufRows, w.tail = rest, w.bufRows-k, w.tail-k
	w.bufBytes = 0
	for _, b := range rest {
		w.bufBytes += execution.BatchBytes(b)
	}
	return head
}

// computeAll computes the window functions over whole partitions in
// memory (taking the batches) and returns the output in BatchSize batches.
func (w *windowStream) computeAll(batches []arrow.RecordBatch) ([]arrow.RecordBatch, error) {
	defer releaseBatches(batches)
	if len(batches) == 0 {
		return nil, nil
	}
	mem := w.tc.Mem()
	in := w.input.Schema()
	cols, err := concatColumns(mem, in, batches)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, b := range batches {
		n += int(b.NumRows())
	}
	all := arrowBatch(in, cols, int64(n))
	releaseAll(cols)
	defer all.Release()
	outCols := make([]arrow.Array, 0, w.out.NumFields())
	for _, c := range all.Columns() {
		c.Retain()
		outCols = append(outCols, c)
	}
	for _, f := range w.funcs {
		l, orderCols, err := w.layout(all, n, f)
		if err != nil {
			releaseAll(outCols)
			return nil, err
		}
		r, err := w.compute(all, n, f, l, orderCols, nil)
		releaseAll(orderCols)
		if err != nil {
			releaseAll(outCols)
			return nil, err
		}
		outCols = append(outCols, r)
	}
	res, err := makeBatch(mem, w.out, outCols, n)
	if err != nil {
		return nil, err
	}
	defer res.Release()
	return sliceBatches(w.out, res.Columns(), n), nil
}

// layout holds, per row, its partition and peer-group bounds (inclusive).
// For a chunk of a spilled partition the batch is part of its partition:
// bounds before its first row are negative, those after it >= n, and only
// rows [from, to) need results (the others are context).
type layout struct {
	ps, pe       []int32 // partition start/end
	peerS, peerE []int32
	from, to     int
	dense0       int64       // DENSE_RANK of row 0 when its partition starts before the batch
	pinned       *pinnedRows // rows of the partition outside the batch that frames may name
}

func (w *windowStream) layout(b arrow.RecordBatch, n int, f WindowSpec) (*layout, []arrow.Array, error) {
	mem := w.tc.Mem()
	pk, err := evalAll(mem, f.PartitionBy, b)
	if err != nil {
		return nil, nil, err
	}
	defer releaseAll(pk)
	ok, err := evalAll(mem, sortKeyExprs(f.OrderBy), b)
	if err != nil {
		return nil, nil, err
	}
	l := &layout{ps: make([]int32, n), pe: make([]int32, n), peerS: make([]int32, n), peerE: make([]int32, n), to: n}
	pc := make([]execution.Comparator, len(pk))
	for i, a := range pk {
		pc[i] = execution.NewComparator(a, false, true)
	}
	oc := make([]execution.Comparator, len(ok))
	for i, a := range ok {
		oc[i] = execution.NewComparator(a, f.OrderBy[i].Desc, f.OrderBy[i].NullsFirst)
	}
	same := func(cs []execution.Comparator, i, j int) bool {
		for _, c := range cs {
			if c(i, j) != 0 {
				return false
			}
		}
		return true
	}
	start, peer := 0, 0
	for i := 0; i < n; i++ {
		if i > 0 && !same(pc, i-1, i) {
			start, peer = i, i
		} else if i > 0 && !same(oc, i-1, i) {
			peer = i
		}
		l.ps[i], l.peerS[i] = int32(start), int32(peer)
	}
	end, pend := n-1, n-1
	for i := n - 1; i >= 0; i-- {
		if i < n-1 && l.ps[i] != l.ps[i+1] {
			end, pend = i, i
		} else if i < n-1 && l.peerS[i] != l.peerS[i+1] {
			pend = i
		}
		l.pe[i], l.peerE[i] = int32(end), int32(pend)
	}
	return l, ok, nil
}

// compute evaluates f for the rows of b; carry (spilled partitions only)
// holds a running aggregate's state across chunks.
func (w *windowStream) compute(b arrow.RecordBatch, n int, f WindowSpec, l *layout, orderCols []arrow.Array, carry *frameCarry) (arrow.Array, error) {
	mem := w.tc.Mem()
	name := strings.ToLower(f.Func)
	ints := func(v func(i int) int64) arrow.Array {
		ib := array.NewInt64Builder(mem)
		defer ib.Release()
		ib.Reserve(n)
		for i := 0; i < n; i++ {
			ib.UnsafeAppend(v(i))
		}
		return ib.NewArray()
	}
	floats := func(v func(i int) float64) arrow.Array {
		fb := array.NewFloat64Builder(mem)
		defer fb.Release()
		fb.Reserve(n)
		for i := 0; i < n; i++ {
			fb.UnsafeAppend(v(i))
		}
		return fb.NewArray()
	}
	switch name {
	case "row_number":
		return ints(func(i int) int64 { return int64(i) - int64(l.ps[i]) + 1 }), nil
	case "rank":
		return ints(func(i int) int64 { return int64(l.peerS[i]-l.ps[i]) + 1 }), nil
	case "dense_rank":
		dr := denseRanks(l, n)
		return ints(func(i int) int64 { return dr[i] }), nil
	case "percent_rank":
		return floats(func(i int) float64 {
			rows := l.pe[i] - l.ps[i] + 1
			if rows <= 1 {
				return 0
			}
			return float64(l.peerS[i]-l.ps[i]) / float64(rows-1)
		}), nil
	case "cume_dist":
		return floats(func(i int) float64 {
			return float64(l.peerE[i]-l.ps[i]+1) / float64(l.pe[i]-l.ps[i]+1)
		}), nil
	case "ntile":
		args, err := evalAll(mem, f.Args, b)
		if err != nil {
			return nil, err
		}
		defer releaseAll(args)
		buckets, err := int64Arg(args, 0, n)
		if err != nil {
			return nil, err
		}
		for _, v := range buckets {
			if v <= 0 {
				return nil, qerr.New(qerr.InvalidArgument, "Incorrect arguments to ntile")
			}
		}
		return ints(func(i int) int64 {
			rows, k, nb := int64(l.pe[i]-l.ps[i]+1), int64(i)-int64(l.ps[i]), buckets[i]
			q, r := rows/nb, rows%nb
			if k < r*(q+1) {
				return k/(q+1) + 1
			}
			return r + (k-r*(q+1))/max(q, 1) + 1
		}), nil
	case "lag", "lead":
		return w.lagLead(b, n, l, f, name == "lead")
	case "first_value", "last_value", "nth_value":
		return w.valueAt(b, n, l, f, orderCols, name)
	}
	return w.aggregate(b, n, l, f, orderCols, carry)
}

func denseRanks(l *layout, n int) []int64 {
	dr := make([]int64, n)
	for i := 0; i < n; i++ {
		switch {
		case i == int(l.ps[i]):
			dr[i] = 1
		case i == 0:
			dr[i] = l.dense0
		case l.peerS[i] == int32(i):
			dr[i] = dr[i-1] + 1
		default:
			dr[i] = dr[i-1]
		}
	}
	return dr
}

// outside reports an index a chunk of a spilled partition lacks (the
// context rows were sized for every frame, so this is a bug).
func outside(f WindowSpec, i, j int) error {
	return qerr.New(qerr.Internal, "window %s: row %d reads row %d outside its spilled chunk", f.Func, i, j)
}

// int64Arg reads argument k as int64 per row (NULL = 1 for offsets).
func int64Arg(args []arrow.Array, k, n int) ([]int64, error) {
	out := make([]int64, n)
	if k >= len(args) {
		for i := range out {
			out[i] = 1
		}
		return out, nil
	}
	if !execution.IntKeyValues(args[k], out) {
		return nil, qerr.New(qerr.InvalidArgument, "window function argument must be an integer, got %s", args[k].DataType())
	}
	return out, nil
}

func (w *windowStream) lagLead(b arrow.RecordBatch, n int, l *layout, f WindowSpec, lead bool) (arrow.Array, error) {
	mem := w.tc.Mem()
	args, err := evalAll(mem, f.Args, b)
	if err != nil {
		return nil, err
	}
	defer releaseAll(args)
	offs, err := int64Arg(args, 1, n)
	if err != nil {
		return nil, err
	}
	src := args[0]
	if len(args) > 2 {
		// Rows outside the partition take the default: index n+i of value++default.
		if src, err = array.Concatenate([]arrow.Array{args[0], args[2]}, mem); err != nil {
			return nil, err
		}
		defer src.Release()
	}
	idx := make([]int32, n)
	for i := range idx {
		j := int64(i) - offs[i]
		if lead {
			j = int64(i) + offs[i]
		}
		switch {
		case i < l.from || i >= l.to:
			idx[i] = -1
		case j >= int64(l.ps[i]) && j <= int64(l.pe[i]):
			if j < 0 || j >= int64(n) {
				return nil, outside(f, i, int(j))
			}
			idx[i] = int32(j)
		case len(args) > 2:
			idx[i] = int32(n + i)
		default:
			idx[i] = -1
		}
	}
	return gather(mem, src, idx)
}

func (w *windowStream) valueAt(b arrow.RecordBatch, n int, l *layout, f WindowSpec, orderCols []arrow.Array, name string) (arrow.Array, error) {
	mem := w.tc.Mem()
	args, err := evalAll(mem, f.Args, b)
	if err != nil {
		return nil, err
	}
	defer releaseAll(args)
	s, e, err := frameBounds(l, n, f, orderCols)
	if err != nil {
		return nil, err
	}
	var nth []int64
	if name == "nth_value" {
		if nth, err = int64Arg(args, 1, n); err != nil {
			return nil, err
		}
	}
	src := args[0]
	if l.pinned != nil {
		// A chunk of a spilled partition: rows before or after it come
		// from the pinned rows, appended after the chunk's n.
		if src, err = l.pinned.append(mem, f.Args[0], src); err != nil {
			return nil, err
		}
		defer src.Release()
	}
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = -1
		if s[i] > e[i] || i < l.from || i >= l.to {
			continue
		}
		j := int64(-1)
		switch name {
		case "first_value":
			j = int64(s[i])
		case "last_value":
			j = int64(e[i])
		default:
			if k := int64(s[i]) + nth[i] - 1; nth[i] >= 1 && k <= int64(e[i]) {
				j = k
			} else {
				continue
			}
		}
		if j >= 0 && j < int64(n) {
			idx[i] = int32(j)
			continue
		}
		k := -1
		if l.pinned != nil {
			k = l.pinned.find(j - int64(l.ps[i])) // the partition's row number
		}
		if k < 0 {
			return nil, outside(f, i, int(j))
		}
		idx[i] = int32(n + k)
	}
	return gather(mem, src, idx)
}

// frameBounds returns each row's frame [s, e] (inclusive; s > e = empty).
func frameBounds(l *layout, n int, f WindowSpec, orderCols []arrow.Array) ([]int32, []int32, error) {
	s, e := make([]int32, n), make([]int32, n)
	fr := f.Frame
	if fr == nil {
		if len(f.OrderBy) > 0 {
			fr = &WindowFrame{Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: CurrentRow}}
		} else {
			fr = &WindowFrame{Rows: true, Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: UnboundedFollowing}}
		}
	}
	var keys []float64
	var keyNull func(int) bool
	needKeys := !fr.Rows && (fr.Start.Kind == Preceding || fr.Start.Kind == Following || fr.End.Kind == Preceding || fr.End.Kind == Following)
	desc := len(f.OrderBy) > 0 && f.OrderBy[0].Desc
	if needKeys {
		if len(orderCols) != 1 {
			return nil, nil, qerr.New(qerr.InvalidArgument, "RANGE with an offset needs exactly one ORDER BY expression")
		}
		var err error
		if keys, err = floatKeys(orderCols[0]); err != nil {
			return nil, nil, err
		}
		keyNull = orderCols[0].IsNull
	}
	bound := func(b FrameBound, i int, isStart bool) (int32, error) {
		ps, pe := l.ps[i], l.pe[i]
		switch b.Kind {
		case UnboundedPreceding:
			return ps, nil
		case UnboundedFollowing:
			return pe, nil
		case CurrentRow:
			if fr.Rows {
				return int32(i), nil
			}
			if isStart {
				return l.peerS[i], nil
			}
			return l.peerE[i], nil
		}
		if fr.Rows {
			off := b.Offset
			if b.Kind == Preceding {
				off = -off
			}
			return int32(max(min(int64(i)+off, int64(pe)+1), int64(ps)-1)), nil
		}
		if keyNull(i) {
			if isStart {
				return l.peerS[i], nil
			}
			return l.peerE[i], nil
		}
		d, err := offsetValue(b.OffsetValue)
		if err != nil {
			return 0, err
		}
		// Target value: preceding = earlier in sort order.
		if (b.Kind == Preceding) != desc {
			d = -d
		}
		target := keys[i] + d
		// Search the partition's non-NULL rows (sorted by key in sort direction).
		lo, hi := max(int(ps), 0), min(int(pe)+1, n) // a spilled chunk holds the reach
		for lo < hi && keyNull(lo) {
			lo++
		}
		for hi > lo && keyNull(hi-1) {
			hi--
		}
		before := func(v float64) bool { // v sorts before target
			if desc {
				return v > target
			}
			return v < target
		}
		if isStart {
			k := lo + sort.Search(hi-lo, func(k int) bool { return !before(keys[lo+k]) })
			return int32(k), nil
		}
		after := func(v float64) bool {
			if desc {
				return v < target
			}
			return v > target
		}
		k := lo + sort.Search(hi-lo, func(k int) bool { return after(keys[lo+k]) })
		return int32(k - 1), nil
	}
	for i := 0; i < n; i++ {
		a, err := bound(fr.Start, i, true)
		if err != nil {
			return nil, nil, err
		}
		z, err := bound(fr.End, i, false)
		if err != nil {
			return nil, nil, err
		}
		s[i], e[i] = max(a, l.ps[i]), min(z, l.pe[i])
	}
	return s, e, nil
}

func offsetValue(e expr.Expr) (float64, error) {
	if e == nil {
		return 0, qerr.New(qerr.Internal, "RANGE frame without an offset value")
	}
	sc, err := expr.EvalScalar(e)
	if err != nil {
		return 0, err
	}
	switch v := sc.(type) {
	case *scalar.Int64:
		return float64(v.Value), nil
	case *scalar.Int32:
		return float64(v.Value), nil
	case *scalar.Uint64:
		return float64(v.Value), nil
	case *scalar.Float64:
		return v.Value, nil
	case *scalar.Decimal128:
		return v.Value.ToFloat64(v.Type.(*arrow.Decimal128Type).Scale), nil
	}
	return 0, qerr.New(qerr.Unimplemented, "RANGE offset of type %s is not supported", sc.DataType())
}

func floatKeys(a arrow.Array) ([]float64, error) {
	n := a.Len()
	out := make([]float64, n)
	ints := make([]int64, n)
	if execution.IntKeyValues(a, ints) {
		for i, v := range ints {
			out[i] = float64(v)
		}
		return out, nil
	}
	switch c := a.(type) {
	case *array.Float64:
		copy(out, c.Float64Values())
	case *array.Float32:
		for i, v := range c.Float32Values() {
			out[i] = float64(v)
		}
	case *array.Decimal128:
		sc := c.DataType().(*arrow.Decimal128Type).Scale
		for i := range out {
			out[i] = c.Value(i).ToFloat64(sc)
		}
	default:
		return nil, qerr.New(qerr.InvalidArgument, "RANGE with an offset needs a numeric ORDER BY, got %s", a.DataType())
	}
	return out, nil
}

// aggregate evaluates an aggregate over each row's frame.
func (w *windowStream) aggregate(b arrow.RecordBatch, n int, l *layout, f WindowSpec, orderCols []arrow.Array, carry *frameCarry) (arrow.Array, error) {
	mem := w.tc.Mem()
	if f.Distinct {
		return nil, qerr.New(qerr.Unimplemented, "This version of MySQL doesn't yet support '<window function>(DISTINCT ..)'")
	}
	as := AccumSpec(AggSpec{Func: f.Func, Args: f.Args, Type: f.Type})
	as.Mem = mem
	acc, err := accum.New(as)
	if err != nil {
		return nil, err
	}
	defer acc.Release()
	args, err := evalAll(mem, f.Args, b)
	if err != nil {
		return nil, err
	}
	defer releaseAll(args)
	s, e, err := frameBounds(l, n, f, orderCols)
	if err != nil {
		return nil, err
	}
	prefix, suffix := true, true
	for i := 0; i < n; i++ {
		prefix = prefix && s[i] == l.ps[i]
		suffix = suffix && e[i] == l.pe[i]
	}
	if carry != nil { // a chunk of a spilled partition: the frame decides
		prefix, suffix = carry.prefix, carry.suffix
	}
	merger, canMerge := acc.(accum.GroupMerger)
	// Group n stays empty: the value of empty frames.
	acc.Resize(n + 1)
	idx := make([]int32, n)
	switch {
	case canMerge && (prefix || suffix):
		ids := make([]uint32, n)
		for i := range ids {
			ids[i] = uint32(i)
		}
		if err := acc.Update(ids, args); err != nil {
			return nil, err
		}
		if carry != nil && carry.states != nil && n > 0 {
			// The rows before (running) or after (suffix) the chunk.
			into := uint32(0)
			if !prefix {
				into = uint32(n - 1)
			}
			if err := acc.Merge([]uint32{into}, carry.states); err != nil {
				return nil, err
			}
		}
		if prefix {
			for i := 1; i < n; i++ {
				if l.ps[i] != int32(i) {
					merger.MergeGroup(uint32(i), uint32(i-1))
				}
			}
		} else {
			for i := n - 2; i >= 0; i-- {
				if l.pe[i] != int32(i) {
					merger.MergeGroup(uint32(i), uint32(i+1))
				}
			}
		}
		for i := range idx {
			switch {
			case s[i] > e[i] || i < l.from || i >= l.to:
				idx[i] = int32(n)
				continue
			case prefix:
				idx[i] = e[i]
			default:
				idx[i] = s[i]
			}
			if idx[i] < 0 || idx[i] >= int32(n) {
				return nil, outside(f, i, int(idx[i]))
			}
		}
		if carry != nil {
			if err := carry.keep(mem, acc); err != nil {
				return nil, err
			}
		}
	default:
		// General frames: fold every row's frame into its own group, in chunks.
		var groups []uint32
		var rows []int32
		flush := func() error {
			if len(rows) == 0 {
				return nil
			}
			g, err := gatherAll(mem, args, rows)
			if err != nil {
				return err
			}
			defer releaseAll(g)
			err = acc.Update(groups, g)
			groups, rows = groups[:0], rows[:0]
			return err
		}
		for i := 0; i < n; i++ {
			idx[i] = int32(i)
			if i < l.from || i >= l.to {
				continue
			}
			if s[i] <= e[i] && (s[i] < 0 || int(e[i]) >= n) {
				return nil, outside(f, i, int(e[i]))
			}
			for r := s[i]; r <= e[i]; r++ {
				groups = append(groups, uint32(i))
				rows = append(rows, r)
			}
			if len(rows) >= foldRows {
				if err := flush(); err != nil {
					return nil, err
				}
			}
		}
		if err := flush(); err != nil {
			return nil, err
		}
	}
	all, err := acc.Final(mem)
	if err != nil {
		return nil, err
	}
	defer all.Release()
	return gather(mem, all, idx)
}

func (w *windowStream) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	releaseBatches(w.pending)
	releaseBatches(w.buf)
	w.pending, w.buf = nil, nil
	if w.held != nil {
		w.held.Release()
		w.held = nil
	}
	if w.part != nil {
		w.part.abort()
		w.part = nil
	}
	if w.spilled != nil {
		w.spilled.Close()
		w.spilled = nil
	}
	if w.spill != nil {
		w.spill.Close()
	}
	return w.input.Close()
}

// foldRows is how many (group, row) pairs a general frame gathers per
// accumulator update: the gathered arguments are temporary memory.
const foldRows = 8192
