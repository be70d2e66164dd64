package accum

import (
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

// varAcc is VAR_POP/VAR_SAMP/STDDEV_*: Welford updates per row, Chan's
// formula to merge states.
type varAcc struct {
	noRelease
	fn       string
	n        []int64
	mean, m2 []float64
}

func (a *varAcc) Resize(n int) {
	a.n, a.mean, a.m2 = growTo(a.n, n), growTo(a.mean, n), growTo(a.m2, n)
}
func (a *varAcc) Bytes() int64 { return int64(cap(a.n)) * 24 }

func (a *varAcc) Update(groups []uint32, args []arrow.Array) error {
	x := args[0]
	if x.DataType().ID() != arrow.FLOAT64 {
		return qerr.New(qerr.Internal, "%s: want DOUBLE argument, got %s", a.fn, x.DataType())
	}
	v := values[float64](x)
	nulls := x.NullN() > 0
	for i, g := range groups {
		if nulls && x.IsNull(i) {
			continue
		}
		a.n[g]++
		d := v[i] - a.mean[g]
		a.mean[g] += d / float64(a.n[g])
		a.m2[g] += d * (v[i] - a.mean[g])
	}
	return nil
}

func (a *varAcc) merge(g uint32, nb int64, mb, m2b float64) {
	na := a.n[g]
	if nb == 0 {
		return
	}
	if na == 0 {
		a.n[g], a.mean[g], a.m2[g] = nb, mb, m2b
		return
	}
	n := na + nb
	d := mb - a.mean[g]
	a.mean[g] += d * float64(nb) / float64(n)
	a.m2[g] += m2b + d*d*float64(na)*float64(nb)/float64(n)
	a.n[g] = n
}

func (a *varAcc) Merge(groups []uint32, states []arrow.Array) error {
	if len(states) != 3 {
		return qerr.New(qerr.Internal, "%s: bad state columns", a.fn)
	}
	n, m, m2 := values[int64](states[0]), values[float64](states[1]), values[float64](states[2])
	for i, g := range groups {
		a.merge(g, n[i], m[i], m2[i])
	}
	return nil
}

func (a *varAcc) MergeGroup(dst, src uint32) { a.merge(dst, a.n[src], a.mean[src], a.m2[src]) }

func (a *varAcc) State(mem memory.Allocator) ([]arrow.Array, error) {
	return []arrow.Array{
		fixedArray(mem, arrow.PrimitiveTypes.Int64, a.n, nil),
		fixedArray(mem, arrow.PrimitiveTypes.Float64, a.mean, nil),
		fixedArray(mem, arrow.PrimitiveTypes.Float64, a.m2, nil),
	}, nil
}

func (a *varAcc) Final(mem memory.Allocator) (arrow.Array, error) {
	out := make([]float64, len(a.n))
	valid := make([]bool, len(a.n))
	samp := a.fn == "var_samp" || a.fn == "stddev_samp"
	for i, n := range a.n {
		d := float64(n)
		if samp {
			d--
		}
		if d <= 0 {
			continue
		}
		v := a.m2[i] / d
		if a.fn == "stddev_samp" || a.fn == "stddev_pop" {
			v = math.Sqrt(v)
		}
		out[i], valid[i] = v, true
	}
	return fixedArray(mem, arrow.PrimitiveTypes.Float64, out, valid), nil
}
