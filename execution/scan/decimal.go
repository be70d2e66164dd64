package scan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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
	if descr.MaxRepetitionLevel() != 0 || descr.MaxDefinitionLevel() > 1 {
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
	for _, e := range cc.Encodings() {
		switch e {
		case parquet.Encodings.Plain, parquet.Encodings.PlainDict, parquet.Encodings.RLEDict, parquet.Encodings.RLE:
		case parquet.Encodings.BitPacked:
			// Only ever listed for absent levels of required columns.
			if descr.MaxDefinitionLevel() > 0 {
				return nil, false
			}
		default:
			return nil, false
		}
	}
	return &arrow.Decimal128Type{Precision: dec.Precision(), Scale: dec.Scale()}, true
}

// decimalReader reads one column chunk accepted by decimalType.
type decimalReader struct {
	mem    memory.Allocator
	pages  file.PageReader
	typ    *arrow.Decimal128Type
	phys   parquet.Type
	size   int // bytes per plain value
	maxDef int16

	dictBuf *memory.Buffer
	dict    []decimal128.Num

	left    int       // level slots left in the current data page
	defs    rleReader // definition levels (maxDef > 0)
	indices bool      // the page is dictionary encoded
	idx     rleReader
	plain   []byte // plain values not yet read
	scratch []uint32
}

func newDecimalReader(mem memory.Allocator, pages file.PageReader, descr *schema.Column, typ *arrow.Decimal128Type) *decimalReader {
	d := &decimalReader{mem: mem, pages: pages, typ: typ, phys: descr.PhysicalType(), maxDef: descr.MaxDefinitionLevel()}
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
	if d.pages != nil {
		d.pages.Close()
		d.pages = nil
	}
}

// read returns the next n values.
func (d *decimalReader) read(n int) (arrow.Array, error) {
	vals := memory.NewResizableBuffer(d.mem)
	vals.Resize(arrow.Decimal128Traits.BytesRequired(n))
	out := arrow.Decimal128Traits.CastFromBytes(vals.Bytes())[:n]
	var valid *memory.Buffer
	if d.maxDef > 0 {
		valid = memory.NewResizableBuffer(d.mem)
		valid.Resize(int(bitutil.BytesForBits(int64(n))))
	}
	release := func() {
		vals.Release()
		if valid != nil {
			valid.Release()
		}
	}
	nulls := 0
	for done := 0; done < n; {
		if d.left == 0 {
			if err := d.nextPage(); err != nil {
				release()
				return nil, err
			}
			continue
		}
		k := min(n-done, d.left)
		dst := out[done : done+k]
		var err error
		if d.maxDef == 0 {
			err = d.decode(dst)
		} else {
			var m int
			m, err = d.decodeNullable(dst, valid.Bytes(), done)
			nulls += m
		}
		if err != nil {
			release()
			return nil, err
		}
		d.left -= k
		done += k
	}
	bufs := []*memory.Buffer{nil, vals}
	if nulls > 0 {
		bufs[0] = valid
	} else if valid != nil {
		valid.Release()
	}
	data := array.NewData(d.typ, n, bufs, nil, nulls, 0)
	for _, b := range bufs {
		if b != nil {
			b.Release()
		}
	}
	defer data.Release()
	return array.NewDecimal128Data(data), nil
}

// decodeNullable reads len(dst) level slots, sets their validity bits from
// bit offset and returns how many are null (left zero).
func (d *decimalReader) decodeNullable(dst []decimal128.Num, valid []byte, offset int) (int, error) {
	lv := d.scratchOf(len(dst))
	if m, err := d.defs.read(lv); err != nil || m < len(lv) {
		return 0, corruptPage(err, "definition levels end early")
	}
	present := 0
	for i, l := range lv {
		if l > uint32(d.maxDef) {
			return 0, corruptPage(nil, "definition level %d above %d", l, d.maxDef)
		}
		if l == uint32(d.maxDef) {
			bitutil.SetBit(valid, offset+i)
			present++
		} else {
			bitutil.ClearBit(valid, offset+i)
		}
	}
	if present == len(dst) {
		return 0, d.decode(dst)
	}
	// lv is reused by decode: spread the dense values from the back, with
	// the validity bits as the guide.
	if err := d.decode(dst[:present]); err != nil {
		return 0, err
	}
	j := present - 1
	for i := len(dst) - 1; i >= 0; i-- {
		if bitutil.BitIsSet(valid, offset+i) {
			dst[i] = dst[j]
			j--
		} else {
			dst[i] = decimal128.Num{}
		}
	}
	return len(dst) - present, nil
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
	ix := d.scratchOf(len(dst))
	if m, err := d.idx.read(ix); err != nil || m < len(ix) {
		return corruptPage(err, "dictionary indices end early")
	}
	dict := d.dict
	for i, x := range ix {
		if int(x) >= len(dict) {
			return corruptPage(nil, "dictionary index %d out of range (%d values)", x, len(dict))
		}
		dst[i] = dict[x]
	}
	return nil
}

func (d *decimalReader) scratchOf(n int) []uint32 {
	if cap(d.scratch) < n {
		d.scratch = make([]uint32, n)
	}
	return d.scratch[:n]
}

// nextPage loads the dictionary and moves to the next data page.
func (d *decimalReader) nextPage() error {
	for {
		if !d.pages.Next() {
			if err := d.pages.Err(); err != nil {
				return err
			}
			return corruptPage(nil, "column chunk holds fewer values than the row group")
		}
		switch p := d.pages.Page().(type) {
		case *file.DictionaryPage:
			if err := d.loadDictionary(p); err != nil {
				return err
			}
		case *file.DataPageV1:
			data := p.Data()
			if d.maxDef > 0 {
				if p.DefinitionLevelEncoding() != parquet.Encodings.RLE {
					return corruptPage(nil, "unsupported definition level encoding %s", p.DefinitionLevelEncoding())
				}
				if len(data) < 4 {
					return corruptPage(nil, "truncated definition levels")
				}
				l := binary.LittleEndian.Uint32(data)
				if uint64(l) > uint64(len(data)-4) {
					return corruptPage(nil, "truncated definition levels")
				}
				if err := d.defs.init(data[4:4+l], levelWidth(d.maxDef)); err != nil {
					return err
				}
				data = data[4+l:]
			}
			return d.startValues(parquet.Encoding(p.Encoding()), data, int(p.NumValues()))
		case *file.DataPageV2:
			data := p.Data()
			rl, dl := int64(p.RepetitionLevelByteLen()), int64(p.DefinitionLevelByteLen())
			if rl != 0 || dl < 0 || dl > int64(len(data)) {
				return corruptPage(nil, "bad level lengths")
			}
			if d.maxDef > 0 {
				if err := d.defs.init(data[:dl], levelWidth(d.maxDef)); err != nil {
					return err
				}
			}
			return d.startValues(parquet.Encoding(p.Encoding()), data[dl:], int(p.NumValues()))
		}
	}
}

func levelWidth(max int16) int { return bits.Len16(uint16(max)) }

func (d *decimalReader) startValues(enc parquet.Encoding, data []byte, n int) error {
	switch enc {
	case parquet.Encodings.Plain:
		d.indices, d.plain = false, data
	case parquet.Encodings.PlainDict, parquet.Encodings.RLEDict:
		if d.dictBuf == nil {
			return corruptPage(nil, "dictionary-encoded page without a dictionary")
		}
		if len(data) < 1 {
			return corruptPage(nil, "truncated dictionary indices")
		}
		if err := d.idx.init(data[1:], int(data[0])); err != nil {
			return err
		}
		d.indices = true
	default:
		return corruptPage(nil, "unsupported encoding %s", enc)
	}
	if n < 0 {
		return corruptPage(nil, "negative value count")
	}
	d.left = n
	return nil
}

func (d *decimalReader) loadDictionary(p *file.DictionaryPage) error {
	if e := parquet.Encoding(p.Encoding()); e != parquet.Encodings.Plain && e != parquet.Encodings.PlainDict {
		return corruptPage(nil, "unsupported dictionary encoding %s", e)
	}
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

var errCorruptPage = errors.New("corrupt decimal column page")

func corruptPage(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errCorruptPage, msg, err)
	}
	return fmt.Errorf("%w: %s", errCorruptPage, msg)
}
