package catalog

import (
	"os"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

// TestNameLimits: names over MySQL's 64 characters or ending with a space
// are InvalidArgument (they were an internal "file name too long" error, or
// a folder named " "), and nothing appears in the data dir; 64 characters
// are fine. Dropping a long name is NotFound, not a lock file error.
func TestNameLimits(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	long := strings.Repeat("n", 300)
	wantKind(t, c.CreateTable(ctx, "main", long, testSchema, false), qerr.InvalidArgument, "is too long")
	wantKind(t, c.CreateTable(ctx, "main", "x ", testSchema, false), qerr.InvalidArgument, "Incorrect table name 'x '")
	wantKind(t, c.CreateTable(ctx, "main", " ", testSchema, false), qerr.InvalidArgument, "Incorrect table name")
	wantKind(t, c.CreateSchema(ctx, long, false), qerr.InvalidArgument, "is too long")
	wantKind(t, c.DropTable(ctx, "main", long, false), qerr.NotFound, "")
	entries, err := os.ReadDir(dir + "/main")
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("refused names left files: %v", entries)
	}
	if err := c.CreateTable(ctx, "main", strings.Repeat("m", 64), testSchema, false); err != nil {
		t.Errorf("64 characters: %v", err)
	}
}

// TestUnstorableType: a column type Parquet cannot hold (bulk ingest takes
// any Arrow type) is InvalidArgument naming the column, not an internal
// error, and no table appears.
func TestUnstorableType(t *testing.T) {
	c := open(t, t.TempDir())
	schema := arrow.NewSchema([]arrow.Field{{Name: "ok", Type: arrow.PrimitiveTypes.Int64},
		{Name: "d", Type: arrow.FixedWidthTypes.Duration_s}}, nil)
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).Append(1)
	b.Field(1).(*array.DurationBuilder).Append(5)
	rec := b.NewRecordBatch()
	defer rec.Release()
	r, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Release()
	_, err = c.CreateTableAs(ctx, "main", "dur", schema, r, false)
	wantKind(t, err, qerr.InvalidArgument, "column `d` has type duration[s], which a table cannot store")
	if _, err := c.Table(ctx, "main", "dur"); qerr.KindOf(err) != qerr.NotFound {
		t.Errorf("table after the failed create: %v", err)
	}
}
