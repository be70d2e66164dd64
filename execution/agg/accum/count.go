package accum

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

type countAcc struct {
	noRelease
	star   bool
	counts []int64
}

func (a *countAcc) Resize(n int) { a.counts = growTo(a.counts, n) }
func (a *countAcc) Bytes() int64 { return int64(cap(a.counts)) * 8 }

func (a *countAcc) Update(groups []uint32, args []arrow.Array) error {
	c := a.counts
	nulls := false
	for _, x := range args {
		nulls = nulls || x.NullN() > 0
	}
	if a.star || !nulls {
		for _, g := range groups {
			c[g]++
		}
		return nil
	}
	for i, g := range groups {
		if allValid(args, i) {
			c[g]++
		}
	}
	return nil
}

func (a *countAcc) Merge(groups []uint32, states []arrow.Array) error {
	if len(states) != 1 || states[0].DataType().ID() != arrow.INT64 {
		return qerr.New(qerr.Internal, "count: bad state columns")
	}
	v := values[int64](states[0])
	for i, g := range groups {
		a.counts[g] += v[i]
	}
	return nil
}

func (a *countAcc) MergeGroup(dst, src uint32) { a.counts[dst] += a.counts[src] }

func (a *countAcc) State(mem memory.Allocator) ([]arrow.Array, error) {
	f, err := a.Final(mem)
	return []arrow.Array{f}, err
}

func (a *countAcc) Final(mem memory.Allocator) (arrow.Array, error) {
	return fixedArray(mem, arrow.PrimitiveTypes.Int64, a.counts, nil), nil
}
