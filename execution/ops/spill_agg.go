package ops

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"go.uber.org/zap"
)

// Spilling hash aggregation. Under a query memory limit, once the group
// table and what emitting it takes would no longer fit:
//   - a Partial aggregate emits its groups' states and starts afresh (the
//     Final aggregate merges the parts), no disk involved;
//   - a Single or Final aggregate freezes its table: input rows of groups
//     it has keep updating them in place, rows of any other group are
//     written, as they are, to one of aggSpillPartitions files by key hash.
//     After emitting the table, each file is aggregated by a new operator
//     like this one (which may spill again, with other hash bits), so every
//     group is aggregated whole by exactly one operator. Raw rows, not
//     states, go to disk, so this holds for every aggregate, COUNT(DISTINCT)
//     and GROUP_CONCAT included.
//
// A frozen table still grows with DISTINCT sets and GROUP_CONCAT values of
// its groups; past the limit that fails with ResourceExhausted.
const (
	aggSpillPartitions = 16
	aggMaxSpillLevel   = 8
	aggMinSpillGroups  = 1024 // fewer groups: spilling frees too little
)

type aggSpill struct {
	h       *hashAgg
	spiller *execution.Spiller
	writers [aggSpillPartitions]*execution.SpillWriter
	files   []*execution.SpillFile
	child   execution.Stream // the operator aggregating the current file
	nullEq  []bool
	parts   [aggSpillPartitions][]int32
	found   []int32
}

// overBudget reports whether the table should stop growing: under a
// memory limit, when twice what it holds (emitting builds arrays of every
// state and concatenates the keys; Go-side sizes are estimates) plus four
// input batches of size batch (spilling cuts them up) would not fit.
func (h *hashAgg) overBudget(batch int64) bool {
	a := h.tc.Alloc
	if h.table == nil || a == nil || h.groups < aggMinSpillGroups || h.level >= aggMaxSpillLevel || !a.Limited() {
		return false
	}
	return !a.Fits(2*(h.res.n+h.keyBytes) + 4*batch)
}

func (h *hashAgg) startSpill() error {
	h.tc.Logger().Info("aggregate over its memory share: spilling rows of new groups",
		zap.Int("groups", h.groups), zap.Int64("table_bytes", h.res.n+h.keyBytes), zap.Int("level", h.level))
	sp := &aggSpill{h: h, spiller: execution.NewSpiller(h.tc, "aggregate"), nullEq: make([]bool, len(h.groupBy))}
	for i := range sp.nullEq {
		sp.nullEq[i] = true // a NULL key is a group like any other
	}
	h.spill = sp
	return nil
}

// partition picks the file of a row from its key hash, mixed with the
// level so that a partition spilled again splits anew.
func (sp *aggSpill) partition(hash uint64) int {
	return int(execution.HashInt(hash^uint64(sp.h.level+1)*0x9E3779B97F4A7C15) >> 60)
}

// addOwned updates the frozen table with b's rows of its groups and
// spills the others; b is released.
func (sp *aggSpill) addOwned(b arrow.RecordBatch) error {
	defer b.Release()
	h := sp.h
	n := int(b.NumRows())
	if n == 0 {
		return nil
	}
	mem := h.tc.Mem()
	keys, err := evalAll(mem, h.groupBy, b)
	h.memo.Reset() // add below evaluates again, over another batch
	if err != nil {
		return err
	}
	defer releaseAll(keys)
	h.ids = resize(h.ids, n)
	t := h.table
	t.find(keys, sp.nullEq, n, h.ids)
	sp.found = sp.found[:0]
	for p := range sp.parts {
		sp.parts[p] = sp.parts[p][:0]
	}
	for i, id := range h.ids[:n] {
		if id != 0 {
			sp.found = append(sp.found, int32(i))
			continue
		}
		p := 0 // intKey hashes of NULL rows are not the NULL group's
		if !t.intKey || !keys[0].IsNull(i) {
			p = sp.partition(t.hbuf[i])
		}
		sp.parts[p] = append(sp.parts[p], int32(i))
	}
	if len(sp.found) == n {
		return h.add(b)
	}
	if len(sp.found) > 0 {
		fb, err := takeBatch(mem, b, sp.found)
		if err != nil {
			return err
		}
		err = h.add(fb)
		fb.Release()
		if err != nil {
			return err
		}
	}
	for p, rows := range sp.parts {
		if len(rows) == 0 {
			continue
		}
		if sp.writers[p] == nil {
			w, err := sp.spiller.Create(b.Schema())
			if err != nil {
				return err
			}
			sp.writers[p] = w
		}
		pb, err := takeBatch(mem, b, rows)
		if err != nil {
			return err
		}
		err = sp.writers[p].Write(pb)
		pb.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// takeBatch is rows idx of b.
func takeBatch(mem memory.Allocator, b arrow.RecordBatch, idx []int32) (arrow.RecordBatch, error) {
	cols, err := gatherAll(mem, b.Columns(), idx)
	if err != nil {
		return nil, err
	}
	return makeBatch(mem, b.Schema(), cols, len(idx))
}

// finish closes the partition files (the input has ended).
func (sp *aggSpill) finish() error {
	for p, w := range sp.writers {
		if w == nil {
			continue
		}
		sp.writers[p] = nil
		f, err := w.Finish()
		if err != nil {
			return err
		}
		sp.files = append(sp.files, f)
	}
	sp.h.tc.Logger().Info("aggregate spilled", zap.Int("files", len(sp.files)), zap.Int("level", sp.h.level))
	return nil
}

// nextSpilled yields the groups of the spilled partitions, one after the
// other, once the table's own are out.
func (h *hashAgg) nextSpilled(ctx context.Context) (arrow.RecordBatch, error) {
	sp := h.spill
	if sp == nil {
		return nil, execution.EOF
	}
	for {
		if sp.child != nil {
			b, err := sp.child.Next(ctx)
			if err != execution.EOF {
				return b, err
			}
			sp.child.Close()
			sp.child = nil
			continue
		}
		if len(sp.files) == 0 {
			return nil, execution.EOF
		}
		f := sp.files[0]
		sp.files = sp.files[1:]
		r, err := f.Open()
		if err != nil {
			return nil, err
		}
		child, err := NewHashAggregate(h.tc, &removeOnClose{Stream: r, f: f}, h.mode, h.origGroupBy, h.origAggs, h.out)
		if err != nil {
			r.Close()
			return nil, err
		}
		child.(*hashAgg).level = h.level + 1
		sp.child = child
	}
}

func (sp *aggSpill) close() {
	if sp.child != nil {
		sp.child.Close()
		sp.child = nil
	}
	for p, w := range sp.writers {
		if w != nil {
			w.Abort()
			sp.writers[p] = nil
		}
	}
	sp.files = nil
	sp.spiller.Close()
}

// removeOnClose deletes a spill file once its reader is closed (it is
// read once).
type removeOnClose struct {
	execution.Stream
	f *execution.SpillFile
}

func (r *removeOnClose) Close() error {
	err := r.Stream.Close()
	r.f.Remove()
	return err
}
