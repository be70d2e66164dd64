package ops

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
)

// BenchmarkJoinSpill joins 200k generated probe rows with a 500k-row build
// side (2 rows per key, strings) in memory and under an 8 MiB limit
// (grace hash join: both sides partitioned to disk, pairs joined).
func BenchmarkJoinSpill(b *testing.B) {
	for _, c := range []struct {
		name  string
		limit int64
	}{{"memory", 0}, {"spill", 8 << 20}} {
		b.Run(c.name, func(b *testing.B) {
			var m execution.OperatorMetrics
			var rows int64
			for i := 0; i < b.N; i++ {
				tc := tctx(memory.NewGoAllocator(), c.limit)
				tc.SpillDir = b.TempDir()
				tc.Metrics = execution.NewMetricsSet()
				op := tc.Operator("join")
				probe := &joinGen{mem: op.Mem(), rows: 200_000, seed: 1, keys: 250_000}
				build := &joinGen{mem: op.Mem(), rows: 500_000, seed: 2, keys: 250_000}
				j, err := NewHashJoin(op, probe, build, InnerJoin, []expr.Expr{col{0, i64}}, []expr.Expr{col{0, i64}}, nil, false, spillJoinCase{typ: InnerJoin}.out())
				if err != nil {
					b.Fatal(err)
				}
				rows = 0
				for {
					bt, err := j.Next(context.Background())
					if err == execution.EOF {
						break
					}
					if err != nil {
						b.Fatal(err)
					}
					rows += bt.NumRows()
					bt.Release()
				}
				j.Close()
				m, _ = tc.Metrics.Get("join")
			}
			b.ReportMetric(float64(rows), "rows")
			b.ReportMetric(float64(m.SpillFiles), "files")
			b.ReportMetric(float64(m.SpilledBytes)/(1<<20), "spilledMiB")
		})
	}
}
