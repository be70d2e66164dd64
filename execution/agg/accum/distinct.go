package accum

import (
	"context"
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// distinctAcc feeds its inner accumulator only the first occurrence of each
// (group, argument values) pair: COUNT/SUM/AVG(DISTINCT ...).
type distinctAcc struct {
	noRelease
	inner Accumulator
	nval  int
	mem   memory.Allocator
	seen  map[string]struct{}
	bytes int64
	buf   []byte
	offs  []int
}

func newDistinct(inner Accumulator, nval int, mem memory.Allocator) *distinctAcc {
	if mem == nil {
		mem = memory.DefaultAllocator
	}
	return &distinctAcc{inner: inner, nval: nval, mem: mem, seen: map[string]struct{}{}}
}

func (a *distinctAcc) Resize(n int) { a.inner.Resize(n) }
func (a *distinctAcc) Bytes() int64 { return a.inner.Bytes() + a.bytes }

func (a *distinctAcc) Update(groups []uint32, args []arrow.Array) error {
	vals := args[:a.nval]
	a.buf, a.offs = execution.EncodeKeys(vals, len(groups), a.buf, a.offs)
	keep := make([]int32, 0, len(groups))
	key := make([]byte, 0, 64)
	for i, g := range groups {
		if !allValid(vals, i) {
			continue
		}
		key = binary.LittleEndian.AppendUint32(key[:0], g)
		key = append(key, a.buf[a.offs[i]:a.offs[i+1]]...)
		if _, dup := a.seen[string(key)]; dup {
			continue
		}
		a.seen[string(key)] = struct{}{}
		a.bytes += int64(len(key)) + 16
		keep = append(keep, int32(i))
	}
	if len(keep) == len(groups) {
		return a.inner.Update(groups, args)
	}
	kg := make([]uint32, len(keep))
	for j, i := range keep {
		kg[j] = groups[i]
	}
	ib := array.NewInt32Builder(a.mem)
	ib.AppendValues(keep, nil)
	idx := ib.NewArray()
	ib.Release()
	defer idx.Release()
	ctx := compute.WithAllocator(context.Background(), a.mem)
	taken := make([]arrow.Array, len(args))
	defer func() {
		for _, t := range taken {
			if t != nil {
				t.Release()
			}
		}
	}()
	for k, x := range args {
		t, err := compute.TakeArray(ctx, x, idx)
		if err != nil {
			return err
		}
		taken[k] = t
	}
	return a.inner.Update(kg, taken)
}

func (a *distinctAcc) Merge([]uint32, []arrow.Array) error {
	return qerr.New(qerr.Internal, "DISTINCT aggregates cannot be merged")
}

func (a *distinctAcc) State(memory.Allocator) ([]arrow.Array, error) {
	return nil, qerr.New(qerr.Internal, "DISTINCT aggregates have no partial state")
}

func (a *distinctAcc) Final(mem memory.Allocator) (arrow.Array, error) { return a.inner.Final(mem) }
