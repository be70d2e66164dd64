package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap/zaptest"
)

// partitionedQuery has a hash exchange: its final stage has one partition
// per slot. Its boolean column comes back as BIGINT.
const partitionedQuery = "SELECT l_suppkey, COUNT(*) AS n, l_suppkey % 2 = 0 AS even FROM lineitem GROUP BY l_suppkey"

// partitionEngine serves tpch.lineitem as a table of three files (one per
// statement), so a scan of it has several partitions.
func partitionEngine(t *testing.T) (*Engine, *Session) {
	t.Helper()
	dir := t.TempDir()
	src, err := filepath.Abs(filepath.Join("..", "testdata", "tpch-sf0.01", "tpch", "lineitem.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "src"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(src, filepath.Join(dir, "src", "lineitem.parquet")); err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), Config{DataDir: dir, DefaultSchema: "tpch", Parallelism: 4}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	s := e.NewSession()
	run(t, e, s, "CREATE TABLE lineitem AS SELECT * FROM src.lineitem WHERE l_orderkey % 3 = 0")
	run(t, e, s, "INSERT INTO lineitem SELECT * FROM src.lineitem WHERE l_orderkey % 3 = 1")
	run(t, e, s, "INSERT INTO lineitem SELECT * FROM src.lineitem WHERE l_orderkey % 3 = 2")
	return e, s
}

// readPartition opens and drains one partition; stop > 0 closes it after
// that many batches.
func readPartition(t *testing.T, e *Engine, ref PartitionRef, stop int) (*arrow.Schema, []string, error) {
	t.Helper()
	res, err := e.OpenPartition(context.Background(), ref)
	if err != nil {
		return nil, nil, err
	}
	defer res.Stream.Close()
	var rows []string
	for n := 1; ; n++ {
		b, err := res.Stream.Next(context.Background())
		if errors.Is(err, execution.EOF) {
			return res.Schema, rows, nil
		}
		if err != nil {
			return nil, nil, err
		}
		if !b.Schema().Equal(res.Schema) {
			t.Errorf("batch schema %v, stream schema %v", b.Schema(), res.Schema)
		}
		for r := 0; r < int(b.NumRows()); r++ {
			vals := make([]string, b.NumCols())
			for c, col := range b.Columns() {
				vals[c] = valueString(col, r)
			}
			rows = append(rows, strings.Join(vals, "|"))
		}
		b.Release()
		if n == stop {
			return res.Schema, rows, nil
		}
	}
}

func waitDone(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatalf("%s: the held result did not end", what)
	}
}

// A node without distribution holds a partitioned result in memory: every
// partition read (one read early-closed and read again) gives, merged,
// the single-stream answer with the same schema; the query ends when all
// were read, and no memory is left.
func TestExecutePartitioned(t *testing.T) {
	e, s := partitionEngine(t)
	ctx := context.Background()
	want := run(t, e, s, partitionedQuery)
	res, ok, err := e.ExecutePartitioned(ctx, s, partitionedQuery, nil, time.Minute)
	if err != nil || !ok {
		t.Fatalf("ExecutePartitioned: ok=%v %v", ok, err)
	}
	h := res.Held
	if len(h.Places) != 4 || h.Coordinator != "" {
		t.Fatalf("held %+v: want 4 local partitions", h)
	}
	if res.Schema.Field(2).Type.ID() != arrow.INT64 {
		t.Errorf("schema %v: the boolean column must be BIGINT", res.Schema)
	}
	ref := PartitionRef{Query: h.Query}
	if _, _, err := readPartition(t, e, ref, 1); err != nil { // stopped early: not fetched
		t.Fatal(err)
	}
	var got []string
	for p := range h.Places {
		ref.Partition = p
		schema, rows, err := readPartition(t, e, ref, 0)
		if err != nil {
			t.Fatalf("partition %d: %v", p, err)
		}
		if !schema.Equal(res.Schema) {
			t.Errorf("partition %d schema %v, want %v", p, schema, res.Schema)
		}
		got = append(got, rows...)
	}
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(want) != 100 {
		t.Errorf("partitions merged: %d rows, single stream %d", len(got), len(want))
	}
	waitDone(t, h.Done, "every partition read")
	ref.Partition = 0
	if _, _, err := readPartition(t, e, ref, 0); qerr.KindOf(err) != qerr.NotFound {
		t.Errorf("reading an ended result: %v, want NotFound", err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for e.MemoryInUse() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if e.MemoryInUse() != 0 || e.MemoryLost() != 0 {
		t.Errorf("memory in use %d, lost %d after the result ended", e.MemoryInUse(), e.MemoryLost())
	}
}

// ORDER BY and single-partition results stay one stream; a held result
// ends after its TTL or when canceled.
func TestExecutePartitionedLifetime(t *testing.T) {
	e, s := partitionEngine(t)
	ctx := context.Background()
	for _, sql := range []string{partitionedQuery + " ORDER BY l_suppkey", "SELECT COUNT(*) FROM lineitem", "CREATE TABLE t (a INT)"} {
		if _, ok, err := e.ExecutePartitioned(ctx, s, sql, nil, time.Minute); ok || err != nil {
			t.Errorf("%s: ok=%v err=%v, want a single stream", sql, ok, err)
		}
	}
	if _, err := e.Catalog().Table(ctx, "tpch", "t"); err == nil {
		t.Error("ExecutePartitioned ran a DDL statement")
	}
	if _, _, err := e.ExecutePartitioned(ctx, s, "SELECT nope FROM lineitem GROUP BY l_suppkey", nil, time.Minute); qerr.KindOf(err) == qerr.Internal || err == nil {
		t.Errorf("bad column: %v", err)
	}
	res, ok, err := e.ExecutePartitioned(ctx, s, partitionedQuery, nil, 200*time.Millisecond)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	waitDone(t, res.Held.Done, "TTL")
	if _, _, err := readPartition(t, e, PartitionRef{Query: res.Held.Query}, 0); qerr.KindOf(err) != qerr.NotFound {
		t.Errorf("reading an expired result: %v, want NotFound", err)
	}
	res, _, err = e.ExecutePartitioned(ctx, s, partitionedQuery, nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.CancelPartitioned(ctx, PartitionRef{Query: res.Held.Query}); err != nil {
		t.Fatal(err)
	}
	waitDone(t, res.Held.Done, "cancel")
	if e.MemoryLost() != 0 {
		t.Errorf("memory lost: %d", e.MemoryLost())
	}
}

// A fetch takes one of the node's task slots while it streams: with every
// slot taken by open fetches, another one waits (here until its context
// ends) and starts once a fetch closes. The producers' progress reaches
// the context's WithProgress function.
func TestPartitionFetchTakesSlot(t *testing.T) {
	e, s := partitionEngine(t)
	var last [2]int
	ctx := WithProgress(context.Background(), func(done, total int) { last = [2]int{done, total} })
	res, ok, err := e.ExecutePartitioned(ctx, s, partitionedQuery, nil, time.Minute)
	if err != nil || !ok {
		t.Fatalf("ExecutePartitioned: ok=%v %v", ok, err)
	}
	defer e.CancelPartitioned(context.Background(), PartitionRef{Query: res.Held.Query})
	if last[1] == 0 || last[0] != last[1] {
		t.Errorf("progress after the producers ran: %d/%d, want all of a nonzero total", last[0], last[1])
	}
	slots := e.sched.Slots()
	if len(res.Held.Places) < slots {
		t.Fatalf("%d partitions, %d slots: want a partition per slot", len(res.Held.Places), slots)
	}
	var open []*Result
	defer func() {
		for _, r := range open {
			r.Stream.Close()
		}
	}()
	for p := 0; p < slots; p++ {
		r, err := e.OpenPartition(context.Background(), PartitionRef{Query: res.Held.Query, Partition: p})
		if err != nil {
			t.Fatalf("open partition %d: %v", p, err)
		}
		open = append(open, r)
	}
	wctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	if r, err := e.OpenPartition(wctx, PartitionRef{Query: res.Held.Query, Partition: 0}); err == nil {
		r.Stream.Close()
		t.Fatalf("a fetch started while all %d slots were taken by fetches", slots)
	} else if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fetch waiting for a slot: %v, want its context's deadline", err)
	}
	got := make(chan error, 1)
	go func() {
		r, err := e.OpenPartition(context.Background(), PartitionRef{Query: res.Held.Query, Partition: 0})
		if err == nil {
			r.Stream.Close()
		}
		got <- err
	}()
	open[0].Stream.Close()
	open = open[1:]
	select {
	case err := <-got:
		if err != nil {
			t.Fatalf("fetch after a slot was freed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("a fetch still waits after a slot was freed")
	}
}
