package engine

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/quiverdb/quiver/qerr"
)

// TestFailedQueryMemorySettled: a kernel that panics mid-query (here the
// allocator's limit panic, recovered by Instrument) drops the buffers it had
// made without freeing them; the engine must settle that query's accounting
// when it ends so later queries do not see it in MemoryInUse.
func TestFailedQueryMemorySettled(t *testing.T) {
	ctx := context.Background()
	e, err := New(ctx, Config{
		DataDir:          filepath.Join("..", "testdata", "tpch-sf0.01"),
		DefaultSchema:    "tpch",
		QueryMemoryLimit: 1 << 20,
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession()
	for i := 0; i < 3; i++ {
		for _, q := range []string{
			"SELECT upper(l_comment), concat(l_comment, l_shipinstruct) FROM lineitem",
			"SELECT * FROM lineitem JOIN orders ON l_orderkey = o_orderkey",
		} {
			res, err := e.Execute(ctx, s, q, nil)
			if err == nil {
				_, err = drain(ctx, res.Stream)
			}
			if qerr.KindOf(err) != qerr.ResourceExhausted {
				t.Fatalf("%s: %v, want the memory limit error", q, err)
			}
			if m := e.MemoryInUse(); m != 0 {
				t.Fatalf("%s: %d bytes still in use after the failed query", q, m)
			}
		}
	}
	if e.MemoryLost() == 0 {
		t.Fatal("no failed query lost memory: the test no longer exercises settling")
	}
	// A query that succeeds afterwards starts and ends at zero.
	lost := e.MemoryLost()
	if got := run(t, e, s, "SELECT count(*) FROM nation"); len(got) != 1 || got[0] != "25" {
		t.Fatalf("count(*) FROM nation = %v", got)
	}
	if m, l := e.MemoryInUse(), e.MemoryLost()-lost; m != 0 || l != 0 {
		t.Fatalf("after a successful query: %d bytes in use, %d lost", m, l)
	}
}
