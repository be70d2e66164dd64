package scan

import (
	"encoding/binary"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// Decimal columns are read here rather than through pqarrow, which builds a
// FixedSizeBinary array value by value and then converts each value from
// big endian: the dictionary is converted once and the values are gathered
// by index straight into the Decimal128 buffer.

// decimalType returns the Decimal128 type a flat decimal column chunk is
// read as when its layout and encodings are ones decimalReader decodes.
func decimalType(descr *schema.Column, cc *metadata.ColumnChunkMetaData) (*arrow.Decimal128Type, bool) {
	if !flatChunk(descr, cc) {
		return nil, false
	}
	dec, ok := descr.LogicalType().(schema.DecimalLogicalType)
	if !ok || dec.Precision() < 1 || dec.Precision() > decimal128.MaxPrecision {
		return nil, false
	}
	switch descr.PhysicalType() {
	case parquet.Types.FixedLenByteArray:
		if w := descr.TypeLength(); w < 1 || w > 16 {
			return nil, false
		}
	case parquet.Types.Int32, parquet.Types.Int64:
	default:
		return nil, false
	}
	return &arrow.Decimal128Type{Precision: dec.Precision(), Scale: dec.Scale()}, true
}

// decimalReader reads one column chunk accepted by decimalType.
type decimalReader struct {
	pageCursor
	mem  memory.Allocator
	typ  *arrow.Decimal128Type
	phys parquet.Type
	size int // bytes per plain value

	dictBuf *memory.Buffer
	dict    []decimal128.Num
}

func newDecimalReader(mem memory.Allocator, pages file.PageReader, descr *schema.Column, typ *arrow.Decimal128Type) *decimalReader {
	d := &decimalReader{pageCursor: pageCursor{pages: pages, maxDef: descr.MaxDefinitionLevel()}, mem: mem, typ: typ, phys: descr.PhysicalType()}
	switch d.phys {
	case parquet.Types.Int32:
		d.size = 4
	case parquet.Types.Int64:
		d.size = 8
	default:
		d.size = descr.TypeLength()
	}
	return d
}

func (d *decimalReader) close() {
	if d.dictBuf != nil {
		d.dictBuf.Release()
		d.dictBuf, d.dict = nil, nil
	}
	d.pageCursor.close()
}

// read returns the next n values.
func (d *decimalReader) read(n int) (arrow.Array, error) {
	return readFixedWidth(&d.pageCursor, d.mem, d.typ, n, d.loadDictionary, d.decode)
}

// spread moves the first present values of dst to the slots whose validity
// bit (from bit offset) is set, zeroing the others.
func spread[T any](dst []T, present int, valid []byte, offset int) {
	var zero T
	j := present - 1
	for i := len(dst) - 1; i >= 0; i-- {
		if bitutil.BitIsSet(valid, offset+i) {
			dst[i] = dst[j]
			j--
		} else {
			dst[i] = zero
		}
	}
}

// decode reads len(dst) values of the current page.
func (d *decimalReader) decode(dst []decimal128.Num) error {
	if !d.indices {
		need := len(dst) * d.size
		if need > len(d.plain) {
			return corruptPage(nil, "page holds fewer values than declared")
		}
		d.convert(dst, d.plain[:need])
		d.plain = d.plain[need:]
		return nil
	}
	ix, err := d.readIndices(len(dst), len(d.dict))
	if err != nil {
		return err
	}
	dict := d.dict
	for i, x := range ix {
		dst[i] = dict[x]
	}
	return nil
}

func (d *decimalReader) loadDictionary(p *file.DictionaryPage) error {
	n := int(p.NumValues())
	data := p.Data()
	if n < 0 || n > len(data)/d.size {
		return corruptPage(nil, "dictionary holds fewer values than declared")
	}
	if d.dictBuf == nil {
		d.dictBuf = memory.NewResizableBuffer(d.mem)
	}
	d.dictBuf.Resize(n * 16)
	d.dict = arrow.Decimal128Traits.CastFromBytes(d.dictBuf.Bytes())[:n]
	d.convert(d.dict, data[:n*d.size])
	return nil
}

// convert decodes plain values (len(src) == len(dst)*d.size).
func (d *decimalReader) convert(dst []decimal128.Num, src []byte) {
	switch d.phys {
	case parquet.Types.Int32:
		for i := range dst {
			dst[i] = decimal128.FromI64(int64(int32(binary.LittleEndian.Uint32(src[4*i:]))))
		}
	case parquet.Types.Int64:
		for i := range dst {
			dst[i] = decimal128.FromI64(int64(binary.LittleEndian.Uint64(src[8*i:])))
		}
	default:
		bigEndianDecimals(dst, src, d.size)
	}
}

// bigEndianDecimals decodes w-byte big-endian two's complement values.
func bigEndianDecimals(dst []decimal128.Num, src []byte, w int) {
	if w > 8 {
		shift := uint(128-8*w) & 63
		for i := range dst {
			v := src[i*w : (i+1)*w]
			lo := binary.BigEndian.Uint64(v[w-8:])
			var hi uint64
			for _, b := range v[:w-8] {
				hi = hi<<8 | uint64(b)
			}
			if w < 16 {
				hi = uint64(int64(hi<<shift) >> shift)
			}
			dst[i] = decimal128.New(int64(hi), lo)
		}
		return
	}
	shift := uint(64 - 8*w)
	i := 0
	// Values before the 8th byte are assembled byte by byte; after it one
	// load reads the 8 bytes that end with the value.
	for ; i < len(dst) && (i+1)*w < 8; i++ {
		var u uint64
		for _, b := range src[i*w : (i+1)*w] {
			u = u<<8 | uint64(b)
		}
		lo := int64(u<<shift) >> shift
		dst[i] = decimal128.New(lo>>63, uint64(lo))
	}
	for ; i < len(dst); i++ {
		end := (i + 1) * w
		lo := int64(binary.BigEndian.Uint64(src[end-8:end])<<shift) >> shift
		dst[i] = decimal128.New(lo>>63, uint64(lo))
	}
}
