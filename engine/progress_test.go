package engine

import (
	"context"
	"path/filepath"
	"sync"
	"testing"

	"go.uber.org/zap/zaptest"
)

func TestProgressCountsEveryTask(t *testing.T) {
	e, err := New(context.Background(), Config{
		DataDir: filepath.Join("..", "testdata", "tpch-sf0.01"), DefaultSchema: "tpch", Parallelism: 4,
	}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession()
	var (
		mu    sync.Mutex
		calls [][2]int
	)
	ctx := WithProgress(context.Background(), func(done, total int) {
		mu.Lock()
		calls = append(calls, [2]int{done, total})
		mu.Unlock()
	})
	// Three stages, 3 + 4 + 1 tasks.
	sql := "SELECT k % 3, COUNT(*) FROM (SELECT l_orderkey AS k FROM lineitem UNION ALL SELECT o_orderkey FROM orders UNION ALL SELECT c_custkey FROM customer) t GROUP BY 1 ORDER BY 1"
	res, err := e.Execute(ctx, s, sql, nil)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for {
		b, err := res.Stream.Next(ctx)
		if err != nil {
			break
		}
		n += int(b.NumRows())
		b.Release()
	}
	res.Stream.Close()
	if n != 3 {
		t.Fatalf("rows %d, want 3", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(calls) < 3 {
		t.Fatalf("progress calls %v: want a start and one per task", calls)
	}
	total := calls[0][1]
	if calls[0][0] != 0 || total < 2 {
		t.Fatalf("first call %v, want done 0 of a multi-task query", calls[0])
	}
	if len(calls) != total+1 {
		t.Errorf("%d calls for %d tasks", len(calls), total)
	}
	if last := calls[len(calls)-1]; last != [2]int{total, total} {
		t.Errorf("last call %v, want %d/%d", last, total, total)
	}
	// Without WithProgress nothing is wrapped: the same query runs unchanged.
	if got := run(t, e, s, sql); len(got) != 3 {
		t.Errorf("without progress: %v", got)
	}
}
