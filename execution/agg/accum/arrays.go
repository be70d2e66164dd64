package accum

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// values views the fixed-width value buffer of a as []T (from its offset).
func values[T any](a arrow.Array) []T {
	d := a.Data()
	buf := d.Buffers()[1]
	if buf == nil || d.Len() == 0 {
		return nil
	}
	all := unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(buf.Bytes()))), buf.Len()/int(unsafe.Sizeof(*new(T))))
	return all[d.Offset() : d.Offset()+d.Len()]
}

// fixedArray builds an array of type dt from vals; valid nil = no NULLs.
func fixedArray[T any](mem memory.Allocator, dt arrow.DataType, vals []T, valid []bool) arrow.Array {
	n := len(vals)
	width := int(unsafe.Sizeof(*new(T)))
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(n * width)
	if n > 0 {
		copy(buf.Bytes(), unsafe.Slice((*byte)(unsafe.Pointer(unsafe.SliceData(vals))), n*width))
	}
	bm, nulls := validity(mem, valid, n)
	data := array.NewData(dt, n, []*memory.Buffer{bm, buf}, nil, nulls, 0)
	arr := array.MakeFromData(data)
	data.Release()
	buf.Release()
	if bm != nil {
		bm.Release()
	}
	return arr
}

// validity builds a validity bitmap from valid (nil when all are valid).
func validity(mem memory.Allocator, valid []bool, n int) (*memory.Buffer, int) {
	if valid == nil {
		return nil, 0
	}
	nulls := 0
	for _, v := range valid[:n] {
		if !v {
			nulls++
		}
	}
	if nulls == 0 {
		return nil, 0
	}
	bm := memory.NewResizableBuffer(mem)
	bm.Resize(int(bitutil.BytesForBits(int64(n))))
	b := bm.Bytes()
	for i := range b {
		b[i] = 0
	}
	for i, v := range valid[:n] {
		if v {
			bitutil.SetBit(b, i)
		}
	}
	return bm, nulls
}

// allValid reports whether row i of every array is non-NULL.
func allValid(args []arrow.Array, i int) bool {
	for _, a := range args {
		// A NULL-typed column has no validity bitmap, so IsNull reports false.
		if a.IsNull(i) || a.DataType().ID() == arrow.NULL {
			return false
		}
	}
	return true
}
