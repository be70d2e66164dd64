package execution

import (
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// EncodeKeys serializes the rows of cols column at a time into one byte
// slab: row i's key is buf[offs[i]:offs[i+1]]. Equal SQL values encode to
// equal bytes under the same normalization as HashColumns (integers as int64,
// floats normalized, dictionaries by value, NULL as a lone marker byte), so
// hash tables compare keys by bytes. buf and offs are reused when large enough.
func EncodeKeys(cols []arrow.Array, n int, buf []byte, offs []int) ([]byte, []int) {
	if cap(offs) < n+1 {
		offs = make([]int, n+1)
	}
	offs = offs[:n+1]
	sizes := offs[1:]
	for i := range sizes {
		sizes[i] = 0
	}
	for _, c := range cols {
		addKeySizes(c, sizes)
	}
	offs[0] = 0
	for i := 1; i <= n; i++ {
		offs[i] += offs[i-1]
	}
	total := offs[n]
	if cap(buf) < total {
		buf = make([]byte, total, total+total/4)
	}
	buf = buf[:total]
	// offs[i] serves as row i's write position: after the last column it
	// is the row's end, that is offs[i+1] once shifted up by one.
	pos := offs[:n]
	for _, c := range cols {
		writeKeys(c, buf, pos)
	}
	copy(offs[1:], offs[:n])
	offs[0] = 0
	return buf, offs
}

func fixedKeyWidth(a arrow.Array) int {
	switch a.DataType().ID() {
	case arrow.BOOL:
		return 1
	case arrow.DECIMAL128:
		return 16
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY, arrow.DICTIONARY:
		return -1
	}
	switch a.(type) {
	case *array.Int8, *array.Int16, *array.Int32, *array.Int64, *array.Uint8, *array.Uint16,
		*array.Uint32, *array.Uint64, *array.Float32, *array.Float64, *array.Date32, *array.Date64,
		*array.Timestamp, *array.Time32, *array.Time64, *array.Duration, *array.Decimal32, *array.Decimal64:
		return 8
	}
	return -1
}

func addKeySizes(a arrow.Array, sizes []int) {
	nulls := a.NullN() > 0
	if w := fixedKeyWidth(a); w >= 0 {
		for i := range sizes {
			if nulls && a.IsNull(i) {
				sizes[i]++
			} else {
				sizes[i] += 1 + w
			}
		}
		return
	}
	// Strings and binaries: lengths straight from the offsets.
	switch c := a.(type) {
	case *array.String:
		addVarSizes(c.ValueOffsets(), a, nulls, sizes)
		return
	case *array.Binary:
		addVarSizes(c.ValueOffsets(), a, nulls, sizes)
		return
	case *array.LargeString:
		addVarSizes(c.ValueOffsets(), a, nulls, sizes)
		return
	case *array.LargeBinary:
		addVarSizes(c.ValueOffsets(), a, nulls, sizes)
		return
	}
	for i := range sizes {
		if a.IsNull(i) {
			sizes[i]++
		} else {
			sizes[i] += 1 + 4 + len(varKey(a, i))
		}
	}
}

func addVarSizes[O int32 | int64](offs []O, a arrow.Array, nulls bool, sizes []int) {
	for i := range sizes {
		if nulls && a.IsNull(i) {
			sizes[i]++
		} else {
			sizes[i] += 1 + 4 + int(offs[i+1]-offs[i])
		}
	}
}

// writeVarKeys writes length-prefixed values (the default case of writeKeys
// without a type switch per row).
func writeVarKeys[O int32 | int64](offs []O, data []byte, a arrow.Array, nulls bool, buf []byte, pos []int) {
	base := offs[0]
	for i := range pos {
		p := pos[i]
		if nulls && a.IsNull(i) {
			buf[p] = 0
			pos[i]++
			continue
		}
		v := data[offs[i]-base : offs[i+1]-base]
		buf[p] = 1
		binary.LittleEndian.PutUint32(buf[p+1:], uint32(len(v)))
		copy(buf[p+5:], v)
		pos[i] = p + 5 + len(v)
	}
}

// varKey returns the bytes of a variable-width (or fallback) value.
func varKey(a arrow.Array, i int) []byte {
	switch c := a.(type) {
	case *array.String:
		return unsafeBytes(c.Value(i))
	case *array.LargeString:
		return unsafeBytes(c.Value(i))
	case *array.Binary:
		return c.Value(i)
	case *array.LargeBinary:
		return c.Value(i)
	case *array.Dictionary:
		d := c.Dictionary()
		j := c.GetValueIndex(i)
		if w := fixedKeyWidth(d); w >= 0 {
			var tmp [17]byte
			pos := []int{0}
			one := array.NewSlice(d, int64(j), int64(j+1))
			writeKeys(one, tmp[:], pos)
			one.Release()
			return append([]byte(nil), tmp[1:pos[0]]...)
		}
		return varKey(d, j)
	}
	return []byte(a.ValueStr(i))
}

func writeKeys(a arrow.Array, buf []byte, pos []int) {
	nulls := a.NullN() > 0
	putInt := func(i int, v uint64) {
		p := pos[i]
		buf[p] = 1
		binary.LittleEndian.PutUint64(buf[p+1:], v)
		pos[i] = p + 9
	}
	switch c := a.(type) {
	case *array.Int64:
		writeInts(c.Int64Values(), a, nulls, buf, pos)
	case *array.Int32:
		writeInts(c.Int32Values(), a, nulls, buf, pos)
	case *array.Int16:
		writeInts(c.Int16Values(), a, nulls, buf, pos)
	case *array.Int8:
		writeInts(c.Int8Values(), a, nulls, buf, pos)
	case *array.Uint64:
		writeInts(c.Uint64Values(), a, nulls, buf, pos)
	case *array.Uint32:
		writeInts(c.Uint32Values(), a, nulls, buf, pos)
	case *array.Uint16:
		writeInts(c.Uint16Values(), a, nulls, buf, pos)
	case *array.Uint8:
		writeInts(c.Uint8Values(), a, nulls, buf, pos)
	case *array.Date32, *array.Time32, *array.Decimal32:
		writeInts(arrow.Int32Traits.CastFromBytes(dataBytes(a, 4)), a, nulls, buf, pos)
	case *array.Date64, *array.Timestamp, *array.Time64, *array.Duration, *array.Decimal64:
		writeInts(arrow.Int64Traits.CastFromBytes(dataBytes(a, 8)), a, nulls, buf, pos)
	case *array.Float64:
		for i, v := range c.Float64Values() {
			if nulls && c.IsNull(i) {
				buf[pos[i]] = 0
				pos[i]++
				continue
			}
			putInt(i, FloatBits(v))
		}
	case *array.Float32:
		for i, v := range c.Float32Values() {
			if nulls && c.IsNull(i) {
				buf[pos[i]] = 0
				pos[i]++
				continue
			}
			putInt(i, FloatBits(float64(v)))
		}
	case *array.Boolean:
		for i := range pos {
			p := pos[i]
			if nulls && c.IsNull(i) {
				buf[p] = 0
				pos[i]++
				continue
			}
			buf[p] = 1
			buf[p+1] = 0
			if c.Value(i) {
				buf[p+1] = 1
			}
			pos[i] = p + 2
		}
	case *array.String:
		writeVarKeys(c.ValueOffsets(), c.ValueBytes(), a, nulls, buf, pos)
	case *array.Binary:
		writeVarKeys(c.ValueOffsets(), c.ValueBytes(), a, nulls, buf, pos)
	case *array.LargeString:
		writeVarKeys(c.ValueOffsets(), c.ValueBytes(), a, nulls, buf, pos)
	case *array.LargeBinary:
		writeVarKeys(c.ValueOffsets(), c.ValueBytes(), a, nulls, buf, pos)
	case *array.Decimal128:
		for i := range pos {
			p := pos[i]
			if nulls && c.IsNull(i) {
				buf[p] = 0
				pos[i]++
				continue
			}
			v := c.Value(i)
			buf[p] = 1
			binary.LittleEndian.PutUint64(buf[p+1:], v.LowBits())
			binary.LittleEndian.PutUint64(buf[p+9:], uint64(v.HighBits()))
			pos[i] = p + 17
		}
	default:
		for i := range pos {
			p := pos[i]
			if a.IsNull(i) {
				buf[p] = 0
				pos[i]++
				continue
			}
			v := varKey(a, i)
			buf[p] = 1
			binary.LittleEndian.PutUint32(buf[p+1:], uint32(len(v)))
			copy(buf[p+5:], v)
			pos[i] = p + 5 + len(v)
		}
	}
}

func writeInts[T integer](vals []T, a arrow.Array, nulls bool, buf []byte, pos []int) {
	for i := range pos {
		p := pos[i]
		if nulls && a.IsNull(i) {
			buf[p] = 0
			pos[i]++
			continue
		}
		buf[p] = 1
		binary.LittleEndian.PutUint64(buf[p+1:], uint64(int64(vals[i])))
		pos[i] = p + 9
	}
}

// IntKeyValues returns the values of a as int64 when a is an integer-like
// column (ints, dates, times, timestamps, small decimals, bools are not), for
// the single-integer-key fast paths; ok is false for other types.
func IntKeyValues(a arrow.Array, out []int64) bool {
	switch c := a.(type) {
	case *array.Int64:
		copy(out, c.Int64Values())
	case *array.Int32:
		widen(c.Int32Values(), out)
	case *array.Int16:
		widen(c.Int16Values(), out)
	case *array.Int8:
		widen(c.Int8Values(), out)
	case *array.Uint32:
		widen(c.Uint32Values(), out)
	case *array.Uint16:
		widen(c.Uint16Values(), out)
	case *array.Uint8:
		widen(c.Uint8Values(), out)
	case *array.Uint64:
		widen(c.Uint64Values(), out)
	case *array.Date32, *array.Time32, *array.Decimal32:
		widen(arrow.Int32Traits.CastFromBytes(dataBytes(a, 4)), out)
	case *array.Date64, *array.Timestamp, *array.Time64, *array.Duration, *array.Decimal64:
		copy(out, arrow.Int64Traits.CastFromBytes(dataBytes(a, 8)))
	default:
		return false
	}
	return true
}

func widen[T integer](in []T, out []int64) {
	for i, v := range in[:len(out)] {
		out[i] = int64(v)
	}
}
