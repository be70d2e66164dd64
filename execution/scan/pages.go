package scan

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math/bits"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// pageCursor walks the data pages of a flat (unrepeated, at most one
// definition level) column chunk, plain or dictionary encoded: the part of
// the direct column readers that does not depend on the value type.
type pageCursor struct {
	pages  file.PageReader
	maxDef int16

	hasDict bool
	left    int       // level slots left in the current data page
	defs    rleReader // definition levels (maxDef > 0)
	indices bool      // the page is dictionary encoded
	idx     rleReader
	plain   []byte // plain values not yet read
	scratch []uint32
}

// flatChunk reports whether a column chunk has the layout and encodings a
// pageCursor reads.
func flatChunk(descr *schema.Column, cc *metadata.ColumnChunkMetaData) bool {
	if descr.MaxRepetitionLevel() != 0 || descr.MaxDefinitionLevel() > 1 {
		return false
	}
	for _, e := range cc.Encodings() {
		switch e {
		case parquet.Encodings.Plain, parquet.Encodings.PlainDict, parquet.Encodings.RLEDict, parquet.Encodings.RLE:
		case parquet.Encodings.BitPacked:
			// Only ever listed for absent levels of required columns.
			if descr.MaxDefinitionLevel() > 0 {
				return false
			}
		default:
			return false
		}
	}
	return true
}

func (c *pageCursor) close() {
	if c.pages != nil {
		c.pages.Close()
		c.pages = nil
	}
}

// newValidity returns a validity bitmap for n values of a nullable column
// (nil for a required one).
func (c *pageCursor) newValidity(mem memory.Allocator, n int) *memory.Buffer {
	if c.maxDef == 0 {
		return nil
	}
	b := memory.NewResizableBuffer(mem)
	b.Resize(int(bitutil.BytesForBits(int64(n))))
	return b
}

// levels reads k definition levels into the validity bits from bit offset
// and returns how many values are present.
func (c *pageCursor) levels(valid []byte, offset, k int) (int, error) {
	lv := c.scratchOf(k)
	if m, err := c.defs.read(lv); err != nil || m < k {
		return 0, corruptPage(err, "definition levels end early")
	}
	present := 0
	for i, l := range lv {
		switch {
		case l == uint32(c.maxDef):
			bitutil.SetBit(valid, offset+i)
			present++
		case l < uint32(c.maxDef):
			bitutil.ClearBit(valid, offset+i)
		default:
			return 0, corruptPage(nil, "definition level %d above %d", l, c.maxDef)
		}
	}
	return present, nil
}

// readIndices reads n dictionary indices, all below dictLen.
func (c *pageCursor) readIndices(n, dictLen int) ([]uint32, error) {
	ix := c.scratchOf(n)
	if m, err := c.idx.read(ix); err != nil || m < n {
		return nil, corruptPage(err, "dictionary indices end early")
	}
	for _, x := range ix {
		if int(x) >= dictLen {
			return nil, corruptPage(nil, "dictionary index %d out of range (%d values)", x, dictLen)
		}
	}
	return ix, nil
}

func (c *pageCursor) scratchOf(n int) []uint32 {
	if cap(c.scratch) < n {
		c.scratch = make([]uint32, n)
	}
	return c.scratch[:n]
}

// nextPage moves to the next data page, handing a dictionary page met on
// the way to loadDict.
func (c *pageCursor) nextPage(loadDict func(*file.DictionaryPage) error) error {
	for {
		if !c.pages.Next() {
			if err := c.pages.Err(); err != nil {
				return err
			}
			return corruptPage(nil, "column chunk holds fewer values than the row group")
		}
		switch p := c.pages.Page().(type) {
		case *file.DictionaryPage:
			if e := parquet.Encoding(p.Encoding()); e != parquet.Encodings.Plain && e != parquet.Encodings.PlainDict {
				return corruptPage(nil, "unsupported dictionary encoding %s", e)
			}
			if err := loadDict(p); err != nil {
				return err
			}
			c.hasDict = true
		case *file.DataPageV1:
			data := p.Data()
			if c.maxDef > 0 {
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
				if err := c.defs.init(data[4:4+l], levelWidth(c.maxDef)); err != nil {
					return err
				}
				data = data[4+l:]
			}
			return c.startValues(parquet.Encoding(p.Encoding()), data, int(p.NumValues()))
		case *file.DataPageV2:
			data := p.Data()
			rl, dl := int64(p.RepetitionLevelByteLen()), int64(p.DefinitionLevelByteLen())
			if rl != 0 || dl < 0 || dl > int64(len(data)) {
				return corruptPage(nil, "bad level lengths")
			}
			if c.maxDef > 0 {
				if err := c.defs.init(data[:dl], levelWidth(c.maxDef)); err != nil {
					return err
				}
			}
			return c.startValues(parquet.Encoding(p.Encoding()), data[dl:], int(p.NumValues()))
		}
	}
}

func levelWidth(max int16) int { return bits.Len16(uint16(max)) }

func (c *pageCursor) startValues(enc parquet.Encoding, data []byte, n int) error {
	switch enc {
	case parquet.Encodings.Plain:
		c.indices, c.plain = false, data
	case parquet.Encodings.PlainDict, parquet.Encodings.RLEDict:
		if !c.hasDict {
			return corruptPage(nil, "dictionary-encoded page without a dictionary")
		}
		if len(data) < 1 {
			return corruptPage(nil, "truncated dictionary indices")
		}
		if err := c.idx.init(data[1:], int(data[0])); err != nil {
			return err
		}
		c.indices = true
	default:
		return corruptPage(nil, "unsupported encoding %s", enc)
	}
	if n < 0 {
		return corruptPage(nil, "negative value count")
	}
	c.left = n
	return nil
}

// newArray wraps buffers (valid is dropped when nulls == 0) in an array and
// releases them.
func newArray(typ arrow.DataType, n, nulls int, valid *memory.Buffer, bufs ...*memory.Buffer) arrow.Array {
	if nulls == 0 && valid != nil {
		valid.Release()
		valid = nil
	}
	all := append([]*memory.Buffer{valid}, bufs...)
	data := array.NewData(typ, n, all, nil, nulls, 0)
	for _, b := range all {
		if b != nil {
			b.Release()
		}
	}
	defer data.Release()
	return array.MakeFromData(data)
}

var errCorruptPage = errors.New("corrupt column page")

func corruptPage(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if err != nil {
		return fmt.Errorf("%w: %s: %w", errCorruptPage, msg, err)
	}
	return fmt.Errorf("%w: %s", errCorruptPage, msg)
}
