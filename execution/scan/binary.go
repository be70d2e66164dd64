package scan

import (
	"encoding/binary"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// String and binary columns are read here rather than through pqarrow,
// whose builder appends value by value (offset, bytes, reserve checks):
// the offsets are computed for a whole run of values and the bytes copied
// in one loop, from the dictionary or the plain page.

// binaryChunk reports whether a column chunk is a flat BYTE_ARRAY column
// that binaryReader decodes into typ (what pqarrow reads it as).
func binaryChunk(descr *schema.Column, cc *metadata.ColumnChunkMetaData, typ arrow.DataType) bool {
	if descr.PhysicalType() != parquet.Types.ByteArray || !flatChunk(descr, cc) {
		return false
	}
	switch typ.ID() {
	case arrow.STRING, arrow.BINARY:
		return true
	}
	return false
}

// binaryReader reads one column chunk accepted by binaryChunk into arrays
// with int32 offsets.
type binaryReader struct {
	pageCursor
	mem memory.Allocator
	typ arrow.DataType

	dictData []byte
	dictOffs []int32 // value i is dictData[dictOffs[i]:dictOffs[i+1]]
	ends     []int32 // end offsets of the present values of a run
}

func newBinaryReader(mem memory.Allocator, pages file.PageReader, descr *schema.Column, typ arrow.DataType) *binaryReader {
	return &binaryReader{pageCursor: pageCursor{pages: pages, maxDef: descr.MaxDefinitionLevel()}, mem: mem, typ: typ}
}

func (r *binaryReader) close() {
	r.dictData, r.dictOffs = nil, nil
	r.pageCursor.close()
}

// read returns the next n values.
func (r *binaryReader) read(n int) (arrow.Array, error) {
	offBuf := memory.NewResizableBuffer(r.mem)
	offBuf.Resize(arrow.Int32Traits.BytesRequired(n + 1))
	offs := arrow.Int32Traits.CastFromBytes(offBuf.Bytes())[:n+1]
	offs[0] = 0
	data := memory.NewResizableBuffer(r.mem)
	valid := r.newValidity(r.mem, n)
	release := func() {
		offBuf.Release()
		data.Release()
		if valid != nil {
			valid.Release()
		}
	}
	nulls := 0
	for done := 0; done < n; {
		if r.left == 0 {
			if err := r.nextPage(r.loadDictionary); err != nil {
				release()
				return nil, err
			}
			continue
		}
		k := min(n-done, r.left)
		present := k
		if valid != nil {
			var err error
			if present, err = r.levels(valid.Bytes(), done, k); err != nil {
				release()
				return nil, err
			}
		}
		if err := r.decode(data, int(offs[done]), present); err != nil {
			release()
			return nil, err
		}
		slots := offs[done+1 : done+1+k]
		if present == k {
			copy(slots, r.ends)
		} else {
			// Null slots repeat the previous end offset.
			cur, j := offs[done], 0
			for i := range slots {
				if bitutil.BitIsSet(valid.Bytes(), done+i) {
					cur = r.ends[j]
					j++
				}
				slots[i] = cur
			}
			nulls += k - present
		}
		r.left -= k
		done += k
	}
	return newArray(r.typ, n, nulls, valid, offBuf, data), nil
}

// decode appends m values of the current page to data (holding size bytes)
// and leaves their end offsets in r.ends.
func (r *binaryReader) decode(data *memory.Buffer, size, m int) error {
	if cap(r.ends) < m {
		r.ends = make([]int32, m)
	}
	ends := r.ends[:m]
	r.ends = ends
	if r.indices {
		ix, err := r.readIndices(m, len(r.dictOffs)-1)
		if err != nil {
			return err
		}
		total := size
		for _, x := range ix {
			total += int(r.dictOffs[x+1] - r.dictOffs[x])
		}
		dst, err := growData(data, total)
		if err != nil {
			return err
		}
		pos := size
		dict, offs := r.dictData, r.dictOffs
		for i, x := range ix {
			pos += copy(dst[pos:], dict[offs[x]:offs[x+1]])
			ends[i] = int32(pos)
		}
		return nil
	}
	// Plain: a 4-byte length before each value. Measure, then copy.
	src := r.plain
	at, total := 0, size
	for i := range ends {
		if len(src)-at < 4 {
			return corruptPage(nil, "page holds fewer values than declared")
		}
		l := int(binary.LittleEndian.Uint32(src[at:]))
		if l > len(src)-at-4 {
			return corruptPage(nil, "value longer than its page")
		}
		at += 4 + l
		total += l
		if total > math.MaxInt32 {
			return errTooLarge
		}
		ends[i] = int32(total)
	}
	dst, err := growData(data, total)
	if err != nil {
		return err
	}
	at, pos := 0, size
	for i := range ends {
		at += 4
		next := int(ends[i])
		copy(dst[pos:next], src[at:])
		at += next - pos
		pos = next
	}
	r.plain = src[at:]
	return nil
}

var errTooLarge = corruptPage(nil, "more than 2 GiB of string data in one batch")

// growData makes data hold total bytes (keeping its contents) and returns
// its bytes.
func growData(data *memory.Buffer, total int) ([]byte, error) {
	if total > math.MaxInt32 {
		return nil, errTooLarge
	}
	if total > data.Cap() {
		data.Reserve(max(total, 2*data.Cap()))
	}
	data.ResizeNoShrink(total)
	return data.Bytes(), nil
}

func (r *binaryReader) loadDictionary(p *file.DictionaryPage) error {
	n := int(p.NumValues())
	src := p.Data()
	if n < 0 || n > len(src)/4 {
		return corruptPage(nil, "dictionary holds fewer values than declared")
	}
	offs := make([]int32, n+1)
	data := make([]byte, 0, len(src)-4*n)
	at := 0
	for i := 0; i < n; i++ {
		if len(src)-at < 4 {
			return corruptPage(nil, "dictionary holds fewer values than declared")
		}
		l := int(binary.LittleEndian.Uint32(src[at:]))
		if l > len(src)-at-4 {
			return corruptPage(nil, "dictionary value longer than its page")
		}
		data = append(data, src[at+4:at+4+l]...)
		at += 4 + l
		offs[i+1] = int32(len(data))
	}
	r.dictData, r.dictOffs = data, offs
	return nil
}
