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

// Arithmetic kernels: + - * / div % neg over Int64, Uint64, Float64 and
// Decimal128 (operands of different scales are rescaled in the kernel).

func bindArith(c *Call) (kernelFn, error) {
	lt, rt := c.Args[0].DataType(), c.Args[1].DataType()
	switch {
	case lt.ID() == arrow.INT64 && rt.ID() == arrow.INT64:
		return arithInt64, nil
	case lt.ID() == arrow.UINT64 && rt.ID() == arrow.UINT64:
		return arithUint64, nil
	case lt.ID() == arrow.FLOAT64 && rt.ID() == arrow.FLOAT64:
		return arithFloat64, nil
	case isDec(lt) && isDec(rt):
		return arithDecimal, nil
	case isInt(lt) && isInt(rt):
		return arithMixedInt, nil
	}
	return nil, qerr.New(qerr.Internal, "%s: unsupported argument types %s, %s", c.Name, lt, rt)
}

func errOutOfRange(ec *evalCtx, typ string) error {
	return qerr.New(qerr.InvalidArgument, "%s value is out of range in '%s'", typ, ec.call)
}

func arithInt64(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
	l, r := args[0].(*array.Int64), args[1].(*array.Int64)
	a, b := l.Int64Values(), r.Int64Values()
	n := ec.n
	if ec.call.Name == "/" {
		return nil, qerr.New(qerr.Internal, "integer / must be typed as decimal")
	}
	vbuf := mergeValidity(ec.mem, n, l, r)
	vbits := bitsOf(vbuf)
	dbuf, out := newValues[int64](ec.mem, n)
	overflow := false
	switch ec.call.Name {
	case "+":
		for i := range out {
			s := a[i] + b[i]
			overflow = overflow || ((a[i]^s)&(b[i]^s)) < 0 && valid(vbits, i)
			out[i] = s
		}
	case "-":
		for i := range out {
			s := a[i] - b[i]
			overflow = overflow || ((a[i]^b[i])&(a[i]^s)) < 0 && valid(vbits, i)
			out[i] = s
		}
	case "*":
		for i := range out {
			hi, lo := bits.Mul64(absU(a[i]), absU(b[i]))
			neg := (a[i] < 0) != (b[i] < 0)
			if (hi != 0 || lo > math.MaxInt64 && !(neg && lo == 1<<63)) && valid(vbits, i) {
				overflow = true
			}
			out[i] = a[i] * b[i]
		}
	case "div", "%":
		if vbuf == nil {
			vbuf, vbits = validityCopy(ec.mem, n)
		}
		div := ec.call.Name == "div"
		for i := range out {
			if b[i] == 0 {
				vbits[i>>3] &^= 1 << (i & 7) // MySQL: x DIV 0 and x % 0 are NULL
				continue
			}
			if div {
				if a[i] == math.MinInt64 && b[i] == -1 && valid(vbits, i) {
					overflow = true
				}
				out[i] = a[i] / b[i]
			} else {
				out[i] = a[i] % b[i]
			}
		}
	}
	if overflow {
		release(vbuf, dbuf)
		return nil, errOutOfRange(ec, "BIGINT")
	}
	return makeArray(tInt, n, vbuf, dbuf), nil
}

func arithUint64(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
	l, r := args[0].(*array.Uint64), args[1].(*array.Uint64)
	a, b := l.Uint64Values(), r.Uint64Values()
	n := ec.n
	vbuf := mergeValidity(ec.mem, n, l, r)
	vbits := bitsOf(vbuf)
	dbuf, out := newValues[uint64](ec.mem, n)
	overflow := false
	switch ec.call.Name {
	case "+":
		for i := range out {
			s, c := bits.Add64(a[i], b[i], 0)
			overflow = overflow || c != 0 && valid(vbits, i)
			out[i] = s
		}
	case "-":
		for i := range out {
			s, c := bits.Sub64(a[i], b[i], 0)
			overflow = overflow || c != 0 && valid(vbits, i)
			out[i] = s
		}
	case "*":
		for i := range out {
			hi, lo := bits.Mul64(a[i], b[i])
			overflow = overflow || hi != 0 && valid(vbits, i)
			out[i] = lo
		}
	case "div", "%":
		if vbuf == nil {
			vbuf, vbits = validityCopy(ec.mem, n)
		}
		for i := range out {
			if b[i] == 0 {
				vbits[i>>3] &^= 1 << (i & 7)
				continue
			}
			if ec.call.Name == "div" {
				out[i] = a[i] / b[i]
			} else {
				out[i] = a[i] % b[i]
			}
		}
	default:
		release(vbuf, dbuf)
		return nil, qerr.New(qerr.Internal, "unsigned %s must be typed as decimal", ec.call.Name)
	}
	if overflow {
		release(vbuf, dbuf)
		return nil, errOutOfRange(ec, "BIGINT UNSIGNED")
	}
	return makeArray(tUint, n, vbuf, dbuf), nil
}

// arithMixedInt computes BIGINT op BIGINT UNSIGNED (either order) exactly
// in sign-magnitude form, then checks the result fits the call's type.
func arithMixedInt(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
	n := ec.n
	an, am := signMag(args[0])
	bn, bm := signMag(args[1])
	op := ec.call.Name
	if op == "/" {
		return nil, qerr.New(qerr.Internal, "integer / must be typed as decimal")
	}
	unsigned := ec.call.Type.ID() == arrow.UINT64
	vbuf, vbits := validityCopy(ec.mem, n, args[0], args[1])
	dbuf, out := newValues[uint64](ec.mem, n)
	for i := range out {
		if !valid(vbits, i) {
			continue
		}
		x, y := am(i), bm(i)
		xn, yn := an(i), bn(i)
		var neg, ok = false, true
		var mag uint64
		switch op {
		case "+", "-":
			if op == "-" {
				yn = !yn
			}
			if xn == yn {
				var carry uint64
				mag, carry = bits.Add64(x, y, 0)
				neg, ok = xn, carry == 0
			} else if x >= y {
				mag, neg = x-y, xn
			} else {
				mag, neg = y-x, yn
			}
		case "*":
			var hi uint64
			hi, mag = bits.Mul64(x, y)
			neg, ok = xn != yn, hi == 0
		case "div", "%":
			if y == 0 {
				vbits[i>>3] &^= 1 << (i & 7) // MySQL: NULL
				continue
			}
			if op == "div" {
				mag, neg = x/y, xn != yn
			} else {
				mag, neg = x%y, xn
			}
		}
		if mag == 0 {
			neg = false
		}
		switch {
		case unsigned:
			ok = ok && !neg
			out[i] = mag
		case neg:
			ok = ok && mag <= 1<<63
			out[i] = -mag
		default:
			ok = ok && mag <= math.MaxInt64
			out[i] = mag
		}
		if !ok {
			release(vbuf, dbuf)
			if unsigned {
				return nil, errOutOfRange(ec, "BIGINT UNSIGNED")
			}
			return nil, errOutOfRange(ec, "BIGINT")
		}
	}
	return makeArray(ec.call.Type, n, vbuf, dbuf), nil
}

// signMag reads an Int64 or Uint64 array as sign and magnitude.
func signMag(a arrow.Array) (neg func(int) bool, mag func(int) uint64) {
	if u, ok := a.(*array.Uint64); ok {
		v := u.Uint64Values()
		return func(int) bool { return false }, func(i int) uint64 { return v[i] }
	}
	v := a.(*array.Int64).Int64Values()
	return func(i int) bool { return v[i] < 0 }, func(i int) uint64 { return absU(v[i]) }
}

func arithFloat64(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
	l, r := args[0].(*array.Float64), args[1].(*array.Float64)
	a, b := l.Float64Values(), r.Float64Values()
	n := ec.n
	name := ec.call.Name
	if name == "div" {
		return floatIntDiv(ec, l, r)
	}
	vbuf := mergeValidity(ec.mem, n, l, r)
	vbits := bitsOf(vbuf)
	dbuf, out := newValues[float64](ec.mem, n)
	switch name {
	case "+":
		for i := range out {
			out[i] = a[i] + b[i]
		}
	case "-":
		for i := range out {
			out[i] = a[i] - b[i]
		}
	case "*":
		for i := range out {
			out[i] = a[i] * b[i]
		}
	case "/", "%":
		if vbuf == nil {
			vbuf, vbits = validityCopy(ec.mem, n)
		}
		for i := range out {
			if b[i] == 0 {
				vbits[i>>3] &^= 1 << (i & 7)
				continue
			}
			if name == "/" {
				out[i] = a[i] / b[i]
			} else {
				out[i] = math.Mod(a[i], b[i])
			}
		}
	}
	for i, v := range out {
		if math.IsInf(v, 0) && valid(vbits, i) {
			release(vbuf, dbuf)
			return nil, errOutOfRange(ec, "DOUBLE")
		}
	}
	return makeArray(tFloat, n, vbuf, dbuf), nil
}

// floatIntDiv is DOUBLE DIV DOUBLE: truncated quotient as BIGINT.
func floatIntDiv(ec *evalCtx, l, r *array.Float64) (arrow.Array, error) {
	a, b := l.Float64Values(), r.Float64Values()
	n := ec.n
	vbuf, vbits := validityCopy(ec.mem, n, l, r)
	dbuf, out := newValues[int64](ec.mem, n)
	for i := range out {
		if b[i] == 0 {
			vbits[i>>3] &^= 1 << (i & 7)
			continue
		}
		q := math.Trunc(a[i] / b[i])
		if (q >= 9.223372036854775807e18 || q < -9.223372036854775808e18) && valid(vbits, i) {
			release(vbuf, dbuf)
			return nil, errOutOfRange(ec, "BIGINT")
		}
		out[i] = int64(q)
	}
	return makeArray(tInt, n, vbuf, dbuf), nil
}

// arithDecimal computes decimal + - * / % and DIV. Each row takes the int64
// path when its operands and result fit, else math/big.
func arithDecimal(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
	l, r := args[0].(*array.Decimal128), args[1].(*array.Decimal128)
	a, b := l.Values(), r.Values()
	s1 := l.DataType().(*arrow.Decimal128Type).Scale
	s2 := r.DataType().(*arrow.Decimal128Type).Scale
	n := ec.n
	name := ec.call.Name
	if name == "div" {
		return decIntDiv(ec, l, r, a, b, s1, s2)
	}
	rt := ec.call.Type.(*arrow.Decimal128Type)
	s := rt.Scale
	vbuf := mergeValidity(ec.mem, n, l, r)
	vbits := bitsOf(vbuf)
	if name == "/" || name == "%" {
		if vbuf == nil {
			vbuf, vbits = validityCopy(ec.mem, n)
		}
	}
	dbuf, out := newValues[decimal128.Num](ec.mem, n)
	fail := func() (arrow.Array, error) {
		release(vbuf, dbuf)
		return nil, errOutOfRange(ec, "DECIMAL")
	}
	switch name {
	case "+", "-":
		m1, m2 := s-s1, s-s2 // both ≥ 0: s = max(s1, s2)
		sub := name == "-"
		for i := range out {
			if !valid(vbits, i) {
				continue
			}
			x, okx := decI64(a[i])
			y, oky := decI64(b[i])
			if okx && oky && m1 <= 18 && m2 <= 18 {
				xs, ok1 := mulI64(x, pow10[m1])
				ys, ok2 := mulI64(y, pow10[m2])
				if sub {
					ys = -ys
				}
				sum := xs + ys
				if ok1 && ok2 && ys != math.MinInt64 && ((xs^sum)&(ys^sum)) >= 0 {
					out[i] = decimal128.FromI64(sum)
					continue
				}
			}
			bx := rescaleBig(a[i].BigInt(), s1, s)
			by := rescaleBig(b[i].BigInt(), s2, s)
			if sub {
				bx.Sub(bx, by)
			} else {
				bx.Add(bx, by)
			}
			v, ok := decFromBig(bx)
			if !ok {
				return fail()
			}
			out[i] = v
		}
	case "*":
		ps := s1 + s2
		for i := range out {
			if !valid(vbits, i) {
				continue
			}
			x, okx := decI64(a[i])
			y, oky := decI64(b[i])
			if okx && oky {
				if p, ok := mulI64(x, y); ok {
					if ps == s {
						out[i] = decimal128.FromI64(p)
					} else {
						out[i], _ = decRescale(decimal128.FromI64(p), ps, s)
					}
					continue
				}
			}
			prod := new(big.Int).Mul(a[i].BigInt(), b[i].BigInt())
			v, ok := decFromBig(rescaleBig(prod, ps, s))
			if !ok {
				return fail()
			}
			out[i] = v
		}
	case "/":
		// result = round(a * 10^k / b) with k = s - s1 + s2.
		k := s - s1 + s2
		for i := range out {
			if b[i].Sign() == 0 {
				vbits[i>>3] &^= 1 << (i & 7)
				continue
			}
			if !valid(vbits, i) {
				continue
			}
			x, okx := decI64(a[i])
			y, oky := decI64(b[i])
			if okx && oky && k >= 0 && k <= 18 {
				if xs, ok := mulI64(x, pow10[k]); ok {
					out[i] = decimal128.FromI64(roundDivSigned(xs, y))
					continue
				}
			}
			num := rescaleBigAny(a[i].BigInt(), 0, int64(k))
			v, ok := decFromBig(roundDivBig(num, b[i].BigInt()))
			if !ok {
				return fail()
			}
			out[i] = v
		}
	case "%":
		for i := range out {
			if b[i].Sign() == 0 {
				vbits[i>>3] &^= 1 << (i & 7)
				continue
			}
			if !valid(vbits, i) {
				continue
			}
			bx := rescaleBig(a[i].BigInt(), s1, s)
			by := rescaleBig(b[i].BigInt(), s2, s)
			v, _ := decFromBig(bx.Rem(bx, by))
			out[i] = v
		}
	}
	return makeArray(rt, n, vbuf, dbuf), nil
}

// roundDivSigned divides rounding half away from zero (d ≠ 0).
func roundDivSigned(a, d int64) int64 {
	if d < 0 {
		if a == math.MinInt64 || d == math.MinInt64 {
			q := new(big.Int).Neg(big.NewInt(a))
			return roundDivBig(q, new(big.Int).Neg(big.NewInt(d))).Int64()
		}
		a, d = -a, -d
	}
	return roundDivI64(a, d)
}

// decIntDiv is DECIMAL DIV DECIMAL: the truncated quotient as BIGINT.
func decIntDiv(ec *evalCtx, l, r arrow.Array, a, b []decimal128.Num, s1, s2 int32) (arrow.Array, error) {
	n := ec.n
	vbuf, vbits := validityCopy(ec.mem, n, l, r)
	dbuf, out := newValues[int64](ec.mem, n)
	s := max(s1, s2)
	for i := range out {
		if b[i].Sign() == 0 {
			vbits[i>>3] &^= 1 << (i & 7)
			continue
		}
		if !valid(vbits, i) {
			continue
		}
		q := new(big.Int).Quo(rescaleBig(a[i].BigInt(), s1, s), rescaleBig(b[i].BigInt(), s2, s))
		if !q.IsInt64() {
			release(vbuf, dbuf)
			return nil, errOutOfRange(ec, "BIGINT")
		}
		out[i] = q.Int64()
	}
	return makeArray(tInt, n, vbuf, dbuf), nil
}

func bindNeg(c *Call) (kernelFn, error) {
	switch t := c.Args[0].DataType(); t.ID() {
	case arrow.INT64:
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			in := args[0].(*array.Int64)
			vals := in.Int64Values()
			vbuf := mergeValidity(ec.mem, ec.n, in)
			dbuf, out := newValues[int64](ec.mem, ec.n)
			for i, v := range vals {
				if v == math.MinInt64 && valid(bitsOf(vbuf), i) {
					release(vbuf, dbuf)
					return nil, errOutOfRange(ec, "BIGINT")
				}
				out[i] = -v
			}
			return makeArray(tInt, ec.n, vbuf, dbuf), nil
		}, nil
	case arrow.FLOAT64:
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			in := args[0].(*array.Float64)
			vbuf := mergeValidity(ec.mem, ec.n, in)
			dbuf, out := newValues[float64](ec.mem, ec.n)
			for i, v := range in.Float64Values() {
				out[i] = -v
			}
			return makeArray(tFloat, ec.n, vbuf, dbuf), nil
		}, nil
	case arrow.DECIMAL128:
		return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
			in := args[0].(*array.Decimal128)
			vbuf := mergeValidity(ec.mem, ec.n, in)
			dbuf, out := newValues[decimal128.Num](ec.mem, ec.n)
			for i, v := range in.Values() {
				out[i] = v.Negate()
			}
			return makeArray(t, ec.n, vbuf, dbuf), nil
		}, nil
	}
	return nil, qerr.New(qerr.Internal, "neg: unsupported argument type %s", c.Args[0].DataType())
}
