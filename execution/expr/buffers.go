package expr

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// fixedWidth are the value types of fixed-width compute arrays.
type fixedWidth interface {
	~int32 | ~int64 | ~uint64 | ~float64 | decimal128.Num
}

// newValues allocates an n-value buffer of T from mem.
func newValues[T fixedWidth](mem memory.Allocator, n int) (*memory.Buffer, []T) {
	var zero T
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * int(unsafe.Sizeof(zero)))
	if n == 0 {
		return buf, nil
	}
	return buf, unsafe.Slice((*T)(unsafe.Pointer(&buf.Bytes()[0])), n)
}

// newBitmap allocates a zeroed bitmap of n bits.
func newBitmap(mem memory.Allocator, n int) (*memory.Buffer, []byte) {
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(n))))
	b := buf.Bytes()
	clear(b)
	return buf, b
}

// makeArray wraps validity (may be nil) and data into an array of type t and
// releases the caller's references to the buffers.
func makeArray(t arrow.DataType, n int, validity, data *memory.Buffer) arrow.Array {
	nulls := 0
	if validity != nil {
		nulls = n - bitutil.CountSetBits(validity.Bytes(), 0, n)
		if nulls == 0 {
			validity.Release()
			validity = nil
		}
	}
	d := array.NewData(t, n, []*memory.Buffer{validity, data}, nil, nulls, 0)
	if validity != nil {
		validity.Release()
	}
	data.Release()
	defer d.Release()
	return array.MakeFromData(d)
}

// mergeValidity returns the AND of the arrays' validity bitmaps as a fresh
// bitmap, or nil when no array has nulls.
func mergeValidity(mem memory.Allocator, n int, arrs ...arrow.Array) *memory.Buffer {
	var out *memory.Buffer
	var bits []byte
	for _, a := range arrs {
		if a.NullN() == 0 {
			continue
		}
		if a.DataType().ID() == arrow.NULL {
			if out == nil {
				out, _ = newBitmap(mem, n)
			} else {
				clear(out.Bytes())
			}
			return out
		}
		vb := a.NullBitmapBytes()
		if out == nil {
			out, bits = newBitmap(mem, n)
			bitutil.CopyBitmap(vb, a.Data().Offset(), n, bits, 0)
			continue
		}
		bitutil.BitmapAnd(bits, vb, 0, int64(a.Data().Offset()), bits, 0, int64(n))
	}
	return out
}

// validityCopy returns a modifiable copy of the merged validity, allocating
// an all-valid bitmap when there are no nulls (for kernels that add nulls).
func validityCopy(mem memory.Allocator, n int, arrs ...arrow.Array) (*memory.Buffer, []byte) {
	v := mergeValidity(mem, n, arrs...)
	if v == nil {
		var bits []byte
		v, bits = newBitmap(mem, n)
		bitutil.SetBitsTo(bits, 0, int64(n), true)
		return v, bits
	}
	return v, v.Bytes()
}

// valid reports whether row i of validity bits (nil = all valid) is set.
func valid(bits []byte, i int) bool {
	return bits == nil || bitutil.BitIsSet(bits, i)
}

func bitsOf(v *memory.Buffer) []byte {
	if v == nil {
		return nil
	}
	return v.Bytes()
}

// boolValues returns a boolean array's values as a bitmap starting at bit
// offset off.
func boolValues(a *array.Boolean) ([]byte, int) {
	return a.Data().Buffers()[1].Bytes(), a.Data().Offset()
}

// allNull returns an all-NULL array of type t.
func allNull(mem memory.Allocator, t arrow.DataType, n int) arrow.Array {
	return array.MakeArrayOfNull(mem, t, n)
}

// stringBuilder returns a builder for string results with room for n values.
func stringBuilder(mem memory.Allocator, n, bytes int) *array.StringBuilder {
	b := array.NewStringBuilder(mem)
	b.Reserve(n)
	if bytes > 0 {
		b.ReserveData(bytes)
	}
	return b
}

// release releases the non-nil buffers.
func release(bufs ...*memory.Buffer) {
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
}

// consume marks arguments idx of c as used at bind time.
func (c *Call) consume(idx ...int) {
	if c.consumed == nil {
		c.consumed = make([]bool, len(c.Args))
	}
	for _, i := range idx {
		c.consumed[i] = true
	}
}
