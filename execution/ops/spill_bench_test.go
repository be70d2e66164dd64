package ops

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
)

// BenchmarkSortSpill sorts 500k generated rows (string key, then id) in
// memory and under a 8 MiB limit (external: runs on disk, merged).
func BenchmarkSortSpill(b *testing.B) {
	keys := []expr.SortKey{{Expr: col{2, str}}, {Expr: col{0, i64}}}
	for _, c := range []struct {
		name  string
		limit int64
	}{{"memory", 0}, {"spill", 8 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			var files int64
			for i := 0; i < b.N; i++ {
				tc := tctx(memory.NewGoAllocator(), c.limit)
				tc.SpillDir = b.TempDir()
				tc.Metrics = execution.NewMetricsSet()
				op := tc.Operator("sort")
				s := NewSort(op, newGen(op.Mem(), 500_000), keys, -1)
				for {
					bt, err := s.Next(context.Background())
					if err == execution.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					bt.Release()
				}
				s.Close()
				m, _ := tc.Metrics.Get("sort")
				files = m.SpillFiles
			}
			b.ReportMetric(float64(files), "runs")
		})
	}
}
