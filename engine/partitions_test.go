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
