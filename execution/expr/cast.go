package expr

import (
	"math"
	"math/big"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

// castArray converts in to type to with MySQL CAST semantics (see the
// package doc). Non-compute types on either side go through arrow's exact
// widening/narrowing casts; conversions between compute types are ours.
func castArray(mem memory.Allocator, in arrow.Array, to arrow.DataType) (arrow.Array, error) {
	from := in.DataType()
	if arrow.TypeEqual(from, to) {
		in.Retain()
		return in, nil
	}
	if from.ID() == arrow.NULL {
		return allNull(mem, to, in.Len()), nil
	}
	fc, tc := ComputeType(from), ComputeType(to)
	if fc == nil || tc == nil || !CanCast(from, to) {
		return nil, qerr.New(qerr.InvalidArgument, "cannot cast %s to %s", from, to)
	}
	if !arrow.TypeEqual(fc, from) {
		norm, err := arrowCast(mem, in, fc)
		if err != nil {
			return nil, err
		}
		defer norm.Release()
		return castArray(mem, norm, to)
	}
	if !arrow.TypeEqual(tc, to) {
		if arrow.TypeEqual(fc, tc) {
			// Already the intermediate type (DOUBLE → FLOAT): castCompute
			// is only for two distinct compute types.
			if f, ok := in.(*array.Float64); ok && to.ID() == arrow.FLOAT32 {
				for i, v := range f.Float64Values() {
					if f.IsValid(i) && math.Abs(v) > math.MaxFloat32 && !math.IsInf(v, 0) {
						return nil, qerr.New(qerr.InvalidArgument, "Out of range value for FLOAT: %g", v)
					}
				}
			}
			return arrowCast(mem, in, to)
		}
		wide, err := castCompute(mem, in, tc)
		if err != nil {
			return nil, err
		}
		defer wide.Release()
		return arrowCast(mem, wide, to)
	}
	return castCompute(mem, in, to)
}

// arrowCast is arrow's safe cast; an out-of-range value is a MySQL-style error.
func arrowCast(mem memory.Allocator, in arrow.Array, to arrow.DataType) (arrow.Array, error) {
	opts := compute.SafeCastOptions(to)
	opts.AllowTimeTruncate = true
	opts.AllowFloatTruncate = true
	out, err := compute.CastArray(computeCtx(mem), in, opts)
	if err != nil {
		return nil, qerr.Wrap(qerr.InvalidArgument, err, "Out of range value for %s", to)
	}
	return out, nil
}

// castCompute converts between two distinct compute types.
func castCompute(mem memory.Allocator, in arrow.Array, to arrow.DataType) (arrow.Array, error) {
	n := in.Len()
	switch to.ID() {
	case arrow.STRING:
		return castToString(mem, in)
	case arrow.BINARY:
		if s, ok := in.(*array.String); ok {
			return reinterpretBytes(s.Data(), tBinary), nil
		}
		str, err := castToString(mem, in)
		if err != nil {
			return nil, err
		}
		defer str.Release()
		return reinterpretBytes(str.Data(), tBinary), nil
	}
	switch a := in.(type) {
	case *array.Boolean:
		vals := make([]int64, n)
		for i := range vals {
			if a.Value(i) {
				vals[i] = 1
			}
		}
		return castFromInt64(mem, in, vals, to)
	case *array.Int64:
		return castFromInt64(mem, in, a.Int64Values(), to)
	case *array.Uint64:
		return castFromUint64(mem, a, to)
	case *array.Float64:
		return castFromFloat64(mem, a, to)
	case *array.Decimal128:
		return castFromDecimal(mem, a, to)
	case *array.String:
		return castFromString(mem, n, a.Value, in, to)
	case *array.Binary:
		return castFromString(mem, n, a.ValueString, in, to)
	case *array.Date32:
		return castFromDate(mem, a, to)
	case *array.Timestamp:
		return castFromTS(mem, a, to)
	case *array.Time64:
		return castFromTime(mem, a, to)
	}
	return nil, qerr.New(qerr.InvalidArgument, "cannot cast %s to %s", in.DataType(), to)
}

// reinterpretBytes shares a string/binary array's buffers under another type.
func reinterpretBytes(d arrow.ArrayData, t arrow.DataType) arrow.Array {
	nd := array.NewData(t, d.Len(), d.Buffers(), nil, d.NullN(), d.Offset())
	defer nd.Release()
	return array.MakeFromData(nd)
}

// mapValues builds a fixed-width array of type t from f over n rows; rows
// where in is NULL or f reports !ok are NULL.
func mapValues[O fixedWidth](mem memory.Allocator, in arrow.Array, t arrow.DataType, f func(i int) (O, bool)) arrow.Array {
	n := in.Len()
	vbuf, vbits := validityCopy(mem, n, in)
	dbuf, out := newValues[O](mem, n)
	for i := 0; i < n; i++ {
		if !valid(vbits, i) {
			continue
		}
		v, ok := f(i)
		if !ok {
			vbits[i>>3] &^= 1 << (i & 7)
			continue
		}
		out[i] = v
	}
	return makeArray(t, n, vbuf, dbuf)
}

// mapBools builds a boolean array from f.
func mapBools(mem memory.Allocator, in arrow.Array, f func(i int) bool) arrow.Array {
	n := in.Len()
	vbuf := mergeValidity(mem, n, in)
	dbuf, bits := newBitmap(mem, n)
	for i := 0; i < n; i++ {
		if f(i) {
			bits[i>>3] |= 1 << (i & 7)
		}
	}
	return makeArray(tBool, n, vbuf, dbuf)
}

func castFromInt64(mem memory.Allocator, in arrow.Array, vals []int64, to arrow.DataType) (arrow.Array, error) {
	switch to.ID() {
	case arrow.BOOL:
		return mapBools(mem, in, func(i int) bool { return vals[i] != 0 }), nil
	case arrow.INT64:
		return mapValues(mem, in, to, func(i int) (int64, bool) { return vals[i], true }), nil
	case arrow.UINT64:
		return mapValues(mem, in, to, func(i int) (uint64, bool) { return uint64(vals[i]), true }), nil
	case arrow.FLOAT64:
		return mapValues(mem, in, to, func(i int) (float64, bool) { return float64(vals[i]), true }), nil
	case arrow.DECIMAL128:
		d := to.(*arrow.Decimal128Type)
		return mapValues(mem, in, to, func(i int) (decimal128.Num, bool) {
			return decSaturate(decRescale(decimal128.FromI64(vals[i]), 0, d.Scale))(d, vals[i] < 0), true
		}), nil
	case arrow.DATE32:
		return mapValues(mem, in, to, func(i int) (int32, bool) {
			p, ok := dateFromNumber(vals[i])
			return int32(p.days()), ok
		}), nil
	case arrow.TIMESTAMP:
		return mapValues(mem, in, to, func(i int) (int64, bool) {
			p, ok := dateFromNumber(vals[i])
			return p.ts(), ok
		}), nil
	case arrow.TIME64:
		return mapValues(mem, in, to, func(i int) (int64, bool) { return timeFromNumber(vals[i]) }), nil
	}
	return nil, qerr.New(qerr.InvalidArgument, "cannot cast %s to %s", in.DataType(), to)
}

// decSaturate clamps an out-of-range decimal to the type's extreme (MySQL
// CAST in non-strict mode).
func decSaturate(n decimal128.Num, ok bool) func(d *arrow.Decimal128Type, neg bool) decimal128.Num {
	return func(d *arrow.Decimal128Type, neg bool) decimal128.Num {
		if ok && n.FitsInPrecision(d.Precision) {
			return n
		}
		m := decMaxFor(d.Precision)
		if neg {
			return m.Negate()
		}
		return m
	}
}

func castFromUint64(mem memory.Allocator, a *array.Uint64, to arrow.DataType) (arrow.Array, error) {
	vals := a.Uint64Values()
	switch to.ID() {
	case arrow.FLOAT64:
		return mapValues(mem, a, to, func(i int) (float64, bool) { return float64(vals[i]), true }), nil
	case arrow.DECIMAL128:
		d := to.(*arrow.Decimal128Type)
		return mapValues(mem, a, to, func(i int) (decimal128.Num, bool) {
			return decSaturate(decRescale(decimal128.FromU64(vals[i]), 0, d.Scale))(d, false), true
		}), nil
	}
	ints := make([]int64, len(vals))
	for i, v := range vals {
		ints[i] = int64(v) // MySQL CAST(unsigned AS SIGNED) wraps
	}
	return castFromInt64(mem, a, ints, to)
}

// roundF64ToI64 rounds half away from zero and saturates (MySQL).
func roundF64ToI64(f float64) int64 {
	r := math.Round(f)
	switch {
	case r >= 9.223372036854775807e18:
		return math.MaxInt64
	case r <= -9.223372036854775808e18:
		return math.MinInt64
	}
	return int64(r)
}

func castFromFloat64(mem memory.Allocator, a *array.Float64, to arrow.DataType) (arrow.Array, error) {
	vals := a.Float64Values()
	switch to.ID() {
	case arrow.BOOL:
		return mapBools(mem, a, func(i int) bool { return vals[i] != 0 }), nil
	case arrow.UINT64:
		return mapValues(mem, a, to, func(i int) (uint64, bool) {
			r := math.Round(vals[i])
			switch {
			case r >= 1.8446744073709551615e19:
				return math.MaxUint64, true
			case r < 0:
				return uint64(roundF64ToI64(r)), true
			}
			return uint64(r), true
		}), nil
	case arrow.DECIMAL128:
		d := to.(*arrow.Decimal128Type)
		return mapValues(mem, a, to, func(i int) (decimal128.Num, bool) {
			if math.IsNaN(vals[i]) {
				return decimal128.Num{}, false
			}
			return decSaturate(decFromFloat(vals[i], d.Precision, d.Scale))(d, vals[i] < 0), true
		}), nil
	}
	ints := make([]int64, len(vals))
	for i, v := range vals {
		ints[i] = roundF64ToI64(v)
	}
	return castFromInt64(mem, a, ints, to)
}

func castFromDecimal(mem memory.Allocator, a *array.Decimal128, to arrow.DataType) (arrow.Array, error) {
	vals := a.Values()
	s := a.DataType().(*arrow.Decimal128Type).Scale
	switch to.ID() {
	case arrow.BOOL:
		return mapBools(mem, a, func(i int) bool { return vals[i].Sign() != 0 }), nil
	case arrow.FLOAT64:
		return mapValues(mem, a, to, func(i int) (float64, bool) { return decToFloat(vals[i], s), true }), nil
	case arrow.DECIMAL128:
		d := to.(*arrow.Decimal128Type)
		return mapValues(mem, a, to, func(i int) (decimal128.Num, bool) {
			return decSaturate(decRescale(vals[i], s, d.Scale))(d, vals[i].Sign() < 0), true
		}), nil
	case arrow.UINT64:
		return mapValues(mem, a, to, func(i int) (uint64, bool) {
			b := rescaleBig(vals[i].BigInt(), s, 0)
			switch {
			case b.IsUint64():
				return b.Uint64(), true
			case b.Sign() > 0:
				return math.MaxUint64, true
			case b.IsInt64():
				return uint64(b.Int64()), true
			}
			return 0, true
		}), nil
	}
	ints := make([]int64, len(vals))
	for i, v := range vals {
		r, ok := decToInt64(v, s)
		if !ok {
			r = math.MaxInt64
			if v.Sign() < 0 {
				r = math.MinInt64
			}
		}
		ints[i] = r
	}
	return castFromInt64(mem, a, ints, to)
}

func decToFloat(n decimal128.Num, s int32) float64 {
	if v, ok := decI64(n); ok && v > -1<<53 && v < 1<<53 {
		return float64(v) / math.Pow10(int(s))
	}
	return n.ToFloat64(s)
}

func castFromString(mem memory.Allocator, n int, val func(int) string, in arrow.Array, to arrow.DataType) (arrow.Array, error) {
	switch to.ID() {
	case arrow.BOOL:
		return mapBools(mem, in, func(i int) bool { return parseFloatPrefix(val(i)) != 0 }), nil
	case arrow.INT64:
		return mapValues(mem, in, to, func(i int) (int64, bool) { return parseIntPrefix(val(i)), true }), nil
	case arrow.UINT64:
		return mapValues(mem, in, to, func(i int) (uint64, bool) { return parseUintPrefix(val(i)), true }), nil
	case arrow.FLOAT64:
		return mapValues(mem, in, to, func(i int) (float64, bool) { return parseFloatPrefix(val(i)), true }), nil
	case arrow.DECIMAL128:
		d := to.(*arrow.Decimal128Type)
		return mapValues(mem, in, to, func(i int) (decimal128.Num, bool) {
			v, neg := parseDecimalPrefix(val(i), d.Scale)
			return decSaturate(v, true)(d, neg), true
		}), nil
	case arrow.DATE32:
		return mapValues(mem, in, to, func(i int) (int32, bool) {
			p, ok := parseDateTimeStr(val(i))
			return int32(p.days()), ok
		}), nil
	case arrow.TIMESTAMP:
		return mapValues(mem, in, to, func(i int) (int64, bool) {
			p, ok := parseDateTimeStr(val(i))
			return p.ts(), ok
		}), nil
	case arrow.TIME64:
		return mapValues(mem, in, to, func(i int) (int64, bool) { return parseTimeStr(val(i)) }), nil
	}
	return nil, qerr.New(qerr.InvalidArgument, "cannot cast %s to %s", in.DataType(), to)
}

// dateNumber is a date as the number MySQL uses in numeric context.
func dateNumber(days int64) int64 {
	y, m, d := civilFromDays(days)
	return y*10000 + m*100 + d
}

func tsNumber(ts int64) int64 {
	days, us := splitTS(ts)
	secs := us / usPerSec
	return dateNumber(days)*1000000 + secs/3600*10000 + secs/60%60*100 + secs%60
}

func timeNumber(us int64) int64 {
	neg := us < 0
	if neg {
		us = -us
	}
	secs := us / usPerSec
	return signed(secs/3600*10000+secs/60%60*100+secs%60, neg)
}

func castFromDate(mem memory.Allocator, a *array.Date32, to arrow.DataType) (arrow.Array, error) {
	vals := a.Date32Values()
	switch to.ID() {
	case arrow.TIMESTAMP:
		return mapValues(mem, a, to, func(i int) (int64, bool) { return int64(vals[i]) * usPerDay, true }), nil
	case arrow.TIME64:
		return mapValues(mem, a, to, func(i int) (int64, bool) { return 0, true }), nil
	}
	ints := make([]int64, len(vals))
	for i, v := range vals {
		ints[i] = dateNumber(int64(v))
	}
	return castFromInt64(mem, a, ints, to)
}

func castFromTS(mem memory.Allocator, a *array.Timestamp, to arrow.DataType) (arrow.Array, error) {
	vals := a.TimestampValues()
	switch to.ID() {
	case arrow.DATE32:
		return mapValues(mem, a, to, func(i int) (int32, bool) { return int32(floorDiv(int64(vals[i]), usPerDay)), true }), nil
	case arrow.TIME64:
		return mapValues(mem, a, to, func(i int) (int64, bool) {
			_, us := splitTS(int64(vals[i]))
			return us, true
		}), nil
	}
	ints := make([]int64, len(vals))
	for i, v := range vals {
		ints[i] = tsNumber(int64(v))
	}
	return castFromInt64(mem, a, ints, to)
}

func castFromTime(mem memory.Allocator, a *array.Time64, to arrow.DataType) (arrow.Array, error) {
	vals := a.Time64Values()
	ints := make([]int64, len(vals))
	for i, v := range vals {
		ints[i] = timeNumber(int64(v))
	}
	return castFromInt64(mem, a, ints, to)
}

// castToString formats values as MySQL prints them.
func castToString(mem memory.Allocator, in arrow.Array) (arrow.Array, error) {
	n := in.Len()
	b := stringBuilder(mem, n, n*8)
	defer b.Release()
	var buf []byte
	appendRows := func(f func(buf []byte, i int) []byte) {
		for i := 0; i < n; i++ {
			if in.IsNull(i) {
				b.AppendNull()
				continue
			}
			buf = f(buf[:0], i)
			b.BinaryBuilder.Append(buf)
		}
	}
	switch a := in.(type) {
	case *array.Boolean:
		appendRows(func(buf []byte, i int) []byte {
			if a.Value(i) {
				return append(buf, '1')
			}
			return append(buf, '0')
		})
	case *array.Int64:
		appendRows(func(buf []byte, i int) []byte { return strconv.AppendInt(buf, a.Value(i), 10) })
	case *array.Uint64:
		appendRows(func(buf []byte, i int) []byte { return strconv.AppendUint(buf, a.Value(i), 10) })
	case *array.Float64:
		appendRows(func(buf []byte, i int) []byte { return appendFloat(buf, a.Value(i)) })
	case *array.Decimal128:
		s := a.DataType().(*arrow.Decimal128Type).Scale
		appendRows(func(buf []byte, i int) []byte { return appendDecimal(buf, a.Value(i), s) })
	case *array.Binary:
		return reinterpretBytes(a.Data(), tString), nil
	case *array.Date32:
		appendRows(func(buf []byte, i int) []byte { return appendDate(buf, int64(a.Value(i))) })
	case *array.Timestamp:
		appendRows(func(buf []byte, i int) []byte { return appendTS(buf, int64(a.Value(i))) })
	case *array.Time64:
		appendRows(func(buf []byte, i int) []byte { return appendClock(buf, int64(a.Value(i))) })
	default:
		return nil, qerr.New(qerr.InvalidArgument, "cannot cast %s to %s", in.DataType(), tString)
	}
	return b.NewArray(), nil
}

// appendFloat prints a double like MySQL: shortest round-trip digits, plain
// notation for 1e-15 <= |f| < 1e15, else exponent without '+' ("1e20").
func appendFloat(b []byte, f float64) []byte {
	a := math.Abs(f)
	if f == 0 || (a >= 1e-15 && a < 1e15) {
		if f == 0 {
			return append(b, '0')
		}
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return strconv.AppendFloat(b, f, 'g', -1, 64)
	}
	st := len(b)
	b = strconv.AppendFloat(b, f, 'e', -1, 64)
	// "1e+20" → "1e20", "1.5e-07" → "1.5e-07" stays signed, drop leading zeros.
	out := b[:st]
	for i := st; i < len(b); i++ {
		c := b[i]
		if c == 'e' {
			out = append(out, 'e')
			i++
			if b[i] == '-' {
				out = append(out, '-')
			}
			i++
			for i < len(b)-1 && b[i] == '0' {
				i++
			}
			out = append(out, b[i:]...)
			break
		}
		out = append(out, c)
	}
	return out
}

// numPrefix returns the longest prefix of s (after leading spaces) that
// reads as a number: [sign]digits[.digits][e[sign]digits] when float.
func numPrefix(s string, float bool) string {
	i := 0
	for i < len(s) && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r') {
		i++
	}
	st := i
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	ds := i
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	digits := i - ds
	if !float {
		if digits == 0 {
			return ""
		}
		return s[st:i]
	}
	if i < len(s) && s[i] == '.' {
		j := i + 1
		for j < len(s) && isDigit(s[j]) {
			j++
		}
		digits += j - i - 1
		i = j
	}
	if digits == 0 {
		return ""
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			j++
		}
		if j < len(s) && isDigit(s[j]) {
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			i = j
		}
	}
	return s[st:i]
}

func parseIntPrefix(s string) int64 {
	p := numPrefix(s, false)
	if p == "" {
		return 0
	}
	v, err := strconv.ParseInt(p, 10, 64)
	if err != nil { // out of range: saturate
		if p[0] == '-' {
			return math.MinInt64
		}
		return math.MaxInt64
	}
	return v
}

func parseUintPrefix(s string) uint64 {
	p := numPrefix(s, false)
	if p == "" {
		return 0
	}
	if p[0] == '-' {
		return uint64(parseIntPrefix(s))
	}
	if p[0] == '+' {
		p = p[1:]
	}
	v, err := strconv.ParseUint(p, 10, 64)
	if err != nil {
		return math.MaxUint64
	}
	return v
}

func parseFloatPrefix(s string) float64 {
	p := numPrefix(s, true)
	if p == "" {
		return 0
	}
	v, _ := strconv.ParseFloat(p, 64)
	// MySQL clamps an overflowing string to ±DBL_MAX, never infinity.
	return max(-math.MaxFloat64, min(v, math.MaxFloat64))
}

// parseDecimalPrefix reads the numeric prefix of s at scale sc (rounding)
// and reports whether it is negative; values beyond 38 digits come back as
// 10^38 so that decSaturate clamps them.
func parseDecimalPrefix(s string, sc int32) (decimal128.Num, bool) {
	p := numPrefix(s, true)
	if p == "" {
		return decimal128.Num{}, false
	}
	neg := p[0] == '-'
	if p[0] == '-' || p[0] == '+' {
		p = p[1:]
	}
	exp := int64(0)
	if e := indexAny(p, "eE"); e >= 0 {
		exp, _ = strconv.ParseInt(p[e+1:], 10, 64)
		p = p[:e]
	}
	frac := 0
	digits := make([]byte, 0, len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '.' {
			frac = len(p) - i - 1
			continue
		}
		digits = append(digits, p[i])
	}
	scale := int64(frac) - exp // value = digits * 10^-scale
	bi, _ := new(big.Int).SetString(string(digits), 10)
	if bi == nil {
		return decimal128.Num{}, neg
	}
	if neg {
		bi.Neg(bi)
	}
	if scale > 200 || scale < -200 {
		if scale > 0 {
			return decimal128.Num{}, neg
		}
		return decimal128.GetMaxValue(38).Add(decimal128.FromI64(1)), neg
	}
	r := rescaleBigAny(bi, scale, int64(sc))
	n, ok := decFromBig(r)
	if !ok {
		return decimal128.GetMaxValue(38).Add(decimal128.FromI64(1)), neg
	}
	return n, neg
}

func rescaleBigAny(b *big.Int, from, to int64) *big.Int {
	switch {
	case to > from:
		return new(big.Int).Mul(b, bigPow10(int32(to-from)))
	case to < from:
		return roundDivBig(b, bigPow10(int32(from-to)))
	}
	return b
}

func indexAny(s, chars string) int {
	for i := 0; i < len(s); i++ {
		for j := 0; j < len(chars); j++ {
			if s[i] == chars[j] {
				return i
			}
		}
	}
	return -1
}
