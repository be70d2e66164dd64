package execution

import (
	"context"
	"math/bits"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Take gathers the rows idx of col into a new array; a negative index gives
// NULL (the padded side of outer joins). Fixed-width, boolean and
// string/binary columns are copied by typed loops straight from the index
// slice (compute.TakeArray needs an index array and costs a builder per
// call); other types fall back to compute.TakeArray.
func Take(mem memory.Allocator, col arrow.Array, idx []int32) (arrow.Array, error) {
	switch c := col.(type) {
	case *array.Int64, *array.Uint64, *array.Float64, *array.Date64, *array.Timestamp,
		*array.Time64, *array.Duration, *array.Decimal64:
		return takeFixed[int64](mem, col, idx), nil
	case *array.Int32, *array.Uint32, *array.Float32, *array.Date32, *array.Time32, *array.Decimal32:
		return takeFixed[int32](mem, col, idx), nil
	case *array.Int16, *array.Uint16:
		return takeFixed[int16](mem, col, idx), nil
	case *array.Int8, *array.Uint8:
		return takeFixed[int8](mem, col, idx), nil
	case *array.Decimal128:
		return takeFixed[decimal128.Num](mem, col, idx), nil
	case *array.Boolean:
		return takeBool(mem, c, idx), nil
	case *array.String:
		return takeVar(mem, col, c.ValueOffsets(), c.ValueBytes(), idx), nil
	case *array.Binary:
		return takeVar(mem, col, c.ValueOffsets(), c.ValueBytes(), idx), nil
	case *array.LargeString:
		return takeVar(mem, col, c.ValueOffsets(), c.ValueBytes(), idx), nil
	case *array.LargeBinary:
		return takeVar(mem, col, c.ValueOffsets(), c.ValueBytes(), idx), nil
	}
	if col.Len() == 0 {
		// Only negative indices can address an empty column: all NULL.
		return array.MakeArrayOfNull(mem, col.DataType(), len(idx)), nil
	}
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	ib.Reserve(len(idx))
	for _, v := range idx {
		if v < 0 {
			ib.UnsafeAppendBoolToBitmap(false)
		} else {
			ib.UnsafeAppend(v)
		}
	}
	ia := ib.NewArray()
	defer ia.Release()
	return compute.TakeArray(compute.WithAllocator(context.Background(), mem), col, ia)
}

// SelectTrue appends to sel the rows where mask is true (NULL counts as
// false) and returns it; with all rows selected, Take of them is a copy the
// caller can skip.
func SelectTrue(mask *array.Boolean, sel []int32) []int32 {
	n := mask.Len()
	if n == 0 {
		return sel
	}
	vals := mask.Data().Buffers()[1].Bytes()
	off := mask.Data().Offset()
	if mask.NullN() > 0 {
		for i := 0; i < n; i++ {
			if bitutil.BitIsSet(vals, off+i) && mask.IsValid(i) {
				sel = append(sel, int32(i))
			}
		}
		return sel
	}
	// No NULLs: walk the set bits a byte at a time, skipping zero bytes.
	i := 0
	for ; i < n && (off+i)%8 != 0; i++ {
		if bitutil.BitIsSet(vals, off+i) {
			sel = append(sel, int32(i))
		}
	}
	for ; i+8 <= n; i += 8 {
		for w := vals[(off+i)/8]; w != 0; w &= w - 1 {
			sel = append(sel, int32(i+bits.TrailingZeros8(w)))
		}
	}
	for ; i < n; i++ {
		if bitutil.BitIsSet(vals, off+i) {
			sel = append(sel, int32(i))
		}
	}
	return sel
}

// takeValidity builds the validity bitmap of a gather (nil when no row is
// NULL) and its null count.
func takeValidity(mem memory.Allocator, col arrow.Array, idx []int32) (*memory.Buffer, int) {
	srcNulls := col.NullN() > 0
	anyNeg := false
	for _, v := range idx {
		if v < 0 {
			anyNeg = true
			break
		}
	}
	if !srcNulls && !anyNeg {
		return nil, 0
	}
	buf := memory.NewResizableBuffer(mem)
	buf.Resize(int(bitutil.BytesForBits(int64(len(idx)))))
	bits := buf.Bytes()
	for i := range bits {
		bits[i] = 0
	}
	nulls := 0
	for i, v := range idx {
		if v < 0 || (srcNulls && col.IsNull(int(v))) {
			nulls++
			continue
		}
		bitutil.SetBit(bits, i)
	}
	return buf, nulls
}

func takeFixed[T int8 | int16 | int32 | int64 | decimal128.Num](mem memory.Allocator, col arrow.Array, idx []int32) arrow.Array {
	src := arrow.GetValues[T](col.Data(), 1)
	valid, nulls := takeValidity(mem, col, idx)
	var zero T
	width := int(unsafe.Sizeof(zero))
	vals := memory.NewResizableBuffer(mem)
	vals.Resize(len(idx) * width)
	dst := arrow.GetData[T](vals.Bytes())
	if valid == nil {
		for i, v := range idx {
			dst[i] = src[v]
		}
	} else {
		for i, v := range idx {
			if v >= 0 {
				dst[i] = src[v]
			} else {
				dst[i] = zero
			}
		}
	}
	return finishTake(col.DataType(), len(idx), nulls, valid, vals)
}

func takeBool(mem memory.Allocator, c *array.Boolean, idx []int32) arrow.Array {
	valid, nulls := takeValidity(mem, c, idx)
	vals := memory.NewResizableBuffer(mem)
	vals.Resize(int(bitutil.BytesForBits(int64(len(idx)))))
	bits := vals.Bytes()
	for i := range bits {
		bits[i] = 0
	}
	for i, v := range idx {
		if v >= 0 && c.Value(int(v)) {
			bitutil.SetBit(bits, i)
		}
	}
	return finishTake(c.DataType(), len(idx), nulls, valid, vals)
}

func takeVar[O int32 | int64](mem memory.Allocator, col arrow.Array, offs []O, data []byte, idx []int32) arrow.Array {
	valid, nulls := takeValidity(mem, col, idx)
	var zero O
	ob := memory.NewResizableBuffer(mem)
	ob.Resize((len(idx) + 1) * int(unsafe.Sizeof(zero)))
	out := arrow.GetData[O](ob.Bytes())
	var total O
	out[0] = 0
	for i, v := range idx {
		if v >= 0 {
			total += offs[v+1] - offs[v]
		}
		out[i+1] = total
	}
	db := memory.NewResizableBuffer(mem)
	db.Resize(int(total))
	dst := db.Bytes()
	// ValueBytes is the data buffer from the array's first offset on.
	base := offs[0]
	for i, v := range idx {
		if v >= 0 {
			copy(dst[out[i]:out[i+1]], data[offs[v]-base:offs[v+1]-base])
		}
	}
	data0 := array.NewData(col.DataType(), len(idx), []*memory.Buffer{valid, ob, db}, nil, nulls, 0)
	releaseBuffers(valid, ob, db)
	defer data0.Release()
	return array.MakeFromData(data0)
}

func finishTake(dt arrow.DataType, n, nulls int, valid, vals *memory.Buffer) arrow.Array {
	d := array.NewData(dt, n, []*memory.Buffer{valid, vals}, nil, nulls, 0)
	releaseBuffers(valid, vals)
	defer d.Release()
	return array.MakeFromData(d)
}

func releaseBuffers(bufs ...*memory.Buffer) {
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
}
