package scan

import (
	"encoding/binary"
	"errors"
)

// errCorruptRuns reports RLE/bit-packed data that cannot be decoded.
var errCorruptRuns = errors.New("corrupt RLE/bit-packed run")

// rleReader decodes Parquet's RLE/bit-packing hybrid encoding (definition
// levels, dictionary indices) of values up to 32 bits wide.
type rleReader struct {
	buf      []byte // runs not yet started
	width    uint
	rleLeft  int // repeats of rleVal still to emit
	rleVal   uint32
	packed   []byte // the current bit-packed run
	packIdx  int    // next value of packed
	packLeft int    // values of packed still to emit
}

func (r *rleReader) init(buf []byte, width int) error {
	if width < 0 || width > 32 {
		return errCorruptRuns
	}
	*r = rleReader{buf: buf, width: uint(width)}
	return nil
}

// read fills out and returns how many values it decoded: fewer than
// len(out) only when the data ends.
func (r *rleReader) read(out []uint32) (int, error) {
	n := 0
	for n < len(out) {
		switch {
		case r.rleLeft > 0:
			k := min(r.rleLeft, len(out)-n)
			fill := out[n : n+k]
			for i := range fill {
				fill[i] = r.rleVal
			}
			r.rleLeft -= k
			n += k
		case r.packLeft > 0:
			k := min(r.packLeft, len(out)-n)
			unpack(out[n:n+k], r.packed, r.width, r.packIdx)
			r.packIdx += k
			r.packLeft -= k
			n += k
		case len(r.buf) == 0:
			return n, nil
		default:
			if err := r.nextRun(); err != nil {
				return n, err
			}
		}
	}
	return n, nil
}

func (r *rleReader) nextRun() error {
	h, l := binary.Uvarint(r.buf)
	if l <= 0 {
		return errCorruptRuns
	}
	r.buf = r.buf[l:]
	const maxRun = 1 << 31 // more than any page holds
	if h&1 == 1 {
		groups := min(h>>1, maxRun/8)
		nbytes := int(groups) * int(r.width)
		// A writer may end the last run early: decode what is there.
		nbytes = min(nbytes, len(r.buf))
		r.packed, r.buf = r.buf[:nbytes], r.buf[nbytes:]
		r.packIdx = 0
		if r.width == 0 {
			r.packLeft = int(groups) * 8
		} else {
			r.packLeft = min(int(groups)*8, nbytes*8/int(r.width))
		}
		return nil
	}
	count := min(h>>1, maxRun)
	nb := int(r.width+7) / 8
	if len(r.buf) < nb {
		return errCorruptRuns
	}
	var v uint32
	for i := nb - 1; i >= 0; i-- {
		v = v<<8 | uint32(r.buf[i])
	}
	r.buf = r.buf[nb:]
	if r.width < 32 && v>>r.width != 0 {
		return errCorruptRuns
	}
	r.rleVal, r.rleLeft = v, int(count)
	return nil
}

// unpack decodes out from the LSB-first bit-packed values of src, starting
// at value first.
func unpack(out []uint32, src []byte, width uint, first int) {
	if width == 0 {
		clear(out)
		return
	}
	mask := uint64(1)<<width - 1
	bit := uint(first) * width
	i := 0
	// One unaligned 8-byte load per value while 8 bytes remain.
	for ; i < len(out) && int(bit>>3)+8 <= len(src); i++ {
		out[i] = uint32(binary.LittleEndian.Uint64(src[bit>>3:]) >> (bit & 7) & mask)
		bit += width
	}
	for ; i < len(out); i++ {
		var w uint64
		for j, b := range src[bit>>3:] {
			w |= uint64(b) << (8 * j)
		}
		out[i] = uint32(w >> (bit & 7) & mask)
		bit += width
	}
}
