package accum

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

// bitAcc is BIT_AND/BIT_OR/BIT_XOR over 64-bit patterns (never NULL: an empty
// group gives all ones for AND, 0 otherwise).
type bitAcc struct {
	noRelease
	fn   string
	vals []uint64
}

func newBit(fn string) *bitAcc { return &bitAcc{fn: fn} }

func (a *bitAcc) Resize(n int) {
	old := len(a.vals)
	a.vals = growTo(a.vals, n)
	if a.fn == "bit_and" {
		for i := old; i < n; i++ {
			a.vals[i] = ^uint64(0)
		}
	}
}
func (a *bitAcc) Bytes() int64 { return int64(cap(a.vals)) * 8 }

func (a *bitAcc) fold(g uint32, v uint64) {
	switch a.fn {
	case "bit_and":
		a.vals[g] &= v
	case "bit_or":
		a.vals[g] |= v
	default:
		a.vals[g] ^= v
	}
}

func (a *bitAcc) Update(groups []uint32, args []arrow.Array) error {
	x := args[0]
	switch x.DataType().ID() {
	case arrow.INT64, arrow.UINT64:
	default:
		return qerr.New(qerr.Internal, "%s: want a 64-bit integer argument, got %s", a.fn, x.DataType())
	}
	v := values[uint64](x)
	nulls := x.NullN() > 0
	for i, g := range groups {
		if nulls && x.IsNull(i) {
			continue
		}
		a.fold(g, v[i])
	}
	return nil
}

func (a *bitAcc) Merge(groups []uint32, states []arrow.Array) error { return a.Update(groups, states) }
func (a *bitAcc) MergeGroup(dst, src uint32)                        { a.fold(dst, a.vals[src]) }

func (a *bitAcc) State(mem memory.Allocator) ([]arrow.Array, error) {
	f, err := a.Final(mem)
	return []arrow.Array{f}, err
}

func (a *bitAcc) Final(mem memory.Allocator) (arrow.Array, error) {
	return fixedArray(mem, arrow.PrimitiveTypes.Uint64, a.vals, nil), nil
}
