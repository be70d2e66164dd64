package execution

import (
	"bytes"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestEncodeKeys: rows with equal SQL values encode equally whatever the
// array layout (slice offset, String vs LargeString, dictionary); rows that
// differ — including NULL vs ” and values split differently across two
// columns — encode differently.
func TestEncodeKeys(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	fromJSON := func(typ arrow.DataType, js string) arrow.Array {
		a, _, err := array.FromJSON(mem, typ, strings.NewReader(js))
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	// Rows: ("a","bc",1) ("ab","c",1) (NULL,"",1) ("","",1) ("a","bc",NULL)
	s1full := fromJSON(arrow.BinaryTypes.String, `["zz", "a", "ab", null, "", "a"]`)
	defer s1full.Release()
	s1 := array.NewSlice(s1full, 1, 6)
	defer s1.Release()
	s2 := fromJSON(arrow.BinaryTypes.LargeString, `["bc", "c", "", "", "bc"]`)
	defer s2.Release()
	n3 := fromJSON(arrow.PrimitiveTypes.Int32, `[1, 1, 1, 1, null]`)
	defer n3.Release()
	buf, offs := EncodeKeys([]arrow.Array{s1, s2, n3}, 5, nil, nil)
	key := func(i int) []byte { return buf[offs[i]:offs[i+1]] }
	for i := 0; i < 5; i++ {
		for j := i + 1; j < 5; j++ {
			if bytes.Equal(key(i), key(j)) {
				t.Errorf("rows %d and %d encode equally: %x", i, j, key(i))
			}
		}
	}
	// The same values in other layouts: String instead of LargeString,
	// Int64 instead of Int32, an unsliced first column.
	t1 := fromJSON(arrow.BinaryTypes.String, `["a", "ab", null, "", "a"]`)
	defer t1.Release()
	t2 := fromJSON(arrow.BinaryTypes.String, `["bc", "c", "", "", "bc"]`)
	defer t2.Release()
	t3 := fromJSON(arrow.PrimitiveTypes.Int64, `[1, 1, 1, 1, null]`)
	defer t3.Release()
	buf2, offs2 := EncodeKeys([]arrow.Array{t1, t2, t3}, 5, nil, nil)
	for i := 0; i < 5; i++ {
		if !bytes.Equal(key(i), buf2[offs2[i]:offs2[i+1]]) {
			t.Errorf("row %d: %x vs %x across layouts", i, key(i), buf2[offs2[i]:offs2[i+1]])
		}
	}
}

// Row i's key spans offs[i]:offs[i+1] exactly: a non-NULL integer takes a
// marker byte and 8 bytes, a NULL its marker only, a string its marker, a
// 4-byte length and its bytes; reused buffers give the same result.
func TestEncodeKeysOffsets(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ib := array.NewInt64Builder(mem)
	ib.AppendValues([]int64{1, 2, 3}, []bool{true, false, true})
	ints := ib.NewArray()
	ib.Release()
	defer ints.Release()
	sb := array.NewStringBuilder(mem)
	sb.AppendValues([]string{"", "abc", "z"}, nil)
	strs := sb.NewArray()
	sb.Release()
	defer strs.Release()
	want := []int{0, 9 + 5, 9 + 5 + 1 + 8, 9 + 5 + 1 + 8 + 9 + 6}
	var buf []byte
	var offs []int
	for range 2 {
		buf, offs = EncodeKeys([]arrow.Array{ints, strs}, 3, buf, offs)
		if len(offs) != len(want) || len(buf) != want[3] {
			t.Fatalf("offs %v, %d bytes; want %v, %d bytes", offs, len(buf), want, want[3])
		}
		for i := range want {
			if offs[i] != want[i] {
				t.Fatalf("offs %v, want %v", offs, want)
			}
		}
	}
}
