package expr

import (
	"math"
	"math/big"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/quiverdb/quiver/qerr"
)

// floatFuncs are the DOUBLE functions; ok=false gives NULL (MySQL returns
// NULL for arguments outside the domain, e.g. LN(0), SQRT(-1)).
var floatFuncs = map[string]func(x []float64) (float64, bool){
	"power": func(x []float64) (float64, bool) {
		r := math.Pow(x[0], x[1])
		if math.IsNaN(r) {
			// MySQL: POW(-8, 1/3) is out of range (not finite), not NULL.
			return math.Inf(1), true
		}
		return r, true
	},
	"sqrt":  func(x []float64) (float64, bool) { return math.Sqrt(x[0]), x[0] >= 0 },
	"exp":   func(x []float64) (float64, bool) { return math.Exp(x[0]), true },
	"ln":    func(x []float64) (float64, bool) { return math.Log(x[0]), x[0] > 0 },
	"log": func(x []float64) (float64, bool) {
		if len(x) == 2 { // LOG(b, x)
			if x[0] <= 0 || x[0] == 1 || x[1] <= 0 {
				return 0, false
			}
			return math.Log(x[1]) / math.Log(x[0]), true
		}
		return math.Log(x[0]), x[0] > 0
	},
	"log2":    func(x []float64) (float64, bool) { return math.Log2(x[0]), x[0] > 0 },
	"log10":   func(x []float64) (float64, bool) { return math.Log10(x[0]), x[0] > 0 },
	"pi":      func([]float64) (float64, bool) { return math.Pi, true },
	"sin":     func(x []float64) (float64, bool) { return math.Sin(x[0]), true },
	"cos":     func(x []float64) (float64, bool) { return math.Cos(x[0]), true },
	"tan":     func(x []float64) (float64, bool) { return math.Tan(x[0]), true },
	"cot":     func(x []float64) (float64, bool) { return 1 / math.Tan(x[0]), true }, // COT(0): out of range
	"asin":    func(x []float64) (float64, bool) { return math.Asin(x[0]), x[0] >= -1 && x[0] <= 1 },
	"acos":    func(x []float64) (float64, bool) { return math.Acos(x[0]), x[0] >= -1 && x[0] <= 1 },
	"atan":    func(x []float64) (float64, bool) { return math.Atan(x[0]), true },
	"atan2":   func(x []float64) (float64, bool) { return math.Atan2(x[0], x[1]), true },
	"degrees": func(x []float64) (float64, bool) { return x[0] * 180 / math.Pi, true },
	"radians": func(x []float64) (float64, bool) { return x[0] * math.Pi / 180, true },
}

func bindFloatFn(c *Call) (kernelFn, error) {
	f := floatFuncs[c.Name]
	for _, a := range c.Args {
		if id := a.DataType().ID(); id != arrow.FLOAT64 && id != arrow.NULL {
			return nil, qerr.New(qerr.Internal, "%s: argument is %s, not DOUBLE", c.Name, a.DataType())
		}
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		vals := make([][]float64, len(args))
		for i, a := range args {
			if fa, ok := a.(*array.Float64); ok {
				vals[i] = fa.Float64Values()
			}
		}
		x := make([]float64, len(args))
		if len(args) == 0 { // PI(): one value per row
			dbuf, out := newValues[float64](ec.mem, ec.n)
			for i := range out {
				out[i], _ = f(nil)
			}
			return makeArray(tFloat, ec.n, nil, dbuf), nil
		}
		vbuf, vbits := validityCopy(ec.mem, ec.n, args...)
		dbuf, out := newValues[float64](ec.mem, ec.n)
		for i := range out {
			if !valid(vbits, i) {
				continue
			}
			for k := range x {
				x[k] = vals[k][i]
			}
			r, ok := f(x)
			if !ok || math.IsNaN(r) {
				vbits[i>>3] &^= 1 << (i & 7)
				continue
			}
			if math.IsInf(r, 0) {
				release(vbuf, dbuf)
				return nil, errOutOfRange(ec, "DOUBLE")
			}
			out[i] = r
		}
		return makeArray(tFloat, ec.n, vbuf, dbuf), nil
	}, nil
}

// numKernel dispatches a one-argument numeric function by type.
type numImpl struct {
	i   func(v int64) (int64, bool) // ok=false → overflow error
	u   func(v uint64) uint64
	f   func(v float64) float64
	dec func(v decimal128.Num, in, out *arrow.Decimal128Type) (decimal128.Num, bool)
}

func bindNumeric(impl numImpl, outInt bool) binder {
	return func(c *Call) (kernelFn, error) {
		in := c.Args[0].DataType()
		switch in.ID() {
		case arrow.INT64, arrow.UINT64, arrow.FLOAT64, arrow.DECIMAL128:
		default:
			return nil, qerr.New(qerr.Internal, "%s: unsupported argument type %s", c.Name, in)
		}
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			n := ec.n
			a := args[0]
			switch v := a.(type) {
			case *array.Int64:
				vbuf := mergeValidity(ec.mem, n, a)
				dbuf, out := newValues[int64](ec.mem, n)
				for i, x := range v.Int64Values() {
					r, ok := impl.i(x)
					if !ok && valid(bitsOf(vbuf), i) {
						release(vbuf, dbuf)
						return nil, errOutOfRange(ec, "BIGINT")
					}
					out[i] = r
				}
				return makeArray(tInt, n, vbuf, dbuf), nil
			case *array.Uint64:
				vbuf := mergeValidity(ec.mem, n, a)
				if outInt {
					dbuf, out := newValues[int64](ec.mem, n)
					for i, x := range v.Uint64Values() {
						out[i] = int64(impl.u(x))
					}
					return makeArray(tInt, n, vbuf, dbuf), nil
				}
				dbuf, out := newValues[uint64](ec.mem, n)
				for i, x := range v.Uint64Values() {
					out[i] = impl.u(x)
				}
				return makeArray(tUint, n, vbuf, dbuf), nil
			case *array.Float64:
				vbuf := mergeValidity(ec.mem, n, a)
				if outInt {
					dbuf, out := newValues[int64](ec.mem, n)
					for i, x := range v.Float64Values() {
						out[i] = int64(impl.f(x))
					}
					return makeArray(tInt, n, vbuf, dbuf), nil
				}
				dbuf, out := newValues[float64](ec.mem, n)
				for i, x := range v.Float64Values() {
					out[i] = impl.f(x)
				}
				return makeArray(tFloat, n, vbuf, dbuf), nil
			case *array.Decimal128:
				dt := v.DataType().(*arrow.Decimal128Type)
				vbuf := mergeValidity(ec.mem, n, a)
				if outInt {
					dbuf, out := newValues[int64](ec.mem, n)
					for i, x := range v.Values() {
						out[i] = int64(x.Sign())
					}
					return makeArray(tInt, n, vbuf, dbuf), nil
				}
				if ec.call.Type.ID() == arrow.INT64 {
					// CEIL/FLOOR of a decimal whose integer part fits BIGINT.
					ot := &arrow.Decimal128Type{Precision: 38, Scale: 0}
					dbuf, out := newValues[int64](ec.mem, n)
					for i, x := range v.Values() {
						r, ok := impl.dec(x, dt, ot)
						iv, fits := decI64(r)
						if (!ok || !fits) && valid(bitsOf(vbuf), i) {
							release(vbuf, dbuf)
							return nil, errOutOfRange(ec, "BIGINT")
						}
						out[i] = iv
					}
					return makeArray(tInt, n, vbuf, dbuf), nil
				}
				ot := ec.call.Type.(*arrow.Decimal128Type)
				dbuf, out := newValues[decimal128.Num](ec.mem, n)
				for i, x := range v.Values() {
					r, ok := impl.dec(x, dt, ot)
					if !ok && valid(bitsOf(vbuf), i) {
						release(vbuf, dbuf)
						return nil, errOutOfRange(ec, "DECIMAL")
					}
					out[i] = r
				}
				return makeArray(ot, n, vbuf, dbuf), nil
			}
			return nil, qerr.New(qerr.Internal, "%s: unsupported argument type %s", ec.call.Name, a.DataType())
		}, nil
	}
}

var absImpl = numImpl{
	i: func(v int64) (int64, bool) {
		if v < 0 {
			return -v, v != math.MinInt64
		}
		return v, true
	},
	u: func(v uint64) uint64 { return v },
	f: math.Abs,
	dec: func(v decimal128.Num, _, _ *arrow.Decimal128Type) (decimal128.Num, bool) {
		return v.Abs(), true
	},
}

var signImpl = numImpl{
	i: func(v int64) (int64, bool) {
		switch {
		case v > 0:
			return 1, true
		case v < 0:
			return -1, true
		}
		return 0, true
	},
	u: func(v uint64) uint64 {
		if v > 0 {
			return 1
		}
		return 0
	},
	f: func(v float64) float64 {
		switch {
		case v > 0:
			return 1
		case v < 0:
			return -1
		}
		return 0
	},
}

// decToScale rounds (or truncates) v from scale in.Scale to out.Scale; when
// out.Scale is larger it rounds at digits and then pads.
func decToScale(v decimal128.Num, from, to, digits int32, truncate bool) (decimal128.Num, bool) {
	b := v.BigInt()
	if digits < from {
		p := bigPow10(from - digits)
		if truncate {
			b.Quo(b, p)
		} else {
			b = roundDivBig(b, p)
		}
		b.Mul(b, bigPow10(max(0, from-digits)))
	}
	return decFromBig(rescaleBig(b, from, to))
}

func ceilFloorImpl(ceil bool) numImpl {
	return numImpl{
		i: func(v int64) (int64, bool) { return v, true },
		u: func(v uint64) uint64 { return v },
		f: func(v float64) float64 {
			if ceil {
				return math.Ceil(v)
			}
			return math.Floor(v)
		},
		dec: func(v decimal128.Num, in, out *arrow.Decimal128Type) (decimal128.Num, bool) {
			p := bigPow10(in.Scale)
			q, r := new(big.Int).QuoRem(v.BigInt(), p, new(big.Int))
			if ceil && r.Sign() > 0 {
				q.Add(q, big.NewInt(1))
			} else if !ceil && r.Sign() < 0 {
				q.Sub(q, big.NewInt(1))
			}
			return decFromBig(rescaleBig(q, 0, out.Scale))
		},
	}
}

// bindRound implements ROUND(x[, d]) and TRUNCATE(x, d): exact types round
// half away from zero, doubles half to even (MySQL uses the C library's
// rint for doubles).
func bindRound(c *Call) (kernelFn, error) {
	trunc := c.Name == "truncate"
	in := c.Args[0].DataType()
	if !isNumeric(in) || (len(c.Args) == 2 && c.Args[1].DataType().ID() != arrow.INT64) {
		return nil, qerr.New(qerr.Internal, "%s: unsupported argument types", c.Name)
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		n := ec.n
		var dig []int64
		if len(args) == 2 {
			dig = args[1].(*array.Int64).Int64Values()
		}
		digits := func(i int) int64 {
			if dig == nil {
				return 0
			}
			return dig[i]
		}
		vbuf := mergeValidity(ec.mem, n, args...)
		switch v := args[0].(type) {
		case *array.Float64:
			dbuf, out := newValues[float64](ec.mem, n)
			for i, x := range v.Float64Values() {
				out[i] = roundFloat(x, digits(i), trunc)
			}
			return makeArray(tFloat, n, vbuf, dbuf), nil
		case *array.Int64:
			dbuf, out := newValues[int64](ec.mem, n)
			for i, x := range v.Int64Values() {
				r, ok := roundInt(x, digits(i), trunc)
				if !ok && valid(bitsOf(vbuf), i) {
					release(vbuf, dbuf)
					return nil, errOutOfRange(ec, "BIGINT")
				}
				out[i] = r
			}
			return makeArray(tInt, n, vbuf, dbuf), nil
		case *array.Uint64:
			dbuf, out := newValues[uint64](ec.mem, n)
			for i, x := range v.Uint64Values() {
				r, ok := roundUint(x, digits(i), trunc)
				if !ok && valid(bitsOf(vbuf), i) {
					release(vbuf, dbuf)
					return nil, errOutOfRange(ec, "BIGINT UNSIGNED")
				}
				out[i] = r
			}
			return makeArray(tUint, n, vbuf, dbuf), nil
		case *array.Decimal128:
			it := v.DataType().(*arrow.Decimal128Type)
			ot := ec.call.Type.(*arrow.Decimal128Type)
			dbuf, out := newValues[decimal128.Num](ec.mem, n)
			for i, x := range v.Values() {
				if !valid(bitsOf(vbuf), i) {
					continue
				}
				d := int32(max(-38, min(digits(i), 38)))
				r, ok := decToScale(x, it.Scale, ot.Scale, d, trunc)
				if !ok {
					release(vbuf, dbuf)
					return nil, errOutOfRange(ec, "DECIMAL")
				}
				out[i] = r
			}
			return makeArray(ot, n, vbuf, dbuf), nil
		}
		release(vbuf)
		return nil, qerr.New(qerr.Internal, "%s: unsupported argument type %s", ec.call.Name, args[0].DataType())
	}, nil
}

func roundFloat(x float64, d int64, trunc bool) float64 {
	if d > 30 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x
	}
	p := math.Pow10(int(d))
	if p == 0 {
		return 0 // d far below the largest double's digits
	}
	y := x * p
	if math.IsInf(y, 0) {
		return x // too large to have digits at that position
	}
	if trunc {
		y = math.Trunc(y)
	} else {
		y = math.RoundToEven(y)
	}
	return y / p
}

// roundInt rounds x to d (negative: tens, hundreds…) digits; ok=false when
// the rounded value does not fit (ROUND(9223372036854775807, -5)).
func roundInt(x, d int64, trunc bool) (int64, bool) {
	if d >= 0 {
		return x, true
	}
	if d < -18 {
		return 0, true
	}
	p := pow10[-d]
	if trunc {
		return x / p * p, true
	}
	return mulI64(roundDivI64(x, p), p)
}

// roundUint is roundInt for BIGINT UNSIGNED.
func roundUint(x uint64, d int64, trunc bool) (uint64, bool) {
	if d >= 0 {
		return x, true
	}
	if d < -19 {
		return 0, true
	}
	p := uint64(10)
	for range -d - 1 {
		p *= 10
	}
	q, r := x/p, x%p
	if !trunc && r >= p-r {
		q++
	}
	hi, lo := bits.Mul64(q, p)
	return lo, hi == 0
}

// bindBitwise implements & | ^ << >> ~ on BIGINT UNSIGNED (MySQL).
func bindBitwise(c *Call) (kernelFn, error) {
	for _, a := range c.Args {
		if a.DataType().ID() != arrow.UINT64 {
			return nil, qerr.New(qerr.Internal, "%s: argument is %s, not BIGINT UNSIGNED", c.Name, a.DataType())
		}
	}
	name := c.Name
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		n := ec.n
		vbuf := mergeValidity(ec.mem, n, args...)
		dbuf, out := newValues[uint64](ec.mem, n)
		a := args[0].(*array.Uint64).Uint64Values()
		if name == "~" {
			for i, x := range a {
				out[i] = ^x
			}
			return makeArray(tUint, n, vbuf, dbuf), nil
		}
		b := args[1].(*array.Uint64).Uint64Values()
		switch name {
		case "&":
			for i := range out {
				out[i] = a[i] & b[i]
			}
		case "|":
			for i := range out {
				out[i] = a[i] | b[i]
			}
		case "^":
			for i := range out {
				out[i] = a[i] ^ b[i]
			}
		case "<<":
			for i := range out {
				if b[i] < 64 {
					out[i] = a[i] << b[i]
				}
			}
		case ">>":
			for i := range out {
				if b[i] < 64 {
					out[i] = a[i] >> b[i]
				}
			}
		}
		return makeArray(tUint, n, vbuf, dbuf), nil
	}, nil
}
