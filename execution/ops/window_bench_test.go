package ops

import (
	"context"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
)

// BenchmarkWindow: ROW_NUMBER, a running SUM and LAG over 200k rows, in
// 1000 partitions or one, in memory and (one partition) spilled under an
// 8 MiB limit.
func BenchmarkWindow(b *testing.B) {
	x, v, s := col{1, i64}, col{2, i64}, col{3, str}
	o := []expr.SortKey{{Expr: x}}
	specs := func(part []expr.Expr) []WindowSpec {
		return []WindowSpec{
			{Func: "row_number", PartitionBy: part, OrderBy: o, Type: arrow.PrimitiveTypes.Uint64},
			{Func: "sum", Args: []expr.Expr{v}, PartitionBy: part, OrderBy: o, Type: dec380},
			{Func: "lag", Args: []expr.Expr{s}, PartitionBy: part, OrderBy: o, Type: str},
		}
	}
	many := make([]int, 1000)
	for i := range many {
		many[i] = 200
	}
	for _, c := range []struct {
		name  string
		part  []expr.Expr
		parts []int
		limit int64
	}{
		{"1000 partitions in memory", []expr.Expr{col{0, i64}}, many, 0},
		{"one partition in memory", nil, []int{200_000}, 0},
		{"one partition spilled 8MiB", nil, []int{200_000}, 8 << 20},
	} {
		b.Run(c.name, func(b *testing.B) {
			sp := specs(c.part)
			// The input is made once: the window's work is measured.
			in, err := execution.Collect(context.Background(), &winGen{mem: memory.NewGoAllocator(), parts: c.parts})
			if err != nil {
				b.Fatal(err)
			}
			defer releaseBatches(in)
			dir := b.TempDir()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				for _, r := range in {
					r.Retain()
				}
				tc := &execution.TaskContext{Alloc: execution.NewQueryAllocator(memory.NewGoAllocator(), c.limit), SpillDir: dir}
				w, err := NewWindow(tc, execution.NewBatchStream(winSchema, slices.Clone(in)), sp, winOut(sp))
				if err != nil {
					b.Fatal(err)
				}
				for {
					r, err := w.Next(context.Background())
					if err == execution.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					r.Release()
				}
				w.Close()
			}
		})
	}
}
