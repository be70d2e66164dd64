package accum

import (
	"math"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func ints(mem memory.Allocator, v []int64, valid []bool) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	b.AppendValues(v, valid)
	return b.NewArray()
}

func strs(mem memory.Allocator, v ...string) arrow.Array {
	b := array.NewStringBuilder(mem)
	defer b.Release()
	b.AppendValues(v, nil)
	return b.NewArray()
}

func run(t *testing.T, mem memory.Allocator, s Spec, groups []uint32, n int, args ...arrow.Array) []string {
	t.Helper()
	s.Mem = mem
	a, err := New(s)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Release()
	a.Resize(n)
	if err := a.Update(groups, args); err != nil {
		t.Fatal(err)
	}
	f, err := a.Final(mem)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	out := make([]string, f.Len())
	for i := range out {
		out[i] = f.ValueStr(i)
	}
	return out
}

func same(t *testing.T, got []string, want ...string) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %v want %v", got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("got %v want %v", got, want)
		}
	}
}

func TestAccumulators(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := []uint32{0, 1, 0, 1, 0, 2}
	v := ints(mem, []int64{3, 5, 3, 1, 6, 0}, []bool{true, true, true, true, true, false})
	defer v.Release()
	i64, f64, u64 := arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64, arrow.PrimitiveTypes.Uint64
	same(t, run(t, mem, Spec{Func: "count", ArgTypes: []arrow.DataType{i64}, Result: i64, Distinct: true}, g, 3, v), "2", "2", "0")
	same(t, run(t, mem, Spec{Func: "sum", ArgTypes: []arrow.DataType{i64}, Result: &arrow.Decimal128Type{Precision: 38}, Distinct: true}, g, 3, v), "9", "6", "(null)")
	same(t, run(t, mem, Spec{Func: "avg", ArgTypes: []arrow.DataType{i64}, Result: &arrow.Decimal128Type{Precision: 38, Scale: 4}}, g, 3, v), "4", "3", "(null)")
	same(t, run(t, mem, Spec{Func: "bit_or", ArgTypes: []arrow.DataType{i64}, Result: u64}, g, 3, v), "7", "5", "0")
	same(t, run(t, mem, Spec{Func: "bit_and", ArgTypes: []arrow.DataType{i64}, Result: u64}, g, 3, v), "2", "1", "18446744073709551615")
	same(t, run(t, mem, Spec{Func: "any_value", ArgTypes: []arrow.DataType{i64}, Result: i64}, g, 3, v), "3", "5", "(null)")

	fb := array.NewFloat64Builder(mem)
	fb.AppendValues([]float64{2, 4, 4, 4, 5, 5, 7, 9}, nil)
	fa := fb.NewArray()
	fb.Release()
	defer fa.Release()
	zeros := make([]uint32, 8)
	got := run(t, mem, Spec{Func: "stddev", ArgTypes: []arrow.DataType{f64}, Result: f64}, zeros, 1, fa)
	same(t, got, "2")
	got = run(t, mem, Spec{Func: "var_samp", ArgTypes: []arrow.DataType{f64}, Result: f64}, zeros, 1, fa)
	if got[0][:5] != "4.571" {
		t.Errorf("var_samp = %s", got[0])
	}

	s := strs(mem, "b", "x", "a", "y", "b", "z")
	defer s.Release()
	str := arrow.BinaryTypes.String
	same(t, run(t, mem, Spec{Func: "group_concat", ArgTypes: []arrow.DataType{str}, Result: str, Separator: ","}, g, 3, s), "b,a,b", "x,y", "z")
	same(t, run(t, mem, Spec{Func: "group_concat", ArgTypes: []arrow.DataType{str}, Result: str, Separator: ";", Distinct: true}, g, 3, s), "b;a", "x;y", "z")
	// ORDER BY the int column descending (NULL last).
	same(t, run(t, mem, Spec{Func: "group_concat", ArgTypes: []arrow.DataType{str, i64}, Result: str, Separator: ",",
		OrderDesc: []bool{true}, OrderNullsFirst: []bool{false}}, g, 3, s, v), "b,b,a", "x,y", "z")
	same(t, run(t, mem, Spec{Func: "max", ArgTypes: []arrow.DataType{str}, Result: str}, g, 3, s), "b", "y", "z")
}

func TestSumExact128AndMerge(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	// int64 values whose sum overflows int64 stay exact.
	v := ints(mem, []int64{math.MaxInt64, math.MaxInt64, 2}, nil)
	defer v.Release()
	dt := &arrow.Decimal128Type{Precision: 38}
	got := run(t, mem, Spec{Func: "sum", ArgTypes: []arrow.DataType{arrow.PrimitiveTypes.Int64}, Result: dt}, []uint32{0, 0, 0}, 1, v)
	same(t, got, "18446744073709551616")

	// Partial states merge to the same average: avg(decimal(15,2)) → scale 6.
	d := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	db := array.NewDecimal128Builder(mem, d)
	for _, x := range []int64{100, 250, -5} {
		db.Append(decimal128.FromI64(x))
	}
	da := db.NewArray()
	db.Release()
	defer da.Release()
	spec := Spec{Func: "avg", ArgTypes: []arrow.DataType{d}, Result: &arrow.Decimal128Type{Precision: 38, Scale: 6}, Mem: mem}
	p, _ := New(spec)
	p.Resize(1)
	if err := p.Update([]uint32{0, 0, 0}, []arrow.Array{da}); err != nil {
		t.Fatal(err)
	}
	st, err := p.State(mem)
	if err != nil {
		t.Fatal(err)
	}
	f, _ := New(spec)
	f.Resize(1)
	if err := f.Merge([]uint32{0}, st); err != nil {
		t.Fatal(err)
	}
	for _, a := range st {
		a.Release()
	}
	r, _ := f.Final(mem)
	defer r.Release()
	if r.ValueStr(0) != "1.15" { // (1.00 + 2.50 - 0.05) / 3 = 1.15
		t.Fatalf("avg = %s", r.ValueStr(0))
	}
}
