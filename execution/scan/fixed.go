package scan

import (
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/endian"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// Integer, date and floating-point columns whose Arrow type is their
// physical type are read here: pqarrow decodes dictionaries lazily,
// growing its Go slice of values as indices reach further (a fifth of the
// time of a key column scan), then copies the values.

// fixedChunk reports whether a flat chunk is read as typ with no
// conversion: INT32 as int32/date32, INT64 as int64, FLOAT, DOUBLE.
func fixedChunk(descr *schema.Column, cc *metadata.ColumnChunkMetaData, typ arrow.DataType) bool {
	if endian.IsBigEndian || !flatChunk(descr, cc) {
		return false
	}
	switch descr.PhysicalType() {
	case parquet.Types.Int32:
		return typ.ID() == arrow.INT32 || typ.ID() == arrow.DATE32
	case parquet.Types.Int64:
		return typ.ID() == arrow.INT64
	case parquet.Types.Float:
		return typ.ID() == arrow.FLOAT32
	case parquet.Types.Double:
		return typ.ID() == arrow.FLOAT64
	}
	return false
}

func newFixedReader(mem memory.Allocator, pages file.PageReader, descr *schema.Column, typ arrow.DataType) columnReader {
	c := pageCursor{pages: pages, maxDef: descr.MaxDefinitionLevel()}
	switch descr.PhysicalType() {
	case parquet.Types.Int32:
		return &fixedReader[int32]{pageCursor: c, mem: mem, typ: typ}
	case parquet.Types.Int64:
		return &fixedReader[int64]{pageCursor: c, mem: mem, typ: typ}
	case parquet.Types.Float:
		return &fixedReader[float32]{pageCursor: c, mem: mem, typ: typ}
	default:
		return &fixedReader[float64]{pageCursor: c, mem: mem, typ: typ}
	}
}

// fixedReader reads one column chunk accepted by fixedChunk.
type fixedReader[T int32 | int64 | float32 | float64] struct {
	pageCursor
	mem  memory.Allocator
	typ  arrow.DataType
	dict []T
}

func (r *fixedReader[T]) close() {
	r.dict = nil
	r.pageCursor.close()
}

// read returns the next n values.
func (r *fixedReader[T]) read(n int) (arrow.Array, error) {
	return readFixedWidth(&r.pageCursor, r.mem, r.typ, n, r.loadDictionary, r.decode)
}

// readFixedWidth returns the next n values of a chunk whose Arrow values are
// T: pages and levels come from c, the present values of a page from decode.
func readFixedWidth[T arrow.FixedWidthType](c *pageCursor, mem memory.Allocator, typ arrow.DataType, n int,
	loadDict func(*file.DictionaryPage) error, decode func([]T) error) (arrow.Array, error) {
	vals := memory.NewResizableBuffer(mem)
	vals.Resize(n * int(unsafe.Sizeof(out0[T]())))
	out := arrow.GetData[T](vals.Bytes())[:n]
	valid := c.newValidity(mem, n)
	release := func() {
		vals.Release()
		if valid != nil {
			valid.Release()
		}
	}
	nulls := 0
	for done := 0; done < n; {
		if c.left == 0 {
			if err := c.nextPage(loadDict); err != nil {
				release()
				return nil, err
			}
			continue
		}
		k := min(n-done, c.left)
		dst := out[done : done+k]
		present := k
		if valid != nil {
			var err error
			if present, err = c.levels(valid.Bytes(), done, k); err != nil {
				release()
				return nil, err
			}
		}
		if err := decode(dst[:present]); err != nil {
			release()
			return nil, err
		}
		if present < k {
			spread(dst, present, valid.Bytes(), done)
			nulls += k - present
		}
		c.left -= k
		done += k
	}
	return newArray(typ, n, nulls, valid, vals), nil
}

func out0[T any]() (v T) { return v }

// decode reads len(dst) values of the current page.
func (r *fixedReader[T]) decode(dst []T) error {
	if !r.indices {
		need := len(dst) * int(unsafe.Sizeof(out0[T]()))
		if need > len(r.plain) {
			return corruptPage(nil, "page holds fewer values than declared")
		}
		copy(arrow.GetBytes(dst), r.plain[:need])
		r.plain = r.plain[need:]
		return nil
	}
	ix, err := r.readIndices(len(dst), len(r.dict))
	if err != nil {
		return err
	}
	dict := r.dict
	for i, x := range ix {
		dst[i] = dict[x]
	}
	return nil
}

func (r *fixedReader[T]) loadDictionary(p *file.DictionaryPage) error {
	n := int(p.NumValues())
	data := p.Data()
	size := int(unsafe.Sizeof(out0[T]()))
	if n < 0 || n > len(data)/size {
		return corruptPage(nil, "dictionary holds fewer values than declared")
	}
	if cap(r.dict) < n {
		r.dict = make([]T, n)
	}
	r.dict = r.dict[:n]
	copy(arrow.GetBytes(r.dict), data[:n*size])
	return nil
}
