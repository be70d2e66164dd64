package execution

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestTake checks the typed gather against row-by-row slicing on every fast-path type, with source NULLs, a sliced source (non-zero
// offset), repeated indices and negative (NULL) indices.
func TestTake(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cases := []struct {
		typ  arrow.DataType
		json string
	}{
		{arrow.PrimitiveTypes.Int64, `[1, null, -3, 4, 5, 6]`},
		{arrow.PrimitiveTypes.Int32, `[1, null, -3, 4, 5, 6]`},
		{arrow.PrimitiveTypes.Int16, `[1, null, -3, 4, 5, 6]`},
		{arrow.PrimitiveTypes.Uint8, `[1, null, 3, 4, 255, 6]`},
		{arrow.PrimitiveTypes.Float64, `[1.5, null, -3, 4, 5, 6e10]`},
		{arrow.PrimitiveTypes.Float32, `[1.5, null, -3, 4, 5, 6]`},
		{arrow.FixedWidthTypes.Date32, `[1, null, 3, 4, 5, 6]`},
		{arrow.FixedWidthTypes.Timestamp_us, `[1, null, 3, 4, 5, 6]`},
		{&arrow.Decimal128Type{Precision: 15, Scale: 2}, `["1.25", null, "-3.00", "4.10", "5", "99999.99"]`},
		{&arrow.Decimal64Type{Precision: 15, Scale: 2}, `["1.25", null, "-3.00", "4.10", "5", "99999.99"]`},
		{arrow.FixedWidthTypes.Boolean, `[true, null, false, true, false, true]`},
		{arrow.BinaryTypes.String, `["a", null, "", "dddd", "eeeee", "ffffff"]`},
		{arrow.BinaryTypes.LargeString, `["a", null, "", "dddd", "eeeee", "ffffff"]`},
		{arrow.BinaryTypes.Binary, `["YQ==", null, "", "ZGRkZA==", "ZQ==", "Zg=="]`},
		// Fallback path.
		{arrow.ListOf(arrow.PrimitiveTypes.Int64), `[[1], null, [], [4, 4], [5], [6]]`},
	}
	idxs := [][]int32{
		{0, 1, 2, 3, 4},
		{4, 4, 0, -1, 2, 1, -1},
		{3},
		{-1, -1},
		{},
	}
	for _, c := range cases {
		full, _, err := array.FromJSON(mem, c.typ, strings.NewReader(c.json))
		if err != nil {
			t.Fatalf("%s: %v", c.typ, err)
		}
		src := array.NewSlice(full, 1, 6) // offset 1, 5 rows
		full.Release()
		for _, idx := range idxs {
			got, err := Take(mem, src, idx)
			if err != nil {
				t.Fatalf("%s %v: %v", c.typ, idx, err)
			}
			want := referenceTake(t, mem, src, idx)
			if !array.Equal(got, want) || got.NullN() != want.NullN() {
				t.Errorf("%s take %v = %v, want %v", c.typ, idx, got, want)
			}
			got.Release()
			want.Release()
		}
		src.Release()
	}
}

// referenceTake gathers row by row: one-row slices (or a NULL) concatenated.
func referenceTake(t *testing.T, mem memory.Allocator, src arrow.Array, idx []int32) arrow.Array {
	if len(idx) == 0 {
		return array.NewSlice(src, 0, 0)
	}
	parts := make([]arrow.Array, len(idx))
	for i, v := range idx {
		if v < 0 {
			parts[i] = array.MakeArrayOfNull(mem, src.DataType(), 1)
		} else {
			parts[i] = array.NewSlice(src, int64(v), int64(v)+1)
		}
	}
	out, err := array.Concatenate(parts, mem)
	for _, p := range parts {
		p.Release()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func computeTake(b *testing.B, mem memory.Allocator, src arrow.Array, idx []int32) arrow.Array {
	ib := array.NewInt32Builder(mem)
	defer ib.Release()
	ib.AppendValues(idx, nil)
	ia := ib.NewArray()
	defer ia.Release()
	out, err := compute.TakeArray(compute.WithAllocator(context.Background(), mem), src, ia)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

func BenchmarkTake(b *testing.B) {
	mem := memory.NewGoAllocator()
	const n = 8192
	ib := array.NewInt64Builder(mem)
	sb := array.NewStringBuilder(mem)
	for i := 0; i < 4*n; i++ {
		ib.Append(int64(i))
		sb.Append("Customer#0000" + string(rune('a'+i%26)))
	}
	ints, strs := ib.NewArray(), sb.NewArray()
	defer ints.Release()
	defer strs.Release()
	idx := make([]int32, n)
	for i := range idx {
		idx[i] = int32((i * 7919) % (4 * n))
	}
	for _, c := range []struct {
		name string
		col  arrow.Array
	}{{"int64", ints}, {"string", strs}} {
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				out, err := Take(mem, c.col, idx)
				if err != nil {
					b.Fatal(err)
				}
				out.Release()
			}
		})
		b.Run(c.name+"/compute", func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				computeTake(b, mem, c.col, idx).Release()
			}
		})
	}
}

func TestSelectTrue(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	full, _, err := array.FromJSON(mem, arrow.FixedWidthTypes.Boolean,
		strings.NewReader(`[true, true, null, false, true, null, true, false, false, true, true]`))
	if err != nil {
		t.Fatal(err)
	}
	defer full.Release()
	// Offset 1 (not byte aligned): rows 0..9 are true null false true null true false false true true.
	mask := array.NewSlice(full, 1, 11).(*array.Boolean)
	defer mask.Release()
	got := SelectTrue(mask, []int32{42})
	want := []int32{42, 0, 3, 5, 8, 9}
	if len(got) != len(want) {
		t.Fatalf("SelectTrue = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("SelectTrue = %v, want %v", got, want)
		}
	}
}

// Without NULLs SelectTrue walks whole bytes: every offset and length
// (prefix, whole bytes, tail) must give the rows a bit-by-bit walk gives.
func TestSelectTrueNoNulls(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	for i := 0; i < 300; i++ {
		b.Append((i*7)%5 == 0 || (i >= 100 && i < 140) || i%31 == 3)
	}
	full := b.NewBooleanArray()
	defer full.Release()
	for off := 0; off < 17; off++ {
		for _, n := range []int{0, 1, 5, 8, 9, 63, 64, 100, 300 - off} {
			mask := array.NewSlice(full, int64(off), int64(off+n)).(*array.Boolean)
			var want []int32
			for i := 0; i < n; i++ {
				if mask.Value(i) {
					want = append(want, int32(i))
				}
			}
			got := SelectTrue(mask, nil)
			mask.Release()
			if len(got) != len(want) {
				t.Fatalf("offset %d length %d: %d rows selected, want %d", off, n, len(got), len(want))
			}
			for i := range want {
				if got[i] != want[i] {
					t.Fatalf("offset %d length %d: row %d is %d, want %d", off, n, i, got[i], want[i])
				}
			}
		}
	}
}
