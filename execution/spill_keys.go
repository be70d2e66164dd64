package execution

import (
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// EncodeSortKeys encodes the rows of the sort key columns into byte
// strings whose bytes.Compare order is the order of NewComparator over the
// same columns (direction and NULL placement included), so a merge of
// sorted runs compares rows of different batches with one bytes.Compare.
// Per column: a NULL marker byte (before or after every value), then the
// value: integers big-endian with the sign bit flipped, floats in their
// total-order bit form (NaN first, -0 = +0, as cmp.Compare), strings and
// binaries with 0x00 escaped as 0x00 0xFF and terminated by 0x00 0x00;
// DESC inverts the column's bytes.
func EncodeSortKeys(mem memory.Allocator, cols []arrow.Array, desc, nullsFirst []bool) *array.Binary {
	n := 0
	if len(cols) > 0 {
		n = cols[0].Len()
	}
	keys := make([][]byte, n)
	for c, col := range cols {
		nullByte, valByte := byte(2), byte(1)
		if nullsFirst[c] {
			nullByte, valByte = 0, 1
		}
		enc := sortValueEncoder(col)
		for i := range keys {
			k := keys[i]
			if col.IsNull(i) {
				keys[i] = append(k, nullByte)
				continue
			}
			k = append(k, valByte)
			start := len(k)
			k = enc(k, i)
			if desc[c] {
				for j := start; j < len(k); j++ {
					k[j] = ^k[j]
				}
			}
			keys[i] = k
		}
	}
	b := array.NewBinaryBuilder(mem, arrow.BinaryTypes.Binary)
	defer b.Release()
	b.AppendValues(keys, nil)
	return b.NewBinaryArray()
}

type sortEncoder func(dst []byte, i int) []byte

func sortValueEncoder(a arrow.Array) sortEncoder {
	signed := func(v func(int) int64) sortEncoder {
		return func(dst []byte, i int) []byte {
			return binary.BigEndian.AppendUint64(dst, uint64(v(i))^(1<<63))
		}
	}
	unsigned := func(v func(int) uint64) sortEncoder {
		return func(dst []byte, i int) []byte { return binary.BigEndian.AppendUint64(dst, v(i)) }
	}
	str := func(v func(int) []byte) sortEncoder {
		return func(dst []byte, i int) []byte { return appendEscaped(dst, v(i)) }
	}
	switch c := a.(type) {
	case *array.Int64:
		return signed(func(i int) int64 { return c.Value(i) })
	case *array.Int32:
		return signed(func(i int) int64 { return int64(c.Value(i)) })
	case *array.Int16:
		return signed(func(i int) int64 { return int64(c.Value(i)) })
	case *array.Int8:
		return signed(func(i int) int64 { return int64(c.Value(i)) })
	case *array.Uint64:
		return unsigned(func(i int) uint64 { return c.Value(i) })
	case *array.Uint32:
		return unsigned(func(i int) uint64 { return uint64(c.Value(i)) })
	case *array.Uint16:
		return unsigned(func(i int) uint64 { return uint64(c.Value(i)) })
	case *array.Uint8:
		return unsigned(func(i int) uint64 { return uint64(c.Value(i)) })
	case *array.Float64:
		return unsigned(func(i int) uint64 { return floatBits(c.Value(i)) })
	case *array.Float32:
		return unsigned(func(i int) uint64 { return floatBits(float64(c.Value(i))) })
	case *array.Date32, *array.Time32, *array.Decimal32:
		v := arrow.Int32Traits.CastFromBytes(dataBytes(a, 4))
		return signed(func(i int) int64 { return int64(v[i]) })
	case *array.Date64, *array.Timestamp, *array.Time64, *array.Duration, *array.Decimal64:
		v := arrow.Int64Traits.CastFromBytes(dataBytes(a, 8))
		return signed(func(i int) int64 { return v[i] })
	case *array.Decimal128:
		return func(dst []byte, i int) []byte {
			v := c.Value(i)
			dst = binary.BigEndian.AppendUint64(dst, uint64(v.HighBits())^(1<<63))
			return binary.BigEndian.AppendUint64(dst, v.LowBits())
		}
	case *array.Boolean:
		return func(dst []byte, i int) []byte {
			if c.Value(i) {
				return append(dst, 1)
			}
			return append(dst, 0)
		}
	case *array.String:
		return str(func(i int) []byte { return []byte(c.Value(i)) })
	case *array.LargeString:
		return str(func(i int) []byte { return []byte(c.Value(i)) })
	case *array.Binary:
		return str(c.Value)
	case *array.LargeBinary:
		return str(c.Value)
	case *array.Dictionary:
		inner := sortValueEncoder(c.Dictionary())
		return func(dst []byte, i int) []byte { return inner(dst, c.GetValueIndex(i)) }
	}
	// As valueComparator: other types order by their string form.
	return str(func(i int) []byte { return []byte(a.ValueStr(i)) })
}

// floatBits maps a float to an unsigned integer of the same order as
// cmp.Compare: NaN below everything, -0 equal to +0.
func floatBits(f float64) uint64 {
	if math.IsNaN(f) {
		return 0
	}
	if f == 0 {
		f = 0 // -0 → +0
	}
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

// appendEscaped appends v so that a shorter value orders before every
// longer value it prefixes: 0x00 → 0x00 0xFF, then the terminator 0x00 0x00.
func appendEscaped(dst, v []byte) []byte {
	for _, c := range v {
		dst = append(dst, c)
		if c == 0 {
			dst = append(dst, 0xFF)
		}
	}
	return append(dst, 0, 0)
}
