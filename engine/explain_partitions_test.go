package engine

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"go.uber.org/zap/zaptest"
)

// EXPLAIN shows the partition count and why: every slot for a big enough
// input, fewer (here one) when the largest table is small next to
// --partition-rows.
func TestExplainPartitionCount(t *testing.T) {
	for _, c := range []struct {
		rows int64
		want string
	}{
		{100_000, "partitions=1 (slots=4, largest input 60175 rows, 100000 rows per partition)"},
		{20_000, "partitions=4 (slots=4, largest input 60175 rows, 20000 rows per partition)"},
		{30_000, "partitions=3 (slots=4, largest input 60175 rows, 30000 rows per partition)"},
		{0, "partitions=4 (slots=4)"},
	} {
		e, err := New(context.Background(), Config{
			DataDir: filepath.Join("..", "testdata", "tpch-sf0.01"), DefaultSchema: "tpch", Parallelism: 4, PartitionRows: c.rows,
		}, zaptest.NewLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(run(t, e, e.NewSession(), "EXPLAIN SELECT l_returnflag, COUNT(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey GROUP BY l_returnflag"), "\n")
		if !strings.Contains(text, c.want) {
			t.Errorf("--partition-rows %d: EXPLAIN lacks %q:\n%s", c.rows, c.want, text)
		}
		e.Close()
	}
}
