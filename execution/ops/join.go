package ops

import (
	"context"
	"errors"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

// joinStream is the hash join (hash = true) and the nested-loop join. The
// right input is read whole first (build side); left batches are probed one
// at a time. Candidate (left row, build row) pairs are produced in chunks of
// BatchSize, checked by the residual filter, and gathered with typed takes.
type joinStream struct {
	tc                  *execution.TaskContext
	left, right         execution.Stream
	typ                 JoinType
	leftKeys, rightKeys []expr.Expr
	filter              expr.Expr
	nullAware           bool
	strict              []bool // null-aware joins: keys that only select rows (correlation); nil = none
	nullEq              []bool // per key: NULL matches NULL (<=>); nil = none
	out                 *arrow.Schema
	pairSchema          *arrow.Schema
	hash                bool
	// proj lists the output columns (ascending indices into left++right;
	// nil = all); lout/rout mark them per side so unused columns are never
	// gathered.
	proj       []int
	lout, rout []bool

	built        bool
	build        []arrow.Array
	buildRows    int
	table        *groupTable
	head, next   []int32
	buildHasNull bool
	// Null-aware joins on several keys compare key by key: per key a
	// one-column table and per row its code (group id + 1, nullCode for
	// NULL; 0 on the probe side when the value is absent from the build).
	keyTables    []*groupTable
	bcodes       [][]uint32
	lcodes       [][]uint32
	naNull       []int32 // build rows with a NULL in a null-aware key only
	buildMatched []bool
	res          reservation

	lb        arrow.RecordBatch
	gids      []uint32
	keyNull   []bool // probe rows with a NULL key (null-aware anti/mark)
	matched   []int32
	row       int
	cur       int32
	leftDone  bool
	rightDone bool
	finished  bool
	pending   []arrow.RecordBatch
	closed    bool
	pi, bi    []int32
	keep      []int32 // pairs passing the residual filter

	// Grace hash join under a memory limit (join_spill.go): level is the
	// re-partitioning depth of this instance, spill its partitions once
	// the build side did not fit, na the NOT IN facts of the whole build
	// side for a partition's join (nil = its own build side's).
	level   int
	noSplit bool // a partition that did not split: re-partitioning is futile
	spill   *joinSpill
	na      *naFacts

	// A broadcast join's partitions in one process share one read-only
	// build (join_shared.go): shareKey names it, shared is the one held.
	shareKey *SharedBuildKey
	shared   *sharedBuild
}

const chainStart = -2

// NewHashJoin joins left and right on leftKeys = rightKeys (NULL keys never
// match), with an optional residual filter over left++right columns.
func NewHashJoin(tc *execution.TaskContext, left, right execution.Stream, typ JoinType, leftKeys, rightKeys []expr.Expr, filter expr.Expr, nullAware bool, out *arrow.Schema) (execution.Stream, error) {
	return NewHashJoinNullEq(tc, left, right, typ, leftKeys, rightKeys, nil, filter, nullAware, nil, nil, out)
}

// NewHashJoinNullEq is NewHashJoin where nullEq[i] makes key i compare with
// <=> (NULL matches NULL); nil means plain equality for every key. A non-nil
// proj (ascending indices into left++right; inner and outer joins only)
// keeps only those columns in the output, which is then out.
//
// A nullAware anti or mark join is NOT IN: a probe row without a match is
// unknown (mark NULL, anti drops it) when some build row compares unknown,
// that is equal or NULL on either side in every key, except the keys marked
// in strict (nil = none), which select the build rows by plain equality.
func NewHashJoinNullEq(tc *execution.TaskContext, left, right execution.Stream, typ JoinType, leftKeys, rightKeys []expr.Expr, nullEq []bool, filter expr.Expr, nullAware bool, strict []bool, proj []int, out *arrow.Schema) (execution.Stream, error) {
	if len(leftKeys) != len(rightKeys) || len(leftKeys) == 0 || nullEq != nil && len(nullEq) != len(leftKeys) || strict != nil && len(strict) != len(leftKeys) {
		return nil, qerr.New(qerr.Internal, "hash join needs matching key lists, got %d and %d", len(leftKeys), len(rightKeys))
	}
	j := newJoin(tc, left, right, typ, filter, out)
	j.hash, j.leftKeys, j.rightKeys, j.nullAware, j.nullEq = true, leftKeys, rightKeys, nullAware, nullEq
	if nullAware {
		j.strict = strict
	}
	if proj != nil {
		if err := j.setProjection(proj); err != nil {
			return nil, err
		}
	}
	return j, nil
}

func (j *joinStream) setProjection(proj []int) error {
	nl, nr := j.left.Schema().NumFields(), j.right.Schema().NumFields()
	switch j.typ {
	case SemiJoin, AntiJoin, MarkJoin:
		return qerr.New(qerr.Internal, "a %v join outputs its left input, it takes no projection", j.typ)
	}
	if len(proj) != j.out.NumFields() {
		return qerr.New(qerr.Internal, "join projection has %d columns for an output of %d", len(proj), j.out.NumFields())
	}
	j.lout, j.rout = make([]bool, nl), make([]bool, nr)
	for i, c := range proj {
		if c < 0 || c >= nl+nr || i > 0 && c <= proj[i-1] {
			return qerr.New(qerr.Internal, "join projection %v is not ascending within %d columns", proj, nl+nr)
		}
		if c < nl {
			j.lout[c] = true
		} else {
			j.rout[c-nl] = true
		}
	}
	j.proj = proj
	return nil
}

// project picks the output columns out of left++right columns (owned;
// entries nobody asked for may be nil) and releases the others.
func (j *joinStream) project(cols []arrow.Array) []arrow.Array {
	if j.proj == nil {
		return cols
	}
	out := make([]arrow.Array, len(j.proj))
	for i, c := range j.proj {
		out[i] = cols[c]
		cols[c] = nil
	}
	releaseAll(cols)
	return out
}

// NewNestedLoopJoin joins every left row with every right row for which cond
// (over left++right columns; nil = true) holds.
func NewNestedLoopJoin(tc *execution.TaskContext, left, right execution.Stream, typ JoinType, cond expr.Expr, out *arrow.Schema) (execution.Stream, error) {
	if typ == CrossJoin {
		typ = InnerJoin
	}
	return newJoin(tc, left, right, typ, cond, out), nil
}

func newJoin(tc *execution.TaskContext, left, right execution.Stream, typ JoinType, filter expr.Expr, out *arrow.Schema) *joinStream {
	if typ == CrossJoin {
		typ = InnerJoin
	}
	fields := append(append([]arrow.Field(nil), left.Schema().Fields()...), right.Schema().Fields()...)
	j := &joinStream{tc: tc, left: left, right: right, typ: typ, filter: filter, out: out,
		pairSchema: arrow.NewSchema(fields, nil), cur: chainStart}
	j.res.alloc = tc.Alloc
	return j
}

func (j *joinStream) Schema() *arrow.Schema { return j.out }

func (j *joinStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if !j.built {
		build := j.buildSide
		if j.shareKey != nil {
			build = j.buildShared
		}
		if err := build(ctx); err != nil {
			return nil, err
		}
		j.built = true
	}
	if j.spill != nil {
		return j.spill.next(ctx)
	}
	for {
		// A nested-loop join can run through millions of pairs per left
		// batch without emitting or reading: notice cancellation here.
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if len(j.pending) > 0 {
			b := j.pending[0]
			j.pending = j.pending[1:]
			return b, nil
		}
		if j.finished {
			return nil, execution.EOF
		}
		if j.lb == nil {
			if j.leftDone {
				if (j.typ == RightJoin || j.typ == FullJoin) && !j.rightDone {
					j.rightDone = true
					if err := j.emitUnmatchedBuild(); err != nil {
						return nil, err
					}
					continue
				}
				j.finished = true
				continue
			}
			b, err := j.left.Next(ctx)
			if err == execution.EOF {
				j.leftDone = true
				continue
			}
			if err != nil {
				return nil, err
			}
			if b.NumRows() == 0 {
				b.Release()
				continue
			}
			if err := j.startLeft(b); err != nil {
				return nil, err
			}
		}
		done := j.fillPairs()
		if len(j.pi) > 0 {
			if err := j.processPairs(); err != nil {
				return nil, err
			}
		}
		if done {
			err := j.finishLeft()
			j.lb.Release()
			j.lb = nil
			if err != nil {
				return nil, err
			}
		}
	}
}

func (j *joinStream) buildSide(ctx context.Context) (err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(*qerr.Error)
			if !ok || e.Kind != qerr.ResourceExhausted {
				panic(r)
			}
			err = e
		}
		err = j.buildLimitError(err)
	}()
	batches, err := j.readBuild(ctx)
	if err != nil || j.spill != nil {
		return err
	}
	mem := j.tc.Mem()
	for _, b := range batches {
		j.buildRows += int(b.NumRows())
	}
	need := j.buildNeed()
	if j.build, err = concatConsume(mem, j.right.Schema(), batches, need); err != nil {
		return err
	}
	if j.typ == RightJoin || j.typ == FullJoin {
		j.buildMatched = make([]bool, j.buildRows)
	}
	if !j.hash || j.buildRows == 0 {
		j.res.resize(int64(len(j.buildMatched)))
		return nil
	}
	var keys []arrow.Array
	if need != nil { // every key is a column (buildNeed)
		for _, k := range j.rightKeys {
			c := j.build[k.(*expr.Column).Index]
			c.Retain()
			keys = append(keys, c)
		}
	} else {
		one := arrowBatch(j.right.Schema(), j.build, int64(j.buildRows))
		defer one.Release()
		if keys, err = evalAll(mem, j.rightKeys, one); err != nil {
			return err
		}
	}
	defer releaseAll(keys)
	intKey := len(keys) == 1 && intLike(keys[0].DataType()) && intLike(j.leftKeys[0].DataType())
	j.table = newGroupTable(intKey, min(j.buildRows, insertChunk))
	ids := make([]uint32, j.buildRows)
	j.table.insertAll(keys, j.buildRows, ids)
	j.head = make([]int32, j.table.n)
	for i := range j.head {
		j.head[i] = -1
	}
	j.next = make([]int32, j.buildRows)
	nulls := false
	for _, k := range keys {
		nulls = nulls || k.NullN() > 0
	}
	perKey := j.nullAware && len(keys) > 1
	if perKey {
		j.keyTables = make([]*groupTable, len(keys))
		j.bcodes = make([][]uint32, len(keys))
		for k, col := range keys {
			j.keyTables[k] = newGroupTable(intLike(col.DataType()) && intLike(j.leftKeys[k].DataType()), min(j.buildRows, insertChunk))
			j.bcodes[k] = make([]uint32, j.buildRows)
			j.keyTables[k].insertAll(keys[k:k+1], j.buildRows, j.bcodes[k])
			for r := range j.bcodes[k] {
				if col.IsNull(r) {
					j.bcodes[k][r] = nullCode
				} else {
					j.bcodes[k][r]++
				}
			}
		}
	}
	// Chains are built backwards so each lists its rows in input order.
	for r := j.buildRows - 1; r >= 0; r-- {
		if nulls && strictNull(keys, j.nullEq, r) {
			j.buildHasNull = true
			if perKey && !j.strictKeyNull(j.bcodes, r) {
				j.naNull = append(j.naNull, int32(r))
			}
			continue
		}
		g := ids[r]
		j.next[r] = j.head[g]
		j.head[g] = int32(r)
	}
	if need != nil { // key columns not in the output are done with
		for c, a := range j.build {
			if a != nil && (j.rout == nil || !j.rout[c]) {
				a.Release()
				j.build[c] = nil
			}
		}
	}
	size := j.table.bytes() + int64(len(j.head))*4 + int64(len(j.next))*4 + int64(len(j.buildMatched)) + int64(len(j.naNull))*4
	for k, t := range j.keyTables {
		size += t.bytes() + int64(len(j.bcodes[k]))*4
	}
	j.res.resize(size)
	return nil
}

// buildLimitError names the join in a memory limit error met while
// building, once for nested joins.
// buildNeed marks the build columns a hash join reads: its key columns
// (while building; dropped after unless output) and the build columns it
// outputs, when every key is a plain column and no residual filter reads
// the others (nil: keep them all). A build side often carries columns only
// its scan's filter read.
func (j *joinStream) buildNeed() []bool {
	if !j.hash || j.filter != nil {
		return nil
	}
	need := make([]bool, j.right.Schema().NumFields())
	switch {
	case j.rout != nil:
		copy(need, j.rout)
	case j.typ != SemiJoin && j.typ != AntiJoin && j.typ != MarkJoin:
		return nil // outputs every build column
	}
	for _, k := range j.rightKeys {
		c, ok := k.(*expr.Column)
		if !ok || c.Index < 0 || c.Index >= len(need) {
			return nil
		}
		need[c.Index] = true
	}
	return need
}

func (j *joinStream) buildLimitError(err error) error {
	var named *joinBuildError
	if err == nil || qerr.KindOf(err) != qerr.ResourceExhausted || errors.As(err, &named) {
		return err
	}
	why := "this join cannot spill"
	switch {
	case j.level > 0:
		why = fmt.Sprintf("a partition of %d rows after %d re-partitions by key hash; many rows with one join key?", j.buildRows, j.level)
	case j.hash && j.spillKeys() != nil:
		why = "nor does a partition of it"
	}
	return &joinBuildError{qerr.Wrap(qerr.ResourceExhausted, err,
		"%s join: its build side does not fit the query memory limit (%s); raise --query-memory-limit", j.typ, why)}
}

type joinBuildError struct{ error }

func (e *joinBuildError) Unwrap() error { return e.error }

func (j *joinStream) startLeft(b arrow.RecordBatch) error {
	j.lb = b
	n := int(b.NumRows())
	j.row, j.cur = 0, chainStart
	j.matched = resize(j.matched, n)
	for i := range j.matched {
		j.matched[i] = 0
	}
	if !j.hash {
		return nil
	}
	j.gids = resize(j.gids, n)
	keys, err := evalAll(j.tc.Mem(), j.leftKeys, b)
	if err != nil {
		return err
	}
	defer releaseAll(keys)
	if j.nullAware {
		j.keyNull = resize(j.keyNull, n)
		for i := range j.keyNull {
			j.keyNull[i] = anyNull(keys, i)
		}
		if j.keyTables != nil {
			j.probeCodes(keys, n)
		}
	}
	if j.table == nil {
		for i := range j.gids {
			j.gids[i] = 0
		}
		return nil
	}
	j.table.find(keys, j.nullEq, n, j.gids)
	if j.filter == nil && (j.typ == SemiJoin || j.typ == AntiJoin || j.typ == MarkJoin) {
		// Existence is all that matters: no pairs needed.
		for i, g := range j.gids {
			if g != 0 {
				j.matched[i] = 1
			}
		}
		j.row = n
	}
	return nil
}

// nullCode is the key code of NULL (group ids stay far below it).
const nullCode = ^uint32(0)

// probeCodes fills lcodes with the probe batch's per-key codes.
func (j *joinStream) probeCodes(keys []arrow.Array, n int) {
	j.lcodes = resize(j.lcodes, len(keys))
	for k, col := range keys {
		c := resize(j.lcodes[k], n)
		if j.table == nil {
			clear(c)
		} else {
			j.keyTables[k].find(keys[k:k+1], nil, n, c)
		}
		for i := range c {
			if col.IsNull(i) {
				c[i] = nullCode
			}
		}
		j.lcodes[k] = c
	}
}

// strictKeyNull reports whether row r of codes has a NULL in a strict key
// compared with plain equality: it belongs to no probe row's subquery.
func (j *joinStream) strictKeyNull(codes [][]uint32, r int) bool {
	for k, s := range j.strict {
		if s && codes[k][r] == nullCode && (j.nullEq == nil || !j.nullEq[k]) {
			return true
		}
	}
	return false
}

// unknown reports whether NOT IN is NULL for probe row i, which matched no
// build row: some build row compares unknown. (A residual filter is not
// consulted here.)
func (j *joinStream) unknown(i int) bool {
	rows, hasNull := j.buildRows > 0, j.buildHasNull
	if j.na != nil {
		rows, hasNull = j.na.rows, j.na.hasNull
	}
	if !rows || !j.keyNull[i] && !hasNull {
		return false
	}
	if j.keyTables == nil {
		return true // one key: a NULL on either side
	}
	if j.strictKeyNull(j.lcodes, i) {
		return false // its subquery is empty
	}
	if !j.keyNull[i] {
		// Only a build row with a NULL can compare unknown.
		for _, r := range j.naNull {
			if j.compatible(i, int(r)) {
				return true
			}
		}
		return false
	}
	for r := 0; r < j.buildRows; r++ {
		if j.compatible(i, r) {
			return true
		}
	}
	return false
}

// compatible reports whether probe row i and build row r agree on every
// strict key and are equal or NULL on every null-aware one.
func (j *joinStream) compatible(i, r int) bool {
	for k, lc := range j.lcodes {
		l, b := lc[i], j.bcodes[k][r]
		if j.strict != nil && j.strict[k] {
			if l != b || l == nullCode && (j.nullEq == nil || !j.nullEq[k]) {
				return false
			}
		} else if l != nullCode && b != nullCode && l != b {
			return false
		}
	}
	return true
}

func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	return s[:n]
}

// existence joins stop looking once a left row has a match.
func (j *joinStream) existence() bool {
	return j.typ == SemiJoin || j.typ == AntiJoin || j.typ == MarkJoin
}

// fillPairs collects up to BatchSize candidate pairs into pi/bi; it reports
// whether the current left batch is exhausted.
func (j *joinStream) fillPairs() bool {
	j.pi, j.bi = j.pi[:0], j.bi[:0]
	n := int(j.lb.NumRows())
	for j.row < n && len(j.pi) < execution.BatchSize {
		if j.cur == chainStart {
			if j.existence() && j.matched[j.row] > 0 {
				j.row++
				continue
			}
			if j.hash {
				g := j.gids[j.row]
				if g == 0 {
					j.row++
					continue
				}
				j.cur = j.head[g-1]
			} else {
				j.cur = 0
				if j.buildRows == 0 {
					j.cur = -1
				}
			}
		}
		for j.cur >= 0 && len(j.pi) < execution.BatchSize {
			j.pi = append(j.pi, int32(j.row))
			j.bi = append(j.bi, j.cur)
			if j.hash {
				j.cur = j.next[j.cur]
			} else if j.cur++; int(j.cur) >= j.buildRows {
				j.cur = -1
			}
		}
		if j.cur < 0 {
			j.row++
			j.cur = chainStart
		}
	}
	return j.row >= n
}

// processPairs applies the residual filter to the candidate pairs, records
// matches and emits the joined rows of inner/outer joins.
func (j *joinStream) processPairs() error {
	mem := j.tc.Mem()
	emits := j.typ == InnerJoin || j.typ == LeftJoin || j.typ == RightJoin || j.typ == FullJoin || j.typ == LeftSingleJoin
	if j.filter == nil && !emits {
		for _, p := range j.pi {
			j.matched[p]++
		}
		return nil
	}
	// The filter reads any column; without one only output columns are gathered.
	lneed, rneed := j.lout, j.rout
	if j.filter != nil {
		lneed, rneed = nil, nil
	}
	cols, err := gatherSome(mem, j.lb.Columns(), j.pi, lneed)
	if err != nil {
		return err
	}
	rcols, err := gatherSome(mem, j.build, j.bi, rneed)
	if err != nil {
		releaseAll(cols)
		return err
	}
	cols = append(cols, rcols...)
	defer func() { releaseAll(cols) }()
	var mask *array.Boolean
	if j.filter != nil {
		pairs := arrowBatch(j.pairSchema, cols, int64(len(j.pi)))
		defer pairs.Release()
		c, err := j.filter.Eval(mem, pairs)
		if err != nil {
			return err
		}
		defer c.Release()
		var ok bool
		if mask, ok = c.(*array.Boolean); !ok {
			return qerr.New(qerr.Internal, "join condition is %s, not boolean", c.DataType())
		}
	}
	j.keep = j.keep[:0]
	for k, p := range j.pi {
		if mask != nil && !(mask.IsValid(k) && mask.Value(k)) {
			continue
		}
		j.keep = append(j.keep, int32(k))
		j.matched[p]++
		if j.typ == LeftSingleJoin && j.matched[p] > 1 {
			return qerr.New(qerr.InvalidArgument, "Subquery returns more than 1 row")
		}
		if j.buildMatched != nil {
			j.buildMatched[j.bi[k]] = true
		}
	}
	if !emits || len(j.keep) == 0 {
		return nil
	}
	out := j.project(cols)
	cols = nil
	if len(j.keep) < len(j.pi) {
		kept, err := gatherAll(mem, out, j.keep)
		releaseAll(out)
		if err != nil {
			return err
		}
		out = kept
	}
	return j.push(out, len(j.keep))
}

// finishLeft emits what depends on the whole match result of a left batch:
// unmatched rows of outer joins, semi/anti rows, the mark column.
func (j *joinStream) finishLeft() error {
	mem := j.tc.Mem()
	n := int(j.lb.NumRows())
	var sel []int32
	switch j.typ {
	case InnerJoin, RightJoin:
		return nil
	case LeftJoin, FullJoin, LeftSingleJoin:
		for i := 0; i < n; i++ {
			if j.matched[i] == 0 {
				sel = append(sel, int32(i))
			}
		}
		if len(sel) == 0 {
			return nil
		}
		cols, err := gatherSome(mem, j.lb.Columns(), sel, j.lout)
		if err != nil {
			return err
		}
		for i, f := range j.right.Schema().Fields() {
			var c arrow.Array
			if j.rout == nil || j.rout[i] {
				c = nullColumn(mem, f.Type, len(sel))
			}
			cols = append(cols, c)
		}
		return j.push(j.project(cols), len(sel))
	case SemiJoin:
		for i := 0; i < n; i++ {
			if j.matched[i] > 0 {
				sel = append(sel, int32(i))
			}
		}
	case AntiJoin:
		for i := 0; i < n; i++ {
			if j.matched[i] > 0 || j.nullAware && j.unknown(i) {
				continue
			}
			sel = append(sel, int32(i))
		}
	case MarkJoin:
		mb := array.NewBooleanBuilder(mem)
		defer mb.Release()
		for i := 0; i < n; i++ {
			switch {
			case j.matched[i] > 0:
				mb.Append(true)
			case j.nullAware && j.unknown(i):
				mb.AppendNull()
			default:
				mb.Append(false)
			}
		}
		cols := make([]arrow.Array, 0, len(j.lb.Columns())+1)
		for _, c := range j.lb.Columns() {
			c.Retain()
			cols = append(cols, c)
		}
		cols = append(cols, mb.NewArray())
		return j.push(cols, n)
	}
	if len(sel) == 0 {
		return nil
	}
	if len(sel) == n {
		j.lb.Retain()
		j.pending = append(j.pending, j.lb)
		return nil
	}
	cols, err := gatherAll(mem, j.lb.Columns(), sel)
	if err != nil {
		return err
	}
	return j.push(cols, len(sel))
}

func (j *joinStream) push(cols []arrow.Array, n int) error {
	b, err := makeBatch(j.tc.Mem(), j.out, cols, n)
	if err != nil {
		return err
	}
	j.pending = append(j.pending, b)
	return nil
}

// emitUnmatchedBuild emits the build rows no left row matched (right/full).
func (j *joinStream) emitUnmatchedBuild() error {
	mem := j.tc.Mem()
	var sel []int32
	for r, m := range j.buildMatched {
		if !m {
			sel = append(sel, int32(r))
		}
	}
	for off := 0; off < len(sel); off += execution.BatchSize {
		part := sel[off:min(off+execution.BatchSize, len(sel))]
		rcols, err := gatherSome(mem, j.build, part, j.rout)
		if err != nil {
			return err
		}
		b, err := j.withNullLeft(rcols, len(part))
		if err != nil {
			return err
		}
		j.pending = append(j.pending, b)
	}
	return nil
}

// withNullLeft makes an output batch of build columns rcols (owned; those
// not in the output may be nil) with NULL for every left column.
func (j *joinStream) withNullLeft(rcols []arrow.Array, n int) (arrow.RecordBatch, error) {
	var cols []arrow.Array
	for i, f := range j.left.Schema().Fields() {
		var c arrow.Array
		if j.lout == nil || j.lout[i] {
			c = nullColumn(j.tc.Mem(), f.Type, n)
		}
		cols = append(cols, c)
	}
	return makeBatch(j.tc.Mem(), j.out, j.project(append(cols, rcols...)), n)
}

func (j *joinStream) Close() error {
	if j.closed {
		return nil
	}
	j.closed = true
	if j.lb != nil {
		j.lb.Release()
		j.lb = nil
	}
	if j.shared != nil {
		releaseShared(j.shared)
		j.shared = nil
	} else {
		releaseAll(j.build)
	}
	j.build = nil
	releaseBatches(j.pending)
	j.pending = nil
	j.table = nil
	j.res.free()
	if j.spill != nil {
		j.spill.close()
	}
	err := j.left.Close()
	if err2 := j.right.Close(); err == nil {
		err = err2
	}
	return err
}
