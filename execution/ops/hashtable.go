package ops

import (
	"bytes"
	"math"
	"slices"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/execution"
)

// groupTable maps key rows to dense group ids with a batch API: a whole key
// vector is hashed into a []uint64, then probed in one tight loop (open
// addressing, linear probing). Keys are compared by value, never by hash
// alone. A single integer-like key lives in the slot itself (one cache miss
// per probe); any other key is serialized into a byte slab. Everything is
// pointer-free for the GC.
type groupTable struct {
	intKey    bool
	islots    []intSlot // intKey
	slots     []uint32  // byte keys: group id + 1; 0 = empty
	mask      uint64
	hashes    []uint64 // byte keys: per group
	nullGroup int32    // intKey: group of the NULL key, -1 = none
	slab      []byte   // serialized keys: group g is slab[offs[g]:offs[g+1]]
	offs      []int
	n         int
	// per-batch scratch
	hbuf  []uint64
	ibuf  []int64
	kbuf  []byte
	koffs []int
}

// intLike reports whether a key of type t takes the int64 fast path.
func intLike(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32,
		arrow.UINT64, arrow.DATE32, arrow.DATE64, arrow.TIMESTAMP, arrow.TIME32, arrow.TIME64,
		arrow.DURATION, arrow.DECIMAL32, arrow.DECIMAL64:
		return true
	}
	return false
}

// intSlot is a slot of the integer-key table: the key and its group id + 1
// (0 = empty).
type intSlot struct {
	key int64
	id  uint32
}

// newGroupTable sizes the table for about hint groups (0 = unknown), so a
// join build never rehashes.
func newGroupTable(intKey bool, hint int) *groupTable {
	t := &groupTable{intKey: intKey, nullGroup: -1}
	size := 1024
	for size < 2*hint {
		size *= 2
	}
	t.mask = uint64(size - 1)
	if intKey {
		t.islots = make([]intSlot, size)
		return t
	}
	t.slots = make([]uint32, size)
	t.offs = make([]int, 1, hint+1)
	t.hashes = make([]uint64, 0, hint)
	return t
}

// bytes is the memory the table holds.
func (t *groupTable) bytes() int64 {
	return int64(cap(t.islots))*16 + int64(cap(t.slots))*4 + int64(cap(t.hashes))*8 +
		int64(cap(t.slab)) + int64(cap(t.offs))*8 + int64(cap(t.hbuf))*8 + int64(cap(t.ibuf))*8 +
		int64(cap(t.kbuf)) + int64(cap(t.koffs))*8
}

func (t *groupTable) size() int {
	if t.intKey {
		return len(t.islots)
	}
	return len(t.slots)
}

func (t *groupTable) prepare(keys []arrow.Array, n int) {
	if cap(t.hbuf) < n {
		t.hbuf = make([]uint64, n)
	}
	t.hbuf = t.hbuf[:n]
	if t.intKey {
		if cap(t.ibuf) < n {
			t.ibuf = make([]int64, n)
		}
		t.ibuf = t.ibuf[:n]
		execution.IntKeyValues(keys[0], t.ibuf)
		for i, v := range t.ibuf {
			t.hbuf[i] = execution.HashInt(uint64(v))
		}
		return
	}
	execution.HashColumns(keys, 0, t.hbuf)
	t.kbuf, t.koffs = execution.EncodeKeys(keys, n, t.kbuf, t.koffs)
}

func (t *groupTable) grow() { t.rehash(t.size() * 2) }

// rehash moves every group to a table of size slots (a power of two).
func (t *groupTable) rehash(size int) {
	t.mask = uint64(size - 1)
	if t.intKey {
		old := t.islots
		t.islots = make([]intSlot, size)
		for _, s := range old {
			if s.id == 0 {
				continue
			}
			pos := execution.HashInt(uint64(s.key)) & t.mask
			for t.islots[pos].id != 0 {
				pos = (pos + 1) & t.mask
			}
			t.islots[pos] = s
		}
		return
	}
	t.slots = make([]uint32, size)
	for g, h := range t.hashes {
		pos := h & t.mask
		for t.slots[pos] != 0 {
			pos = (pos + 1) & t.mask
		}
		t.slots[pos] = uint32(g) + 1
	}
}

// insertChunk is how many rows insertAll inserts at a time, so the per-row
// scratch (hashes, int keys, encoded keys) stays small however big the input.
const insertChunk = 1 << 16

// insertAll is insert over n rows of any size (a join's whole build side):
// it inserts chunk by chunk and drops the scratch afterwards. The table
// should start small: after the first chunk it is sized once for the groups
// estimated from that chunk (see groupsEstimate), then grows as usual.
func (t *groupTable) insertAll(keys []arrow.Array, n int, ids []uint32) {
	part := make([]arrow.Array, len(keys))
	for off := 0; off < n; off += insertChunk {
		end := min(off+insertChunk, n)
		if off == 0 && end == n {
			copy(part, keys) // one chunk: no slices needed
		} else {
			for k, c := range keys {
				part[k] = array.NewSlice(c, int64(off), int64(end))
			}
		}
		t.insert(part, end-off, ids[off:end], nil)
		if end-off < n {
			releaseAll(part)
		}
		if off == 0 && end < n {
			// Room for the estimated groups at most half full, as grow keeps it.
			want := groupsEstimate(t.n, end, n)
			size := t.size()
			for size < 2*want {
				size *= 2
			}
			if size > t.size() {
				t.rehash(size)
			}
			if !t.intKey && t.n > 0 && want > t.n {
				// Room for the keys too, rather than growing by appends.
				more := want - t.n
				t.hashes = slices.Grow(t.hashes, more)
				t.offs = slices.Grow(t.offs, more)
				t.slab = slices.Grow(t.slab, len(t.slab)/t.n*more)
			}
		}
	}
	t.hbuf, t.ibuf, t.kbuf, t.koffs = nil, nil, nil, nil
}

// groupsEstimate guesses the distinct keys among n rows from the d
// distinct in their first m: the D whose expected distinct count in m
// draws from D equally likely keys, D(1-e^(-m/D)), is d — all n when the m
// rows were all distinct (a unique key). Keys in runs (lineitem by
// l_orderkey) make it guess low, which costs only the growing a table
// does anyway; guessing high (d*n/m over scattered repeats, o_custkey of
// orders) would cost ten times the memory.
func groupsEstimate(d, m, n int) int {
	f := func(D float64) float64 { return D * -math.Expm1(-float64(m)/D) }
	if d >= m || f(float64(n)) <= float64(d) {
		return n
	}
	lo, hi := float64(d), float64(n) // f(lo) <= d < f(hi); f increases
	for hi-lo > 1 && hi-lo > lo/64 {
		mid := (lo + hi) / 2
		if f(mid) < float64(d) {
			lo = mid
		} else {
			hi = mid
		}
	}
	return int(hi)
}

// insert writes the group id of every key row into ids (len n), creating
// groups as needed; rows that created a group are appended to newRows. NULL
// keys form one group.
func (t *groupTable) insert(keys []arrow.Array, n int, ids []uint32, newRows []int32) []int32 {
	t.prepare(keys, n)
	if t.intKey {
		col := keys[0]
		nulls := col.NullN() > 0
		// Keys often come in runs (input clustered on the key, e.g. lineitem
		// by l_orderkey): a repeat of the previous key skips the probe and
		// its likely cache miss.
		var prev int64
		prevID := uint32(0) // group id + 1 of prev; 0 = none yet
		for i := 0; i < n; i++ {
			if nulls && col.IsNull(i) {
				if t.nullGroup < 0 {
					// NULL takes a group but no slot.
					t.nullGroup = int32(t.n)
					t.n++
					newRows = append(newRows, int32(i))
				}
				ids[i] = uint32(t.nullGroup)
				continue
			}
			v := t.ibuf[i]
			if prevID != 0 && v == prev {
				ids[i] = prevID - 1
				continue
			}
			prev = v
			pos := t.hbuf[i] & t.mask
			for {
				s := &t.islots[pos]
				if s.id == 0 {
					g := uint32(t.n)
					s.key, s.id = v, g+1
					t.n++
					newRows = append(newRows, int32(i))
					ids[i] = g
					if 2*t.n > len(t.islots) {
						t.grow()
					}
					break
				}
				if s.key == v {
					ids[i] = s.id - 1
					break
				}
				pos = (pos + 1) & t.mask
			}
			prevID = ids[i] + 1
		}
		return newRows
	}
	for i := 0; i < n; i++ {
		h := t.hbuf[i]
		key := t.kbuf[t.koffs[i]:t.koffs[i+1]]
		pos := h & t.mask
		for {
			s := t.slots[pos]
			if s == 0 {
				g := uint32(t.n)
				t.slots[pos] = g + 1
				t.hashes = append(t.hashes, h)
				t.slab = append(t.slab, key...)
				t.offs = append(t.offs, len(t.slab))
				t.n++
				newRows = append(newRows, int32(i))
				ids[i] = g
				if 2*t.n > len(t.slots) {
					t.grow()
				}
				break
			}
			g := s - 1
			if t.hashes[g] == h && bytes.Equal(t.slab[t.offs[g]:t.offs[g+1]], key) {
				ids[i] = g
				break
			}
			pos = (pos + 1) & t.mask
		}
	}
	return newRows
}

// find writes group id + 1 of every key row into ids, 0 when the key is
// absent or a key column is NULL where nullEq (nil = none) does not make
// NULL match NULL.
func (t *groupTable) find(keys []arrow.Array, nullEq []bool, n int, ids []uint32) {
	t.prepare(keys, n)
	nulls := false
	for _, k := range keys {
		nulls = nulls || k.NullN() > 0
	}
	// As in insert, a run of one key probes once.
	var prev int64
	var prevID uint32 // what prev found
	prevOK := false
	for i := 0; i < n; i++ {
		ids[i] = 0
		if nulls && strictNull(keys, nullEq, i) {
			continue
		}
		h := t.hbuf[i]
		pos := h & t.mask
		if t.intKey {
			if nulls && keys[0].IsNull(i) {
				ids[i] = uint32(t.nullGroup + 1) // 0 when the build side has no NULL
				continue
			}
			v := t.ibuf[i]
			if prevOK && v == prev {
				ids[i] = prevID
				continue
			}
			for s := &t.islots[pos]; s.id != 0; s = &t.islots[pos] {
				if s.key == v {
					ids[i] = s.id
					break
				}
				pos = (pos + 1) & t.mask
			}
			prev, prevID, prevOK = v, ids[i], true
			continue
		}
		key := t.kbuf[t.koffs[i]:t.koffs[i+1]]
		for s := t.slots[pos]; s != 0; s = t.slots[pos] {
			g := s - 1
			if t.hashes[g] == h && bytes.Equal(t.slab[t.offs[g]:t.offs[g+1]], key) {
				ids[i] = s
				break
			}
			pos = (pos + 1) & t.mask
		}
	}
}

// strictNull reports whether row i has a NULL in a key compared with plain
// equality (nullEq[k] false or nullEq nil), so it can match nothing.
func strictNull(cols []arrow.Array, nullEq []bool, i int) bool {
	for k, c := range cols {
		if c.IsNull(i) && (nullEq == nil || !nullEq[k]) {
			return true
		}
	}
	return false
}

func anyNull(cols []arrow.Array, i int) bool {
	for _, c := range cols {
		if c.IsNull(i) {
			return true
		}
	}
	return false
}
