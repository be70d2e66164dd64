package execution

import (
	"encoding/binary"
	"math"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/zeebo/xxh3"
)

// NullHash is the hash of a NULL value (all NULLs hash equal, so NULL keys
// land in one group / one partition).
const NullHash uint64 = 0x5bd1e9955bd1e995

const (
	prime1 = 0x9E3779B97F4A7C15
	prime2 = 0xC2B2AE3D27D4EB4F
)

// HashInt hashes a 64-bit integer (multiply, then byte-reverse so the well
// mixed high bits land in the low bits that tables index with).
func HashInt(x uint64) uint64 { return bits.ReverseBytes64((x ^ prime2) * prime1) }

// HashBytes hashes a string/binary value: ≤16 bytes from two words, longer
// through xxh3.
func HashBytes(b []byte) uint64 {
	n := len(b)
	switch {
	case n > 16:
		return xxh3.Hash(b)
	case n >= 8:
		w1 := binary.LittleEndian.Uint64(b)
		w2 := binary.LittleEndian.Uint64(b[n-8:])
		return HashInt(w1^bits.RotateLeft64(w2, 29)^uint64(n)*prime2) ^ HashInt(w2)
	default:
		var w uint64
		for i := n - 1; i >= 0; i-- {
			w = w<<8 | uint64(b[i])
		}
		return HashInt(w ^ uint64(n)<<56 ^ 0x27d4eb2f165667c5)
	}
}

func combine(acc, h uint64) uint64 { return bits.RotateLeft64(acc, 23)*prime2 ^ h }

// HashColumns combines the hashes of the rows of cols into out (len = rows),
// starting from seed. Values are normalized so equal SQL values hash equal
// across widths: every integer (and date/time) as int64, floats as float64
// with -0 = 0 and one NaN, decimals that fit 64 bits like int64 of their
// unscaled value, dictionaries by value; NULL hashes to NullHash.
func HashColumns(cols []arrow.Array, seed uint64, out []uint64) {
	if len(cols) == 0 {
		for i := range out {
			out[i] = seed
		}
		return
	}
	// The first column hashes in place (no scratch for single-column keys).
	HashArray(cols[0], out)
	for i, h := range out {
		out[i] = combine(seed, h)
	}
	var tmp []uint64
	for _, c := range cols[1:] {
		if cap(tmp) < len(out) {
			tmp = make([]uint64, len(out))
		}
		tmp = tmp[:len(out)]
		HashArray(c, tmp)
		for i, h := range tmp {
			out[i] = combine(out[i], h)
		}
	}
}

// HashArray writes the hash of every value of a into out.
func HashArray(a arrow.Array, out []uint64) {
	switch c := a.(type) {
	case *array.Int64:
		hashInts(c.Int64Values(), out)
	case *array.Int32:
		hashInts(c.Int32Values(), out)
	case *array.Int16:
		hashInts(c.Int16Values(), out)
	case *array.Int8:
		hashInts(c.Int8Values(), out)
	case *array.Uint64:
		hashInts(c.Uint64Values(), out)
	case *array.Uint32:
		hashInts(c.Uint32Values(), out)
	case *array.Uint16:
		hashInts(c.Uint16Values(), out)
	case *array.Uint8:
		hashInts(c.Uint8Values(), out)
	case *array.Date32:
		hashInts(arrow.Int32Traits.CastFromBytes(dataBytes(c, 4)), out)
	case *array.Date64:
		hashInts(arrow.Int64Traits.CastFromBytes(dataBytes(c, 8)), out)
	case *array.Timestamp:
		hashInts(arrow.Int64Traits.CastFromBytes(dataBytes(c, 8)), out)
	case *array.Time32:
		hashInts(arrow.Int32Traits.CastFromBytes(dataBytes(c, 4)), out)
	case *array.Time64:
		hashInts(arrow.Int64Traits.CastFromBytes(dataBytes(c, 8)), out)
	case *array.Duration:
		hashInts(arrow.Int64Traits.CastFromBytes(dataBytes(c, 8)), out)
	case *array.Decimal32:
		hashInts(arrow.Int32Traits.CastFromBytes(dataBytes(c, 4)), out)
	case *array.Decimal64:
		hashInts(arrow.Int64Traits.CastFromBytes(dataBytes(c, 8)), out)
	case *array.Float64:
		for i, v := range c.Float64Values() {
			out[i] = HashInt(FloatBits(v))
		}
	case *array.Float32:
		for i, v := range c.Float32Values() {
			out[i] = HashInt(FloatBits(float64(v)))
		}
	case *array.Boolean:
		for i := range out {
			if c.Value(i) {
				out[i] = HashInt(1)
			} else {
				out[i] = HashInt(0)
			}
		}
	case *array.Decimal128:
		for i := range out {
			v := c.Value(i)
			out[i] = hashDec128(v.LowBits(), v.HighBits())
		}
	case *array.String:
		for i := range out {
			out[i] = HashBytes(unsafeBytes(c.Value(i)))
		}
	case *array.LargeString:
		for i := range out {
			out[i] = HashBytes(unsafeBytes(c.Value(i)))
		}
	case *array.Binary:
		for i := range out {
			out[i] = HashBytes(c.Value(i))
		}
	case *array.LargeBinary:
		for i := range out {
			out[i] = HashBytes(c.Value(i))
		}
	case *array.Dictionary:
		dict := c.Dictionary()
		dh := make([]uint64, dict.Len())
		HashArray(dict, dh)
		for i := range out {
			if c.IsNull(i) {
				continue
			}
			out[i] = dh[c.GetValueIndex(i)]
		}
	default:
		// Fall back to the value's string form (rare types: lists, structs).
		for i := range out {
			out[i] = HashBytes([]byte(a.ValueStr(i)))
		}
	}
	if a.NullN() > 0 {
		for i := range out {
			if a.IsNull(i) {
				out[i] = NullHash
			}
		}
	}
}

// hashDec128 hashes a 128-bit decimal so that values fitting in int64 hash
// like HashInt of the int64.
func hashDec128(lo uint64, hi int64) uint64 {
	if (hi == 0 && int64(lo) >= 0) || (hi == -1 && int64(lo) < 0) {
		return HashInt(lo)
	}
	return HashInt(lo) ^ bits.RotateLeft64(HashInt(uint64(hi)), 31)
}

type integer interface {
	~int8 | ~int16 | ~int32 | ~int64 | ~uint8 | ~uint16 | ~uint32 | ~uint64
}

func hashInts[T integer](vals []T, out []uint64) {
	for i, v := range vals[:len(out)] {
		out[i] = HashInt(uint64(int64(v)))
	}
}

// FloatBits normalizes a float for hashing and key comparison: -0 → 0 and
// every NaN to one pattern.
func FloatBits(v float64) uint64 {
	if v == 0 {
		return 0
	}
	if v != v {
		return 0x7ff8000000000001
	}
	return math.Float64bits(v)
}

// dataBytes returns the value bytes of a fixed-width array, from its offset.
func dataBytes(a arrow.Array, width int) []byte {
	d := a.Data()
	buf := d.Buffers()[1]
	if buf == nil {
		return nil
	}
	b := buf.Bytes()
	return b[d.Offset()*width : (d.Offset()+d.Len())*width]
}
