package ops

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution/expr"
)

func TestWindowFunctions(t *testing.T) {
	u64, f64 := arrow.PrimitiveTypes.Uint64, arrow.PrimitiveTypes.Float64
	p, o := []expr.Expr{col{0, str}}, []expr.SortKey{{Expr: col{1, i64}}}
	cases := []struct {
		name string
		spec WindowSpec
		want []string
	}{
		{"row_number", WindowSpec{Func: "row_number", PartitionBy: p, OrderBy: o, Type: u64}, []string{"1", "2", "3", "4", "1", "2"}},
		{"rank", WindowSpec{Func: "rank", PartitionBy: p, OrderBy: o, Type: u64}, []string{"1", "2", "2", "4", "1", "2"}},
		{"dense_rank", WindowSpec{Func: "dense_rank", PartitionBy: p, OrderBy: o, Type: u64}, []string{"1", "2", "2", "3", "1", "2"}},
		{"running sum with peers", WindowSpec{Func: "sum", Args: []expr.Expr{col{1, i64}}, PartitionBy: p, OrderBy: o, Type: dec380},
			[]string{"1", "5", "5", "9", "10", "30"}},
		{"whole partition count", WindowSpec{Func: "count_star", PartitionBy: p, Type: i64}, []string{"4", "4", "4", "4", "2", "2"}},
		{"rows 1 preceding", WindowSpec{Func: "sum", Args: []expr.Expr{col{1, i64}}, PartitionBy: p, OrderBy: o, Type: dec380,
			Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: Preceding, Offset: 1}, End: FrameBound{Kind: CurrentRow}}},
			[]string{"1", "3", "4", "6", "10", "30"}},
		{"suffix max", WindowSpec{Func: "max", Args: []expr.Expr{col{1, i64}}, PartitionBy: p, OrderBy: o, Type: i64,
			Frame: &WindowFrame{Rows: true, Start: FrameBound{Kind: CurrentRow}, End: FrameBound{Kind: UnboundedFollowing}}},
			[]string{"4", "4", "4", "4", "20", "20"}},
		{"lag default", WindowSpec{Func: "lag", Args: []expr.Expr{col{1, i64}, lit64(1), lit64(-1)}, PartitionBy: p, OrderBy: o, Type: i64},
			[]string{"-1", "1", "2", "2", "-1", "10"}},
		{"lead", WindowSpec{Func: "lead", Args: []expr.Expr{col{1, i64}}, PartitionBy: p, OrderBy: o, Type: i64},
			[]string{"2", "2", "4", "(null)", "20", "(null)"}},
		{"last_value default frame", WindowSpec{Func: "last_value", Args: []expr.Expr{col{1, i64}}, PartitionBy: p, OrderBy: o, Type: i64},
			[]string{"1", "2", "2", "4", "10", "20"}},
		{"cume_dist", WindowSpec{Func: "cume_dist", PartitionBy: p, OrderBy: o, Type: f64}, []string{"0.25", "0.75", "0.75", "1", "0.5", "1"}},
		{"ntile", WindowSpec{Func: "ntile", Args: []expr.Expr{lit64(3)}, PartitionBy: p, OrderBy: o, Type: u64}, []string{"1", "1", "2", "3", "1", "2"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			s := schemaOf(str, i64)
			in := stream(s, batch(mem, s, []any{"a", 1}, []any{"a", 2}, []any{"a", 2}),
				batch(mem, s, []any{"a", 4}, []any{"b", 10}, []any{"b", 20}))
			w, err := NewWindow(tctx(mem, 0), in, []WindowSpec{c.spec}, schemaOf(str, i64, c.spec.Type))
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rowsOf(t, w, false) {
				got = append(got, r[len("a|1|"):])
				if r[0] == 'b' {
					got[len(got)-1] = r[len("b|10|"):]
				}
			}
			eq(t, got, c.want)
		})
	}
}

// lit64 is a test-only int64 constant column.
type lit64 int64

func (lit64) DataType() arrow.DataType { return i64 }
func (l lit64) String() string         { return "lit" }
func (l lit64) Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	bb := newI64(mem)
	defer bb.Release()
	for i := 0; i < int(b.NumRows()); i++ {
		bb.Append(int64(l))
	}
	return bb.NewArray(), nil
}
