package integration

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/quiverdb/quiver/execution"
)

// BenchmarkTPCH runs each TPC-H query through the engine API (no Flight),
// over QUIVER_TPCH_DIR when set (e.g. /tmp/tpch-sf1), else SF 0.01. One
// query at a time with a CPU profile:
//
//	QUIVER_TPCH_DIR=/tmp/tpch-sf1 go test ./integration -run XXX \
//	    -bench 'BenchmarkTPCH/q18$' -benchtime 3x -cpuprofile /tmp/q18.prof
func BenchmarkTPCH(b *testing.B) {
	dataDir := sf001
	if d := os.Getenv("QUIVER_TPCH_DIR"); d != "" {
		dataDir = d
	}
	eng := newEngine(b, dataDir, "tpch")
	ctx := context.Background()
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		b.Run(name, func(b *testing.B) {
			sql := readQuery(b, name)
			var rows int64
			for i := 0; i < b.N; i++ {
				res, err := eng.Execute(ctx, eng.NewSession(), sql, nil)
				if err != nil {
					b.Fatal(err)
				}
				if rows, err = drainRows(ctx, res.Stream); err != nil {
					b.Fatal(err)
				}
			}
			if rows == 0 {
				b.Fatalf("%s returned no rows", name)
			}
			b.ReportMetric(float64(rows), "rows")
		})
	}
}

func drainRows(ctx context.Context, s execution.Stream) (int64, error) {
	defer s.Close()
	var n int64
	for {
		rb, err := s.Next(ctx)
		if errors.Is(err, execution.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n += rb.NumRows()
		rb.Release()
	}
}
