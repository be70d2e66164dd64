package catalog

import (
	"os"
	"path/filepath"
	"slices"
	"sort"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/qerr"
)

// TestRewrite replaces a single-file table's rows, refuses a rewrite
// computed from a stale snapshot, and keeps the columns of a table emptied
// by a rewrite (it had no _schema.arrow).
func TestRewrite(t *testing.T) {
	dir := t.TempDir()
	rec := testBatch(t, testSchema, 0, 10)
	defer rec.Release()
	writeParquet(t, filepath.Join(dir, "s", "t.parquet"), rec, 100)
	c := open(t, dir)
	base, err := c.Table(ctx, "s", "t")
	if err != nil {
		t.Fatal(err)
	}
	small := rec.NewSlice(0, 3)
	defer small.Release()
	rdr, _ := array.NewRecordReader(testSchema, []arrow.RecordBatch{small})
	defer rdr.Release()
	if n, err := c.Rewrite(ctx, "s", "t", base, "UPDATE", rdr); err != nil || n != 3 {
		t.Fatalf("rewrite: %d %v", n, err)
	}
	now, err := c.Table(ctx, "s", "t")
	if err != nil || now.Stats.RowCount != 3 || len(now.Files) != 1 {
		t.Fatalf("after rewrite: %+v %v", now, err)
	}

	// base is stale now: nothing may change.
	rdr2, _ := array.NewRecordReader(testSchema, []arrow.RecordBatch{rec})
	defer rdr2.Release()
	_, err = c.Rewrite(ctx, "s", "t", base, "UPDATE", rdr2)
	wantKind(t, err, qerr.InvalidArgument, "was changed by another statement")
	if again, _ := c.Table(ctx, "s", "t"); again.Stats.RowCount != 3 || again.Files[0].Path != now.Files[0].Path {
		t.Fatalf("a refused rewrite changed the table: %+v", again)
	}

	empty, _ := array.NewRecordReader(testSchema, nil)
	defer empty.Release()
	if n, err := c.Rewrite(ctx, "s", "t", now, "DELETE", empty); err != nil || n != 0 {
		t.Fatalf("rewrite to empty: %d %v", n, err)
	}
	c2 := open(t, dir) // a fresh catalog reads only what is on disk
	gone, err := c2.Table(ctx, "s", "t")
	if err != nil || gone.Stats.RowCount != 0 || len(gone.Files) != 0 || !arrow.TypeEqual(gone.Columns.Field(1).Type, testSchema.Field(1).Type) {
		t.Fatalf("emptied table: %+v %v", gone, err)
	}
}

// TestRewriteKeepsOldSnapshot: a query that took its snapshot before a
// rewrite still reads the old files afterwards; they go only once the grace
// period is over (at the next rewrite or when the catalog opens), together
// with the orphans of a crashed rewrite, while a part too young to judge
// stays.
func TestRewriteKeepsOldSnapshot(t *testing.T) {
	dir := t.TempDir()
	rec := testBatch(t, testSchema, 0, 10)
	defer rec.Release()
	writeParquet(t, filepath.Join(dir, "s", "t", "a.parquet"), rec, 100)
	c := open(t, dir)
	rewrite := func(base *Table, rows int64) {
		t.Helper()
		part := rec.NewSlice(0, rows)
		defer part.Release()
		rdr, _ := array.NewRecordReader(testSchema, []arrow.RecordBatch{part})
		defer rdr.Release()
		if n, err := c.Rewrite(ctx, "s", "t", base, "DELETE", rdr); err != nil || n != rows {
			t.Fatalf("rewrite: %d %v", n, err)
		}
	}
	old, err := c.Table(ctx, "s", "t")
	if err != nil {
		t.Fatal(err)
	}
	rewrite(old, 4)
	// The old snapshot is still whole: its files read back 10 rows.
	oldPaths := []string{old.Files[0].Path}
	again, err := c.loadBaseTable("s", "t", oldPaths, nil)
	if err != nil || again.Stats.RowCount != 10 {
		t.Fatalf("old snapshot after rewrite: %+v %v", again, err)
	}
	cur, _ := c.Table(ctx, "s", "t")
	if cur.Stats.RowCount != 4 {
		t.Fatalf("new snapshot: %d rows", cur.Stats.RowCount)
	}

	// Within the grace period a second rewrite keeps them too.
	rewrite(cur, 3)
	if _, err := os.Stat(oldPaths[0]); err != nil {
		t.Fatalf("old file removed within the grace period: %v", err)
	}

	// Age everything but a fresh orphan: a crashed rewrite's part and
	// temporary go at open, the young orphan stays, the live file too.
	past := time.Now().Add(-2 * sweepGrace)
	tdir := filepath.Join(dir, "s", "t")
	writeParquet(t, filepath.Join(tdir, "part-crashed.parquet"), rec, 100)
	if err := os.WriteFile(filepath.Join(tdir, ".tmp-part-x.parquet"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(tdir)
	for _, e := range ents {
		if err := os.Chtimes(filepath.Join(tdir, e.Name()), past, past); err != nil {
			t.Fatal(err)
		}
	}
	writeParquet(t, filepath.Join(tdir, "part-young.parquet"), rec, 100)
	live, _ := c.Table(ctx, "s", "t")
	c2 := open(t, dir)
	left, _ := os.ReadDir(tdir)
	var names []string
	for _, e := range left {
		names = append(names, e.Name())
	}
	want := []string{"_files.json", "_schema.arrow", filepath.Base(live.Files[0].Path), "part-young.parquet"}
	sort.Strings(want)
	if !slices.Equal(names, want) {
		t.Fatalf("after sweep: %v, want %v", names, want)
	}
	if tb, err := c2.Table(ctx, "s", "t"); err != nil || tb.Stats.RowCount != 3 {
		t.Fatalf("table after sweep: %+v %v", tb, err)
	}
}
