package catalog

import (
	"path/filepath"
	"testing"

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
