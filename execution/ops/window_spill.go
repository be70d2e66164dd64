package ops

import (
	"bytes"
	"context"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/agg/accum"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// A partition too big for memory is written to a spill file as it arrives
// (counting its rows, folding whole-partition aggregates and per-block
// states for aggregates to UNBOUNDED FOLLOWING, keeping copies of the few
// rows frames can name from afar: the first, the last, NTH_VALUE's n-th),
// then read back in chunks. Each chunk is computed by the in-memory code
// over a context of rows around it: back rows before (LAG, n PRECEDING,
// RANGE offsets, the current peer group for RANGE CURRENT ROW starts),
// ahead rows after (LEAD, n FOLLOWING, RANGE offsets, the rest of the last
// row's peer group). What crosses chunks is carried: the partition's row
// count, the peer start and DENSE_RANK of the context's first row, and for
// aggregates from UNBOUNDED PRECEDING (to UNBOUNDED FOLLOWING) the state of
// the rows before (after) the context. Accumulators that cannot merge
// groups (GROUP_CONCAT) over such frames, and non-constant offsets, are
// refused with a clear error when their partition must spill.

// spillChunkRows, when set (tests), is the rows per chunk of a spilled
// partition instead of what fits the memory limit.
var spillChunkRows int64

// windowPlan is what a spilled partition's functions need.
type windowPlan struct {
	back, ahead int64
	peerBack    bool    // a frame starts at the current row's peer group
	nth         []int64 // NTH_VALUE rows (1-based) of frames from the partition start
	whole       []bool  // per function: an aggregate over the whole partition
	prefix      []bool  // per function: an aggregate from UNBOUNDED PRECEDING
	suffix      []bool  // per function: an aggregate to UNBOUNDED FOLLOWING
	anySuffix   bool
	// RANGE frames with offsets reach valueBack/valueAhead in ORDER BY
	// value before/after the current row (in sort direction).
	byValue               bool
	valueBack, valueAhead float64
}

// effectiveFrame is f's frame with MySQL's defaults, peers of a RANGE frame
// without ORDER BY being the whole partition.
func effectiveFrame(f WindowSpec) WindowFrame {
	if f.Frame == nil {
		if len(f.OrderBy) > 0 {
			return WindowFrame{Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: CurrentRow}}
		}
		return WindowFrame{Rows: true, Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: UnboundedFollowing}}
	}
	fr := *f.Frame
	if !fr.Rows && len(f.OrderBy) == 0 {
		if fr.Start.Kind == CurrentRow {
			fr.Start.Kind = UnboundedPreceding
		}
		if fr.End.Kind == CurrentRow {
			fr.End.Kind = UnboundedFollowing
		}
	}
	return fr
}

// constInt is the value of a constant integer argument (LAG offsets,
// NTH_VALUE's n), def when absent.
func constInt(args []expr.Expr, k int, def int64) (int64, bool) {
	if k >= len(args) {
		return def, true
	}
	b := array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)
	defer b.Release()
	a, err := args[k].Eval(memory.DefaultAllocator, b)
	if err != nil {
		return 0, false
	}
	defer a.Release()
	v := make([]int64, 1)
	if a.Len() != 1 || !execution.IntKeyValues(a, v) {
		return 0, false
	}
	return v[0], true
}

// planSpill says how f's functions run over a spilled partition, or why
// they cannot (rows: the partition's size so far, for the message).
func planSpill(funcs []WindowSpec, rows int64) (*windowPlan, error) {
	p := &windowPlan{whole: make([]bool, len(funcs)), prefix: make([]bool, len(funcs)), suffix: make([]bool, len(funcs))}
	refuse := func(f WindowSpec, why string) error {
		return qerr.New(qerr.ResourceExhausted, "window function %s: a partition of more than %d rows does not fit in the query memory limit, and %s cannot be computed without the whole partition in memory (raise --query-memory-limit)",
			strings.ToUpper(f.Func), rows, why)
	}
	for i, f := range funcs {
		name := strings.ToLower(f.Func)
		switch name {
		case "row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile":
			continue
		case "lag", "lead":
			off, ok := constInt(f.Args, 1, 1)
			if !ok {
				return nil, refuse(f, "a non-constant offset")
			}
			if (name == "lag") == (off >= 0) {
				p.back = max(p.back, abs64(off))
			} else {
				p.ahead = max(p.ahead, abs64(off))
			}
			continue
		}
		fr := effectiveFrame(f)
		for _, b := range []FrameBound{fr.Start, fr.End} {
			if b.Kind != Preceding && b.Kind != Following {
				continue
			}
			if fr.Rows {
				if b.Kind == Preceding {
					p.back = max(p.back, b.Offset)
				} else {
					p.ahead = max(p.ahead, b.Offset)
				}
				continue
			}
			// RANGE: the reach is in ORDER BY values (NULL keys: peers).
			d, err := offsetValue(b.OffsetValue)
			if err != nil {
				return nil, err
			}
			if len(f.OrderBy) != 1 {
				return nil, refuse(f, "a RANGE frame with an offset over several ORDER BY keys")
			}
			p.byValue, p.peerBack = true, true
			if b.Kind == Preceding {
				p.valueBack = max(p.valueBack, d)
			} else {
				p.valueAhead = max(p.valueAhead, d)
			}
		}
		if !fr.Rows && fr.Start.Kind == CurrentRow {
			p.peerBack = true
		}
		fromStart, toEnd := fr.Start.Kind == UnboundedPreceding, fr.End.Kind == UnboundedFollowing
		if name == "nth_value" {
			nth, ok := constInt(f.Args, 1, 1)
			if !ok {
				return nil, refuse(f, "a non-constant n")
			}
			if fromStart {
				p.nth = append(p.nth, nth)
			} else if nth > 1 {
				p.ahead += nth - 1 // the n-th row of a frame starting here
			}
			continue
		}
		if name == "first_value" || name == "last_value" {
			continue // the pinned first and last rows cover unbounded ends
		}
		if fromStart && toEnd {
			p.whole[i] = true
			continue
		}
		if fromStart || toEnd {
			as := AccumSpec(AggSpec{Func: f.Func, Args: f.Args, Type: f.Type})
			acc, err := accum.New(as)
			if err != nil {
				return nil, err
			}
			_, merges := acc.(accum.GroupMerger)
			acc.Release()
			if !merges {
				return nil, refuse(f, "a running "+f.Func)
			}
			p.prefix[i], p.suffix[i] = fromStart, toEnd
			p.anySuffix = p.anySuffix || toEnd
		}
	}
	return p, nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// startSpill moves the buffered partition (all of buf) to a spill file.
func (w *windowStream) startSpill() error {
	p, err := planSpill(w.funcs, w.bufRows)
	if err != nil {
		return err
	}
	if w.spill == nil {
		w.spill = execution.NewSpiller(w.tc, "window")
	}
	pw := &partWriter{w: w, plan: p}
	pw.pins = append([]int64{0}, p.nth...)
	for i := range pw.pins {
		pw.pins[i] = max(pw.pins[i]-1, 0)
	}
	pw.pins[0] = 0
	w.tc.Logger().Debug("window partition spills", zap.Int64("rows", w.bufRows))
	if pw.file, err = w.spill.Create(w.input.Schema()); err != nil {
		return err
	}
	w.part = pw
	buf := w.buf
	w.buf, w.bufRows, w.bufBytes, w.tail = nil, 0, 0, 0
	defer releaseBatches(buf)
	for _, b := range buf {
		if err := pw.write(b); err != nil {
			return err
		}
	}
	return nil
}

// finishSpill ends the spilling partition and starts reading its output.
func (w *windowStream) finishSpill() error {
	pw := w.part
	w.part = nil
	ev, err := pw.finish()
	if err != nil {
		return err
	}
	w.spilled = ev
	return nil
}

// partWriter writes one partition to a spill file.
type partWriter struct {
	w      *windowStream
	plan   *windowPlan
	file   *execution.SpillWriter
	rows   int64
	bytes  int64
	pins   []int64             // partition rows to keep a copy of
	pinned []arrow.RecordBatch // their copies, and the last row's
	pinAt  []int64
	last   arrow.RecordBatch
	whole  []accum.Accumulator // per function: aggregates over the whole partition, or per block (suffix)
	ids    []uint32
}

func (pw *partWriter) write(b arrow.RecordBatch) error {
	mem := pw.w.tc.Mem()
	n := b.NumRows()
	if n == 0 { // the partition ended with the previous batch
		return nil
	}
	// Small batches (reading back holds one or two beside a small chunk)
	// of whole blocks: rows [k*spillBatchRows, (k+1)*spillBatchRows).
	for off := int64(0); off < n; {
		end := min(off+spillBatchRows-(pw.rows+off)%spillBatchRows, n)
		part := b.NewSlice(off, end)
		err := pw.file.Write(part)
		part.Release()
		if err != nil {
			return err
		}
		off = end
	}
	for _, r := range pw.pins {
		if r >= pw.rows && r < pw.rows+n && !slices.Contains(pw.pinAt, r) {
			c, err := copyRow(mem, b, r-pw.rows)
			if err != nil {
				return err
			}
			pw.pinned, pw.pinAt = append(pw.pinned, c), append(pw.pinAt, r)
		}
	}
	if pw.whole == nil {
		pw.whole = make([]accum.Accumulator, len(pw.w.funcs))
	}
	pw.ids = pw.ids[:0]
	for i := int64(0); i < n; i++ {
		pw.ids = append(pw.ids, uint32((pw.rows+i)/spillBatchRows))
	}
	for i, f := range pw.w.funcs {
		if !pw.plan.whole[i] && !pw.plan.suffix[i] {
			continue
		}
		if pw.whole[i] == nil {
			as := AccumSpec(AggSpec{Func: f.Func, Args: f.Args, Type: f.Type})
			as.Mem = mem
			acc, err := accum.New(as)
			if err != nil {
				return err
			}
			pw.whole[i] = acc
		}
		ids := pw.ids
		if pw.plan.whole[i] {
			ids = make([]uint32, n)
		}
		pw.whole[i].Resize(int(ids[n-1]) + 1)
		args, err := evalAll(mem, f.Args, b)
		if err != nil {
			return err
		}
		err = pw.whole[i].Update(ids, args)
		releaseAll(args)
		if err != nil {
			return err
		}
	}
	if pw.last != nil {
		pw.last.Release()
	}
	b.Retain()
	pw.last = b
	pw.rows += n
	pw.bytes += execution.BatchBytes(b)
	return nil
}

// copyRow copies row r of b (a slice would hold all of b's buffers).
func copyRow(mem memory.Allocator, b arrow.RecordBatch, r int64) (arrow.RecordBatch, error) {
	cols, err := gatherAll(mem, b.Columns(), []int32{int32(r)})
	if err != nil {
		return nil, err
	}
	out := arrowBatch(b.Schema(), cols, 1)
	releaseAll(cols)
	return out, nil
}

func (pw *partWriter) abort() {
	if pw.file != nil {
		pw.file.Abort()
		pw.file = nil
	}
	releaseBatches(pw.pinned)
	pw.pinned = nil
	if pw.last != nil {
		pw.last.Release()
		pw.last = nil
	}
	for _, a := range pw.whole {
		if a != nil {
			a.Release()
		}
	}
	pw.whole = nil
}

// finish closes the file and returns the stream of the partition's output.
func (pw *partWriter) finish() (execution.Stream, error) {
	defer pw.abort()
	w := pw.w
	mem := w.tc.Mem()
	f, err := pw.file.Finish()
	pw.file = nil
	if err != nil {
		return nil, err
	}
	e := &spillEval{w: w, plan: pw.plan, file: f, n: pw.rows, dense0: 1}
	ok := false
	defer func() {
		if !ok {
			e.Close()
		}
	}()
	lastRow, err := copyRow(mem, pw.last, pw.last.NumRows()-1)
	if err != nil {
		return nil, err
	}
	pinned := append(pw.pinned, lastRow)
	pw.pinned = nil
	at := append(pw.pinAt, pw.rows-1)
	cols, err := concatColumns(mem, w.input.Schema(), pinned)
	releaseBatches(pinned)
	if err != nil {
		return nil, err
	}
	e.pinned = &pinnedRows{rows: arrowBatch(w.input.Schema(), cols, int64(len(at))), at: at}
	releaseAll(cols)
	e.whole = make([]arrow.Array, len(w.funcs))
	e.suffix = make([][]arrow.Array, len(w.funcs))
	for i, a := range pw.whole {
		switch {
		case a == nil:
		case pw.plan.whole[i]:
			if e.whole[i], err = a.Final(mem); err != nil {
				return nil, err
			}
		default:
			// Block k's group becomes the fold of blocks k.. (to the end).
			m := a.(accum.GroupMerger)
			for k := (pw.rows-1)/spillBatchRows - 1; k >= 0; k-- {
				m.MergeGroup(uint32(k), uint32(k+1))
			}
			if e.suffix[i], err = a.State(mem); err != nil {
				return nil, err
			}
		}
	}
	// Every function gets a carry: it also tells aggregate() it runs on a
	// chunk, whose frame kind comes from the plan, not from the rows.
	e.carry = make([]*frameCarry, len(w.funcs))
	for i := range e.carry {
		e.carry[i] = &frameCarry{prefix: pw.plan.prefix[i], suffix: pw.plan.suffix[i], save: -1}
	}
	e.rowBytes = max(pw.bytes/max(e.n, 1), 1)
	if e.rd, err = f.Open(); err != nil {
		return nil, err
	}
	w.tc.Logger().Info("window evaluating a spilled partition", zap.Int64("rows", e.n))
	ok = true
	return e, nil
}

// pinnedRows are copies of a spilled partition's rows at partition row
// numbers at.
type pinnedRows struct {
	rows arrow.RecordBatch
	at   []int64
}

func (p *pinnedRows) find(r int64) int { return slices.Index(p.at, r) }

// append returns e over the chunk (vals) followed by e over the pinned rows.
func (p *pinnedRows) append(mem memory.Allocator, e expr.Expr, vals arrow.Array) (arrow.Array, error) {
	pv, err := e.Eval(mem, p.rows)
	if err != nil {
		return nil, err
	}
	defer pv.Release()
	return array.Concatenate([]arrow.Array{vals, pv}, mem)
}

// frameCarry carries an aggregate across the chunks of a spilled
// partition: for a running one (prefix) the state of the partition's rows
// before the chunk's context, for one to the partition's end (suffix) that
// of the rows after it; a plain frame carries nothing.
type frameCarry struct {
	prefix, suffix bool
	states         []arrow.Array // one row per state column; nil = no rows
	save           int           // context row whose running state the next chunk starts after (-1 none)
}

// keep replaces the carried state with the running state of row save.
func (c *frameCarry) keep(mem memory.Allocator, acc accum.Accumulator) error {
	if !c.prefix || c.save < 0 {
		return nil
	}
	st, err := acc.State(mem)
	if err != nil {
		return err
	}
	defer releaseAll(st)
	next, err := gatherAll(mem, st, []int32{int32(c.save)})
	if err != nil {
		return err
	}
	releaseAll(c.states)
	c.states = next
	return nil
}

// spillEval streams the output of one spilled partition, chunk by chunk.
type spillEval struct {
	w        *windowStream
	plan     *windowPlan
	file     *execution.SpillFile
	rd       execution.Stream
	n        int64 // the partition's rows
	rowBytes int64 // their average size
	pinned   *pinnedRows
	whole    []arrow.Array   // per function: the whole-partition aggregate (1 row)
	suffix   [][]arrow.Array // per function: states of the rows from each block to the end
	carry    []*frameCarry

	buf      []arrow.RecordBatch // rows [bufStart, bufEnd) of the partition
	keys     []keyRows           // their ORDER BY keys
	bufStart int64
	bufEnd   int64
	c0, lo   int64 // next output row; first context row
	peerS0   int64 // partition row where row lo's peer group starts
	dense0   int64 // row lo's DENSE_RANK
	closed   bool
}

type keyRows struct {
	buf  []byte
	offs []int
	val  []float64 // the ORDER BY value in sort direction (RANGE offsets)
	null []bool
}

func (k keyRows) at(i int) []byte { return k.buf[k.offs[i]:k.offs[i+1]] }

// chunkRows picks the rows of the next chunk: a batch, halved while the
// chunk with its context would not fit now (its rows held about three
// times: read, concatenated, output; and per function a result, arguments,
// bounds). Asked per chunk: operators above (a sort buffering this output)
// take memory as the partition is read.
func (e *spillEval) chunkRows() int64 {
	if spillChunkRows > 0 {
		return spillChunkRows
	}
	r := int64(execution.BatchSize)
	a := e.w.tc.Alloc
	per := 3*e.rowBytes + 48*int64(len(e.w.funcs))
	ahead := e.plan.ahead
	if e.plan.anySuffix {
		ahead += spillBatchRows
	}
	for r > 64 && a != nil && !a.Fits((r+e.plan.back+ahead)*per) {
		r /= 2
	}
	return r
}

func (e *spillEval) Schema() *arrow.Schema { return e.w.out }

// fill reads the file until it holds row g (or ends).
func (e *spillEval) fill(ctx context.Context, g int64) error {
	for e.bufEnd <= g && e.bufEnd < e.n {
		b, err := e.rd.Next(ctx)
		if err == execution.EOF {
			return qerr.New(qerr.Internal, "window spill file ended after %d of %d rows", e.bufEnd, e.n)
		}
		if err != nil {
			return err
		}
		var k keyRows
		if ob := e.w.funcs[0].OrderBy; len(ob) > 0 {
			cols, err := evalAll(e.w.tc.Mem(), sortKeyExprs(ob), b)
			if err != nil {
				b.Release()
				return err
			}
			k.buf, k.offs = execution.EncodeKeys(cols, int(b.NumRows()), nil, nil)
			if e.plan.byValue {
				if k.val, err = floatKeys(cols[0]); err == nil && ob[0].Desc {
					for i := range k.val {
						k.val[i] = -k.val[i]
					}
				}
				k.null = make([]bool, len(k.val))
				for i := range k.null {
					k.null[i] = cols[0].IsNull(i)
				}
			}
			releaseAll(cols)
			if err != nil {
				b.Release()
				return err
			}
		}
		e.buf, e.keys = append(e.buf, b), append(e.keys, k)
		e.bufEnd += b.NumRows()
	}
	return nil
}

// key is row g's encoded ORDER BY key (g buffered).
func (e *spillEval) key(g int64) []byte {
	k, i := e.keyRow(g)
	return k.at(i)
}

// value is row g's ORDER BY value in sort direction, ok false for NULL.
func (e *spillEval) value(g int64) (float64, bool) {
	k, i := e.keyRow(g)
	return k.val[i], !k.null[i]
}

func (e *spillEval) keyRow(g int64) (keyRows, int) {
	off := e.bufStart
	for i, b := range e.buf {
		if g < off+b.NumRows() {
			return e.keys[i], int(g - off)
		}
		off += b.NumRows()
	}
	panic("window spill: row not buffered")
}

// context concatenates rows [lo, hi) (buffered).
func (e *spillEval) context(lo, hi int64) (arrow.RecordBatch, error) {
	var parts []arrow.RecordBatch
	off := e.bufStart
	for _, b := range e.buf {
		s, t := max(lo, off), min(hi, off+b.NumRows())
		if s < t {
			parts = append(parts, b.NewSlice(s-off, t-off))
		}
		off += b.NumRows()
	}
	defer releaseBatches(parts)
	cols, err := concatColumns(e.w.tc.Mem(), e.w.input.Schema(), parts)
	if err != nil {
		return nil, err
	}
	out := arrowBatch(e.w.input.Schema(), cols, hi-lo)
	releaseAll(cols)
	return out, nil
}

func (e *spillEval) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if e.c0 >= e.n {
		return nil, execution.EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	w, mem := e.w, e.w.tc.Mem()
	f0 := w.funcs[0]
	ordered := len(f0.OrderBy) > 0
	c0, lo := e.c0, e.lo
	c1 := min(c0+e.chunkRows(), e.n)
	hi := min(c1+e.plan.ahead, e.n)
	if err := e.fill(ctx, hi-1); err != nil {
		return nil, err
	}
	if ordered { // the last output row's peers
		last := e.key(c1 - 1)
		for hi < e.n {
			if err := e.fill(ctx, hi); err != nil {
				return nil, err
			}
			if !bytes.Equal(e.key(hi), last) {
				break
			}
			hi++
			last = e.key(c1 - 1) // the buffer may have moved
		}
	}
	if e.plan.byValue { // rows up to valueAhead after the last output row
		if v, ok := e.value(c1 - 1); ok {
			for hi < e.n {
				if err := e.fill(ctx, hi); err != nil {
					return nil, err
				}
				if w, ok := e.value(hi); !ok || w > v+e.plan.valueAhead {
					break
				}
				hi++
			}
		}
	}
	if e.plan.anySuffix && hi < e.n && hi%spillBatchRows != 0 {
		// End the context at a block: what follows is a block's suffix state.
		hi = min(hi+spillBatchRows-hi%spillBatchRows, e.n)
		if err := e.fill(ctx, hi-1); err != nil {
			return nil, err
		}
	}
	for i, st := range e.suffix {
		if st == nil {
			continue
		}
		c := e.carry[i]
		releaseAll(c.states)
		c.states = nil
		if hi < e.n {
			var err error
			if c.states, err = gatherAll(mem, st, []int32{int32(hi / spillBatchRows)}); err != nil {
				return nil, err
			}
		}
	}
	b, err := e.context(lo, hi)
	if err != nil {
		return nil, err
	}
	defer b.Release()
	m := int(hi - lo)
	l, orderCols, err := w.layout(b, m, f0)
	if err != nil {
		return nil, err
	}
	defer releaseAll(orderCols)
	// The context is part of the partition: bounds in its row numbers.
	for i := 0; i < m; i++ {
		l.ps[i], l.pe[i] = int32(-lo), int32(e.n-1-lo)
		switch {
		case !ordered:
			l.peerS[i], l.peerE[i] = l.ps[i], l.pe[i]
		case l.peerS[i] == 0:
			l.peerS[i] = int32(e.peerS0 - lo)
		}
	}
	l.from, l.to, l.dense0, l.pinned = int(c0-lo), int(c1-lo), e.dense0, e.pinned
	// Where the next chunk's context starts, and what it carries.
	next := c1 - e.plan.back
	if e.plan.peerBack && ordered {
		if c1 < hi {
			next = min(next, int64(l.peerS[c1-lo])+lo)
		} else {
			next = min(next, c1)
		}
	}
	if e.plan.byValue && c1 < e.n { // rows from valueBack before the next chunk's first
		if err := e.fill(ctx, c1); err != nil {
			return nil, err
		}
		if v, ok := e.value(c1); ok {
			r := c1
			for r > lo {
				if w, ok := e.value(r - 1); !ok || w < v-e.plan.valueBack {
					break
				}
				r--
			}
			next = min(next, r)
		}
	}
	next = max(next, lo)
	for _, c := range e.carry {
		c.save = int(next - 1 - lo) // -1 when next == lo: the carry stays
	}
	cols := make([]arrow.Array, 0, w.out.NumFields())
	defer func() { releaseAll(cols) }()
	for _, c := range b.Columns() {
		cols = append(cols, array.NewSlice(c, c0-lo, c1-lo))
	}
	for i, f := range w.funcs {
		var r arrow.Array
		if e.whole[i] != nil {
			r, err = gather(mem, e.whole[i], make([]int32, c1-c0))
		} else {
			var all arrow.Array
			if all, err = w.compute(b, m, f, l, orderCols, e.carry[i]); err == nil {
				r = array.NewSlice(all, c0-lo, c1-lo)
				all.Release()
			}
		}
		if err != nil {
			return nil, err
		}
		cols = append(cols, r)
	}
	// Carry the peer start and DENSE_RANK of row next.
	switch {
	case !ordered:
		e.peerS0, e.dense0 = 0, 1
	case next < hi:
		dr := denseRanks(l, m)
		e.peerS0, e.dense0 = int64(l.peerS[next-lo])+lo, dr[next-lo]
	default: // next == hi == c1: row c1 is no peer of c1-1
		dr := denseRanks(l, m)
		e.peerS0, e.dense0 = next, dr[m-1]+1
	}
	e.c0, e.lo = c1, next
	e.drop(next)
	out, err := makeBatch(mem, w.out, cols, int(c1-c0))
	cols = nil
	return out, err
}

// drop releases buffered batches wholly before row g.
func (e *spillEval) drop(g int64) {
	for len(e.buf) > 0 && e.bufStart+e.buf[0].NumRows() <= g {
		e.bufStart += e.buf[0].NumRows()
		e.buf[0].Release()
		e.buf, e.keys = e.buf[1:], e.keys[1:]
	}
}

func (e *spillEval) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	releaseBatches(e.buf)
	e.buf, e.keys = nil, nil
	if e.rd != nil {
		e.rd.Close()
	}
	e.file.Remove()
	if e.pinned != nil {
		e.pinned.rows.Release()
	}
	releaseAll(e.whole)
	for _, st := range e.suffix {
		releaseAll(st)
	}
	for _, c := range e.carry {
		releaseAll(c.states)
		c.states = nil
	}
	return nil
}
