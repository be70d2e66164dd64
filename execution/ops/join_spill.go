package ops

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"go.uber.org/zap"
)

// Grace hash join. Under a query memory limit, once the build side read so
// far plus the table over it would not fit, the join writes the build rows
// to joinSpillPartitions files by join key hash, then the probe rows the
// same way, and joins each pair of files with a new join operator like
// this one (which may partition again, with other hash bits, up to
// joinMaxSpillLevel). A key's rows all land in one pair, so every join type
// stays exact per pair, with three exceptions handled here:
//   - build rows with a NULL key (compared with =) match nothing: a right
//     or full join emits them at the end (nullBuild), others drop them;
//   - NOT IN (null-aware anti/mark) on one column: a NULL anywhere on the
//     build side makes every unmatched probe row unknown, and a NULL probe
//     key is unknown against any non-empty build side, so the whole build
//     side's facts (naFacts) go to every partition's join;
//   - NOT IN on several columns partitions by its strict (correlation) keys
//     only, since a NULL compares unknown to any value of the other keys;
//     without strict keys it cannot spill.
//
// A broadcast join spills like any other: each partition's join has its
// own copy of the build side.
const (
	joinSpillPartitions = 16
	joinMaxSpillLevel   = 4
	// joinRowBytes estimates the Go memory per build row the in-memory
	// join adds to the rows themselves: table slot, chain links, key bytes.
	joinRowBytes = 64
	// joinMinSpillRows: a smaller build side does not fit only because
	// the rest of the query holds the memory; partitioning it frees too
	// little (and would cascade through every level).
	joinMinSpillRows = 8192
)

// naFacts are what NOT IN on one column needs of the whole build side.
type naFacts struct {
	rows    bool // the build side has a row
	hasNull bool // some build key is NULL
}

type joinSpill struct {
	j                    *joinStream
	spiller              *execution.Spiller
	keys                 []int  // indices of the partitioning keys
	nullEq               []bool // of keys
	na                   *naFacts
	build, probe         spillParts
	nullBuild            *execution.SpillWriter
	nullFile             *execution.SpillFile
	buildRows, probeRows int64
	probed               bool
	part                 int              // next partition to join
	child                execution.Stream // the join of the current pair
	nulls                execution.Stream // nullFile being emitted
	hashes               []uint64
	rows                 [joinSpillPartitions][]int32
}

type spillParts struct {
	w     [joinSpillPartitions]*execution.SpillWriter
	files [joinSpillPartitions]*execution.SpillFile
	rows  [joinSpillPartitions]int64
}

// spillKeys returns the keys a spill partitions by, nil when the join
// cannot spill.
func (j *joinStream) spillKeys() []int {
	var keys []int
	for k := range j.leftKeys {
		if !j.nullAware || len(j.leftKeys) == 1 || j.strict != nil && j.strict[k] {
			keys = append(keys, k)
		}
	}
	return keys
}

// readBuild reads the build input whole, or, under a memory limit, until
// the in-memory join over it would not fit: then it partitions the build
// side to disk (j.spill set, nil returned).
func (j *joinStream) readBuild(ctx context.Context) ([]arrow.RecordBatch, error) {
	a := j.tc.Alloc
	canSpill := j.hash && a != nil && a.Limited() && j.level < joinMaxSpillLevel && !j.noSplit && j.spillKeys() != nil
	if !canSpill {
		return drain(ctx, j.right)
	}
	var batches []arrow.RecordBatch
	var held, rows, largest int64
	for {
		b, err := j.right.Next(ctx)
		if err == execution.EOF {
			return batches, nil
		}
		if err != nil {
			releaseBatches(batches)
			return nil, err
		}
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		batches = append(batches, b)
		n := execution.BatchBytes(b)
		held, rows, largest = held+n, rows+b.NumRows(), max(largest, n)
		// Building concatenates the batches (a second copy) and adds the
		// table; probing needs room for a few input batches and an output
		// batch of BatchSize pairs (twice: gathered, then assembled).
		if rows >= joinMinSpillRows && !a.Fits(held+rows*joinRowBytes+4*largest+4*execution.BatchSize*(held/rows)) {
			return nil, j.startSpill(ctx, batches)
		}
	}
}

// startSpill partitions batches (owned) and the rest of the build input.
func (j *joinStream) startSpill(ctx context.Context, batches []arrow.RecordBatch) error {
	sp := &joinSpill{j: j, spiller: execution.NewSpiller(j.tc, "join"), keys: j.spillKeys(), na: j.na}
	j.spill = sp
	if j.nullEq != nil {
		for _, k := range sp.keys {
			sp.nullEq = append(sp.nullEq, j.nullEq[k])
		}
	}
	if j.nullAware && len(j.leftKeys) == 1 && sp.na == nil {
		sp.na = &naFacts{}
	}
	j.tc.Logger().Info("hash join build side over its memory share: partitioning to disk",
		zap.Stringer("join", j.typ), zap.Int("level", j.level))
	for i, b := range batches {
		batches[i] = nil
		err := sp.add(b, true)
		b.Release()
		if err != nil {
			releaseBatches(batches)
			return err
		}
	}
	for {
		b, err := j.right.Next(ctx)
		if err == execution.EOF {
			break
		}
		if err != nil {
			return err
		}
		err = sp.add(b, true)
		b.Release()
		if err != nil {
			return err
		}
	}
	if sp.na != nil && j.na == nil {
		sp.na.rows = sp.na.rows || sp.buildRows > 0
	}
	if err := sp.finish(&sp.build); err != nil {
		return err
	}
	if sp.nullBuild != nil {
		f, err := sp.nullBuild.Finish()
		sp.nullBuild = nil
		if err != nil {
			return err
		}
		sp.nullFile = f
	}
	return nil
}

// add writes the rows of b (build or probe side) to their partitions.
func (sp *joinSpill) add(b arrow.RecordBatch, build bool) error {
	j := sp.j
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	exprs := j.leftKeys
	parts := &sp.probe
	if build {
		exprs, parts = j.rightKeys, &sp.build
		sp.buildRows += int64(n)
	} else {
		sp.probeRows += int64(n)
	}
	var kx []expr.Expr
	for _, k := range sp.keys {
		kx = append(kx, exprs[k])
	}
	mem := j.tc.Mem()
	keys, err := evalAll(mem, kx, b)
	if err != nil {
		return err
	}
	defer releaseAll(keys)
	sp.hashes = resize(sp.hashes, n)
	execution.HashColumns(keys, 0, sp.hashes)
	for p := range sp.rows {
		sp.rows[p] = sp.rows[p][:0]
	}
	// Probe rows of a partition without build rows matter only to joins
	// that emit unmatched probe rows.
	dropLonely := !build && (j.typ == InnerJoin || j.typ == SemiJoin || j.typ == RightJoin)
	var nullRows []int32
	for i, h := range sp.hashes {
		if build && strictNull(keys, sp.nullEq, i) {
			if sp.na != nil && j.na == nil {
				sp.na.hasNull = true
			}
			if j.typ == RightJoin || j.typ == FullJoin {
				nullRows = append(nullRows, int32(i))
			}
			continue
		}
		p := sp.partition(h)
		if dropLonely && sp.build.rows[p] == 0 {
			continue
		}
		sp.rows[p] = append(sp.rows[p], int32(i))
	}
	for p, rows := range sp.rows {
		if len(rows) == 0 {
			continue
		}
		if parts.w[p] == nil {
			if parts.w[p], err = sp.spiller.Create(b.Schema()); err != nil {
				return err
			}
		}
		if err := writeRows(mem, parts.w[p], b, rows); err != nil {
			return err
		}
		parts.rows[p] += int64(len(rows))
	}
	if len(nullRows) > 0 {
		if sp.nullBuild == nil {
			if sp.nullBuild, err = sp.spiller.Create(b.Schema()); err != nil {
				return err
			}
		}
		return writeRows(mem, sp.nullBuild, b, nullRows)
	}
	return nil
}

// writeRows writes rows idx of b (all of it when every row) to w.
func writeRows(mem memory.Allocator, w *execution.SpillWriter, b arrow.RecordBatch, idx []int32) error {
	if len(idx) == int(b.NumRows()) {
		return w.Write(b)
	}
	pb, err := takeBatch(mem, b, idx)
	if err != nil {
		return err
	}
	defer pb.Release()
	return w.Write(pb)
}

// partition picks a key hash's partition, mixing in the level so that a
// pair partitioned again splits anew (the table indexes with low bits of
// the unmixed hash).
func (sp *joinSpill) partition(hash uint64) int {
	return int(execution.HashInt(hash^uint64(sp.j.level+1)*0x9E3779B97F4A7C15) >> 60)
}

func (sp *joinSpill) finish(parts *spillParts) error {
	for p, w := range parts.w {
		if w == nil {
			continue
		}
		parts.w[p] = nil
		f, err := w.Finish()
		if err != nil {
			return err
		}
		parts.files[p] = f
	}
	return nil
}

// next partitions the probe side on the first call, then yields the join
// of each partition pair and finally the NULL-key build rows.
func (sp *joinSpill) next(ctx context.Context) (arrow.RecordBatch, error) {
	j := sp.j
	if !sp.probed {
		sp.probed = true
		for {
			b, err := j.left.Next(ctx)
			if err == execution.EOF {
				break
			}
			if err != nil {
				return nil, err
			}
			err = sp.add(b, false)
			b.Release()
			if err != nil {
				return nil, err
			}
		}
		if err := sp.finish(&sp.probe); err != nil {
			return nil, err
		}
		j.tc.Logger().Info("hash join partitioned", zap.Stringer("join", j.typ), zap.Int("level", j.level),
			zap.Int64("build_rows", sp.buildRows), zap.Int64("probe_rows", sp.probeRows))
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if sp.child != nil {
			b, err := sp.child.Next(ctx)
			if err != execution.EOF {
				return b, err
			}
			sp.child.Close()
			sp.child = nil
		}
		if sp.part < joinSpillPartitions {
			p := sp.part
			sp.part++
			child, err := sp.pair(p)
			if err != nil {
				return nil, err
			}
			sp.child = child
			continue
		}
		return sp.nextNullBuild(ctx)
	}
}

// pair returns the join of partition p (nil when it has no rows).
func (sp *joinSpill) pair(p int) (execution.Stream, error) {
	j := sp.j
	bf, pf := sp.build.files[p], sp.probe.files[p]
	sp.build.files[p], sp.probe.files[p] = nil, nil
	if bf == nil && pf == nil {
		return nil, nil
	}
	right, err := openSpilled(bf, j.right.Schema())
	if err != nil {
		if pf != nil {
			pf.Remove()
		}
		return nil, err
	}
	left, err := openSpilled(pf, j.left.Schema())
	if err != nil {
		right.Close()
		return nil, err
	}
	c := &joinStream{tc: j.tc, left: left, right: right, typ: j.typ, leftKeys: j.leftKeys, rightKeys: j.rightKeys,
		filter: j.filter, nullAware: j.nullAware, strict: j.strict, nullEq: j.nullEq, out: j.out,
		pairSchema: j.pairSchema, hash: true, proj: j.proj, lout: j.lout, rout: j.rout, cur: chainStart,
		level: j.level + 1, na: sp.na}
	c.res.alloc = j.tc.Alloc
	// Every build row in one partition: the keys do not split (one key).
	c.noSplit = sp.build.rows[p] == sp.buildRows && sp.buildRows > 1
	if c.noSplit {
		j.tc.Logger().Warn("hash join partition did not split", zap.Int64("rows", sp.buildRows), zap.Int("level", c.level))
	}
	return c, nil
}

// openSpilled reads f once (removing it when closed); nil f is no rows.
func openSpilled(f *execution.SpillFile, schema *arrow.Schema) (execution.Stream, error) {
	if f == nil {
		return execution.NewEmptyStream(schema), nil
	}
	r, err := f.Open()
	if err != nil {
		f.Remove()
		return nil, err
	}
	return &removeOnClose{Stream: r, f: f}, nil
}

// nextNullBuild emits the build rows with a NULL key (right/full joins).
func (sp *joinSpill) nextNullBuild(ctx context.Context) (arrow.RecordBatch, error) {
	if sp.nulls == nil {
		if sp.nullFile == nil {
			return nil, execution.EOF
		}
		r, err := openSpilled(sp.nullFile, sp.j.right.Schema())
		sp.nullFile = nil
		if err != nil {
			return nil, err
		}
		sp.nulls = r
	}
	b, err := sp.nulls.Next(ctx)
	if err != nil {
		return nil, err
	}
	cols := b.Columns()
	rcols := make([]arrow.Array, len(cols))
	for i, c := range cols {
		if sp.j.rout == nil || sp.j.rout[i] {
			c.Retain()
			rcols[i] = c
		}
	}
	n := int(b.NumRows())
	b.Release()
	return sp.j.withNullLeft(rcols, n)
}

func (sp *joinSpill) close() {
	if sp.child != nil {
		sp.child.Close()
		sp.child = nil
	}
	if sp.nulls != nil {
		sp.nulls.Close()
		sp.nulls = nil
	}
	for _, parts := range []*spillParts{&sp.build, &sp.probe} {
		for p, w := range parts.w {
			if w != nil {
				w.Abort()
				parts.w[p] = nil
			}
		}
	}
	if sp.nullBuild != nil {
		sp.nullBuild.Abort()
		sp.nullBuild = nil
	}
	sp.spiller.Close()
}
