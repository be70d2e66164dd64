package accum

import (
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

// sumAcc computes SUM and AVG. Exact sums (integers, decimals) run on a
// 128-bit integer (lo/hi slices: an add with carry per row, no decimal128.Num
// arithmetic); DOUBLE sums on float64.
type sumAcc struct {
	noRelease
	avg      bool
	float    bool
	scale    int32 // scale of the running exact sum
	result   arrow.DataType
	lo       []uint64
	hi       []int64
	f        []float64
	cnt      []int64
	overflow bool
}

func newSum(s Spec) (*sumAcc, error) {
	a := &sumAcc{avg: s.Func == "avg", result: s.Result}
	switch r := s.Result.(type) {
	case *arrow.Decimal128Type:
		a.scale = r.Scale
		if a.avg {
			a.scale = r.Scale - 4
		}
	case *arrow.Float64Type:
		a.float = true
	default:
		return nil, qerr.New(qerr.Internal, "%s: unsupported result type %s", s.Func, s.Result)
	}
	return a, nil
}

func (a *sumAcc) Resize(n int) {
	if a.float {
		a.f = growTo(a.f, n)
	} else {
		a.lo, a.hi = growTo(a.lo, n), growTo(a.hi, n)
	}
	a.cnt = growTo(a.cnt, n)
}

func (a *sumAcc) Bytes() int64 {
	return int64(cap(a.lo))*8 + int64(cap(a.hi))*8 + int64(cap(a.f))*8 + int64(cap(a.cnt))*8
}

func (a *sumAcc) add128(g uint32, lo uint64, hi int64) {
	var c uint64
	a.lo[g], c = bits.Add64(a.lo[g], lo, 0)
	h := a.hi[g] + hi + int64(c)
	if (a.hi[g] >= 0) == (hi >= 0) && (h >= 0) != (hi >= 0) {
		a.overflow = true
	}
	a.hi[g] = h
}

func (a *sumAcc) Update(groups []uint32, args []arrow.Array) error {
	if len(args) != 1 {
		return qerr.New(qerr.Internal, "sum: want one argument")
	}
	x := args[0]
	nulls := x.NullN() > 0
	switch x.DataType().ID() {
	case arrow.FLOAT64:
		if !a.float {
			return qerr.New(qerr.Internal, "sum: DOUBLE input for an exact sum")
		}
		v := values[float64](x)
		for i, g := range groups {
			if nulls && x.IsNull(i) {
				continue
			}
			a.f[g] += v[i]
			a.cnt[g]++
		}
		return nil
	case arrow.INT64, arrow.DECIMAL64:
		v := values[int64](x)
		if a.float {
			scale := decScale(x.DataType())
			for i, g := range groups {
				if nulls && x.IsNull(i) {
					continue
				}
				a.f[g] += decimal128.FromI64(v[i]).ToFloat64(scale)
				a.cnt[g]++
			}
			return nil
		}
		for i, g := range groups {
			if nulls && x.IsNull(i) {
				continue
			}
			a.add128(g, uint64(v[i]), v[i]>>63)
			a.cnt[g]++
		}
		return nil
	case arrow.UINT64:
		v := values[uint64](x)
		for i, g := range groups {
			if nulls && x.IsNull(i) {
				continue
			}
			if a.float {
				a.f[g] += float64(v[i])
			} else {
				a.add128(g, v[i], 0)
			}
			a.cnt[g]++
		}
		return nil
	case arrow.DECIMAL128:
		v := values[decimal128.Num](x)
		scale := decScale(x.DataType())
		for i, g := range groups {
			if nulls && x.IsNull(i) {
				continue
			}
			if a.float {
				a.f[g] += v[i].ToFloat64(scale)
			} else {
				a.add128(g, v[i].LowBits(), v[i].HighBits())
			}
			a.cnt[g]++
		}
		return nil
	}
	return qerr.New(qerr.Internal, "sum: unsupported argument type %s", x.DataType())
}

func decScale(t arrow.DataType) int32 {
	if d, ok := t.(arrow.DecimalType); ok {
		return d.GetScale()
	}
	return 0
}

func (a *sumAcc) Merge(groups []uint32, states []arrow.Array) error {
	want := 1
	if a.avg {
		want = 2
	}
	if len(states) != want {
		return qerr.New(qerr.Internal, "sum: bad state columns")
	}
	s := states[0]
	nulls := s.NullN() > 0
	var cnt []int64
	if a.avg {
		cnt = values[int64](states[1])
	}
	if a.float {
		v := values[float64](s)
		for i, g := range groups {
			if nulls && s.IsNull(i) {
				continue
			}
			a.f[g] += v[i]
			if a.avg {
				a.cnt[g] += cnt[i]
			} else {
				a.cnt[g]++
			}
		}
		return nil
	}
	v := values[decimal128.Num](s)
	for i, g := range groups {
		if nulls && s.IsNull(i) {
			continue
		}
		a.add128(g, v[i].LowBits(), v[i].HighBits())
		if a.avg {
			a.cnt[g] += cnt[i]
		} else {
			a.cnt[g]++
		}
	}
	return nil
}

func (a *sumAcc) MergeGroup(dst, src uint32) {
	if a.float {
		a.f[dst] += a.f[src]
	} else {
		a.add128(dst, a.lo[src], a.hi[src])
	}
	a.cnt[dst] += a.cnt[src]
}

func (a *sumAcc) valid() []bool {
	v := make([]bool, len(a.cnt))
	for i, c := range a.cnt {
		v[i] = c > 0
	}
	return v
}

func (a *sumAcc) sums(mem memory.Allocator, dt arrow.DataType) (arrow.Array, error) {
	if a.float {
		return fixedArray(mem, arrow.PrimitiveTypes.Float64, a.f, a.valid()), nil
	}
	if a.overflow {
		return nil, outOfRange()
	}
	nums := make([]decimal128.Num, len(a.lo))
	for i := range nums {
		nums[i] = decimal128.New(a.hi[i], a.lo[i])
		if !nums[i].FitsInPrecision(38) {
			return nil, outOfRange()
		}
	}
	return fixedArray(mem, dt, nums, a.valid()), nil
}

func outOfRange() error {
	return qerr.New(qerr.InvalidArgument, "Out of range value: DECIMAL value is out of range in 'sum'")
}

func (a *sumAcc) State(mem memory.Allocator) ([]arrow.Array, error) {
	if !a.avg {
		s, err := a.sums(mem, a.result)
		if err != nil {
			return nil, err
		}
		return []arrow.Array{s}, nil
	}
	var st arrow.DataType = arrow.PrimitiveTypes.Float64
	if !a.float {
		st = &arrow.Decimal128Type{Precision: 38, Scale: a.scale}
	}
	s, err := a.sums(mem, st)
	if err != nil {
		return nil, err
	}
	return []arrow.Array{s, fixedArray(mem, arrow.PrimitiveTypes.Int64, a.cnt, nil)}, nil
}

func (a *sumAcc) Final(mem memory.Allocator) (arrow.Array, error) {
	if !a.avg {
		return a.sums(mem, a.result)
	}
	valid := a.valid()
	if a.float {
		out := make([]float64, len(a.f))
		for i, c := range a.cnt {
			if c > 0 {
				out[i] = a.f[i] / float64(c)
			}
		}
		return fixedArray(mem, a.result, out, valid), nil
	}
	if a.overflow {
		return nil, outOfRange()
	}
	// AVG keeps 4 more digits than its input: (sum * 10^4) / count, rounded
	// half away from zero.
	out := make([]decimal128.Num, len(a.lo))
	for i, c := range a.cnt {
		if c == 0 {
			continue
		}
		num := decimal128.New(a.hi[i], a.lo[i]).IncreaseScaleBy(4)
		neg := num.Sign() < 0
		q, r := num.Abs().Div(decimal128.FromI64(c))
		if r.Add(r).GreaterEqual(decimal128.FromI64(c)) {
			q = q.Add(decimal128.FromI64(1))
		}
		if neg {
			q = q.Negate()
		}
		out[i] = q
	}
	return fixedArray(mem, a.result, out, valid), nil
}
