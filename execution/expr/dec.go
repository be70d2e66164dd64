package expr

import (
	"math"
	"math/big"
	"math/bits"
	"strconv"

	"github.com/apache/arrow-go/v18/arrow/decimal128"
)

// Decimal helpers. The fast path works on the unscaled value as int64; the
// slow path uses math/big and is taken only when values or intermediate
// results do not fit 64 bits.

var pow10 = func() (p [19]int64) {
	p[0] = 1
	for i := 1; i < len(p); i++ {
		p[i] = p[i-1] * 10
	}
	return p
}()

var maxDec38 = new(big.Int).Exp(big.NewInt(10), big.NewInt(38), nil)

// decI64 returns n as int64 when it fits.
func decI64(n decimal128.Num) (int64, bool) {
	lo := int64(n.LowBits())
	return lo, n.HighBits() == lo>>63
}

// decFromBig converts b, failing when it exceeds 38 digits.
func decFromBig(b *big.Int) (decimal128.Num, bool) {
	if new(big.Int).Abs(b).Cmp(maxDec38) >= 0 {
		return decimal128.Num{}, false
	}
	return decimal128.FromBigInt(b), true
}

func bigPow10(k int32) *big.Int {
	return new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(k)), nil)
}

// roundDivBig returns a/d rounded half away from zero.
func roundDivBig(a, d *big.Int) *big.Int {
	q, r := new(big.Int).QuoRem(a, d, new(big.Int))
	r.Abs(r).Lsh(r, 1)
	if r.Cmp(new(big.Int).Abs(d)) >= 0 {
		if (a.Sign() < 0) != (d.Sign() < 0) {
			q.Sub(q, big.NewInt(1))
		} else {
			q.Add(q, big.NewInt(1))
		}
	}
	return q
}

// rescaleBig changes b's scale (rounding half away from zero when reducing).
func rescaleBig(b *big.Int, from, to int32) *big.Int {
	switch {
	case to > from:
		return new(big.Int).Mul(b, bigPow10(to-from))
	case to < from:
		return roundDivBig(b, bigPow10(from-to))
	}
	return b
}

// mulI64 multiplies, reporting overflow.
func mulI64(a, b int64) (int64, bool) {
	if a == 0 || b == 0 {
		return 0, true
	}
	neg := (a < 0) != (b < 0)
	hi, lo := bits.Mul64(absU(a), absU(b))
	if hi != 0 || lo > math.MaxInt64 {
		return 0, false
	}
	if neg {
		return -int64(lo), true
	}
	return int64(lo), true
}

func absU(a int64) uint64 {
	if a < 0 {
		return uint64(-a)
	}
	return uint64(a)
}

// roundDivI64 returns a/d rounded half away from zero (d > 0).
func roundDivI64(a, d int64) int64 {
	q, r := a/d, a%d
	if r < 0 {
		r = -r
	}
	if r >= d-r {
		if a < 0 {
			q--
		} else {
			q++
		}
	}
	return q
}

// decRescale changes n's scale with rounding; ok=false when the result does
// not fit 38 digits.
func decRescale(n decimal128.Num, from, to int32) (decimal128.Num, bool) {
	if from == to {
		return n, true
	}
	if v, ok := decI64(n); ok {
		if to > from && to-from <= 18 {
			if r, ok := mulI64(v, pow10[to-from]); ok {
				return decimal128.FromI64(r), true
			}
		} else if to < from && from-to <= 18 {
			return decimal128.FromI64(roundDivI64(v, pow10[from-to])), true
		}
	}
	return decFromBig(rescaleBig(n.BigInt(), from, to))
}

// decMaxFor is the largest unscaled value of precision p.
func decMaxFor(p int32) decimal128.Num {
	return decimal128.GetMaxValue(p)
}

// decFromFloat rounds f to scale s; ok=false on overflow of precision p or NaN.
// Like MySQL it converts f's shortest decimal form (0.1e0 is 0.1, not
// 0.1000000000000000055…), so a rounding tie in that form rounds away from
// zero (1.005e0 to scale 2 is 1.01).
func decFromFloat(f float64, p, s int32) (decimal128.Num, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return decimal128.Num{}, false
	}
	scaled := f * math.Pow10(int(s))
	if a := math.Abs(scaled); a < 9e15 && math.Abs(a-math.Floor(a)-0.5) > 1e-6 {
		v := int64(math.Round(scaled))
		n := decimal128.FromI64(v)
		return n, n.FitsInPrecision(p)
	}
	r, _ := new(big.Rat).SetString(strconv.FormatFloat(f, 'g', -1, 64))
	r.Mul(r, new(big.Rat).SetInt(bigPow10(s)))
	q, m := new(big.Int).QuoRem(r.Num(), r.Denom(), new(big.Int))
	if m.Abs(m).Lsh(m, 1).Cmp(r.Denom()) >= 0 {
		q.Add(q, big.NewInt(int64(r.Sign())))
	}
	n, ok := decFromBig(q)
	return n, ok && n.FitsInPrecision(p)
}

// decToInt64 rounds n (scale s) half away from zero to an integer; ok=false
// when it does not fit int64.
func decToInt64(n decimal128.Num, s int32) (int64, bool) {
	if v, ok := decI64(n); ok && s <= 18 {
		if s == 0 {
			return v, true
		}
		return roundDivI64(v, pow10[s]), true
	}
	b := rescaleBig(n.BigInt(), s, 0)
	if !b.IsInt64() {
		return 0, false
	}
	return b.Int64(), true
}

// appendDecimal writes n with exactly s fraction digits.
func appendDecimal(b []byte, n decimal128.Num, s int32) []byte {
	if v, ok := decI64(n); ok {
		neg := v < 0
		u := absU(v)
		var tmp [24]byte
		digits := appendUint(tmp[:0], u)
		if neg {
			b = append(b, '-')
		}
		if int(s) >= len(digits) {
			b = append(b, '0')
			if s > 0 {
				b = append(b, '.')
				for i := len(digits); i < int(s); i++ {
					b = append(b, '0')
				}
				b = append(b, digits...)
			}
			return b
		}
		cut := len(digits) - int(s)
		b = append(b, digits[:cut]...)
		if s > 0 {
			b = append(b, '.')
			b = append(b, digits[cut:]...)
		}
		return b
	}
	return append(b, n.ToString(s)...)
}

func appendUint(b []byte, u uint64) []byte {
	var tmp [20]byte
	i := len(tmp)
	for {
		i--
		tmp[i] = byte('0' + u%10)
		u /= 10
		if u == 0 {
			break
		}
	}
	return append(b, tmp[i:]...)
}
