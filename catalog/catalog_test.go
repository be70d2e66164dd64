package catalog

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

var ctx = context.Background()

var testSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64},
	{Name: "price", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
	{Name: "day", Type: arrow.FixedWidthTypes.Date32, Nullable: true},
	{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
}, nil)

// testBatch builds rows ids [from, from+n) with derived values.
func testBatch(t *testing.T, sc *arrow.Schema, from, n int) arrow.RecordBatch {
	t.Helper()
	b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
	defer b.Release()
	for i := from; i < from+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		b.Field(1).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i * 100)))
		b.Field(2).(*array.Date32Builder).Append(arrow.Date32(18000 + i))
		if i%10 == 0 {
			b.Field(3).AppendNull()
		} else {
			b.Field(3).(*array.StringBuilder).Append("n" + string(rune('a'+i%26)))
		}
	}
	return b.NewRecordBatch()
}

func writeParquet(t *testing.T, path string, rec arrow.RecordBatch, rowGroup int64) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(rec.Schema(), f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(rowGroup)), pqarrow.DefaultWriterProps())
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func open(t *testing.T, dir string, allowed ...string) *Catalog {
	t.Helper()
	c, err := Open(ctx, Options{DataDir: dir, DefaultSchema: "main", AllowedDirs: allowed}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func wantKind(t *testing.T, err error, k qerr.Kind, msg string) {
	t.Helper()
	if err == nil {
		t.Fatalf("want %v error %q, got nil", k, msg)
	}
	if qerr.KindOf(err) != k || !strings.Contains(err.Error(), msg) {
		t.Fatalf("want %v error containing %q, got %v: %v", k, msg, qerr.KindOf(err), err)
	}
}

func TestLayouts(t *testing.T) {
	dir := t.TempDir()
	rec := testBatch(t, testSchema, 0, 100)
	defer rec.Release()
	// nested: two files in a folder, plus hidden/temp files that must be ignored
	writeParquet(t, filepath.Join(dir, "Shop", "Orders", "a.parquet"), rec, 30)
	writeParquet(t, filepath.Join(dir, "Shop", "Orders", "b.parquet"), rec, 1000)
	writeFile(t, filepath.Join(dir, "Shop", "Orders", ".tmp-x.parquet"), "garbage")
	writeFile(t, filepath.Join(dir, "Shop", "Orders", "_SUCCESS"), "")
	// single file
	writeParquet(t, filepath.Join(dir, "Shop", "single.parquet"), rec, 1000)
	// incompatible files: skipped, the rest of the catalog still works
	other := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	ob := array.NewRecordBuilder(memory.DefaultAllocator, other)
	ob.Field(0).(*array.Int64Builder).Append(1)
	orec := ob.NewRecordBatch()
	ob.Release()
	defer orec.Release()
	writeParquet(t, filepath.Join(dir, "Shop", "broken", "a.parquet"), rec, 1000)
	writeParquet(t, filepath.Join(dir, "Shop", "broken", "b.parquet"), orec, 1000)
	// CSV with inference
	writeFile(t, filepath.Join(dir, "Shop", "people.csv"),
		"id,score,born,seen,ok,name\n1,1.5,2020-01-02,2020-01-02 03:04:05,true,ann\n2,,2021-12-31,,false,\n3,7,,2020-01-02 03:04:05.25,,bob\n")

	c := open(t, dir)
	// Open created the default schema folder.
	if _, err := os.Stat(filepath.Join(dir, "main")); err != nil {
		t.Errorf("default schema folder not created: %v", err)
	}
	if got := c.Schemas(); strings.Join(got, ",") != "information_schema,main,shop" {
		t.Errorf("schemas = %v", got)
	}
	tbl, err := c.Table(ctx, "SHOP", "orders")
	if err != nil {
		t.Fatal(err)
	}
	if len(tbl.Files) != 2 || tbl.Stats.RowCount != 200 || tbl.Format != Parquet {
		t.Fatalf("orders: files=%d rows=%d format=%s", len(tbl.Files), tbl.Stats.RowCount, tbl.Format)
	}
	if !arrow.TypeEqual(tbl.Columns.Field(1).Type, testSchema.Field(1).Type) || tbl.Columns.Field(0).Nullable {
		t.Errorf("orders columns = %v", tbl.Columns)
	}
	f := tbl.Files[0] // a.parquet: 4 row groups of 30,30,30,10
	if len(f.RowGroups) != 4 || f.RowGroups[3].NumRows != 10 {
		t.Fatalf("row groups = %+v", f.RowGroups)
	}
	st := f.RowGroups[1].ColumnStats
	if st[0].Min.String() != "30" || st[0].Max.String() != "59" || st[0].NullCount != 0 {
		t.Errorf("id stats = %v..%v nulls %d", st[0].Min, st[0].Max, st[0].NullCount)
	}
	if st[1].Min.(*scalar.Decimal128).Value != decimal128.FromI64(3000) || st[1].Max.(*scalar.Decimal128).Value != decimal128.FromI64(5900) ||
		!arrow.TypeEqual(st[1].Min.DataType(), testSchema.Field(1).Type) {
		t.Errorf("decimal stats = %v..%v", st[1].Min, st[1].Max)
	}
	if st[2].Min.String() != arrow.Date32(18030).FormattedString() {
		t.Errorf("date stats = %v", st[2].Min)
	}
	if st[3].NullCount != 3 || st[3].Min == nil {
		t.Errorf("string stats = %+v", st[3])
	}
	if _, err := c.Table(ctx, "shop", "single"); err != nil {
		t.Error(err)
	}
	_, err = c.Table(ctx, "shop", "broken")
	wantKind(t, err, qerr.NotFound, "Table 'shop.broken' doesn't exist")

	people, err := c.Table(ctx, "shop", "people")
	if err != nil {
		t.Fatal(err)
	}
	wantTypes := []arrow.DataType{arrow.PrimitiveTypes.Int64, arrow.PrimitiveTypes.Float64, arrow.FixedWidthTypes.Date32,
		&arrow.TimestampType{Unit: arrow.Microsecond}, arrow.FixedWidthTypes.Boolean, arrow.BinaryTypes.String}
	for i, w := range wantTypes {
		if !arrow.TypeEqual(people.Columns.Field(i).Type, w) {
			t.Errorf("people column %d type = %s, want %s", i, people.Columns.Field(i).Type, w)
		}
	}
	if people.Format != CSV || people.Files[0].NumRows != -1 || people.Stats.Bytes <= 0 {
		t.Errorf("people = %+v", people)
	}
	tables, err := c.Tables(ctx, "shop")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, t := range tables {
		names = append(names, t.Name)
	}
	if strings.Join(names, ",") != "orders,people,single" {
		t.Errorf("tables = %v", names)
	}
	_, err = c.Tables(ctx, "nope")
	wantKind(t, err, qerr.NotFound, "Unknown database 'nope'")
}

func TestRefreshSeesExternalFiles(t *testing.T) {
	dir := t.TempDir()
	rec := testBatch(t, testSchema, 0, 10)
	defer rec.Release()
	writeParquet(t, filepath.Join(dir, "s", "t", "a.parquet"), rec, 100)
	c := open(t, dir)
	tbl, err := c.Table(ctx, "s", "t")
	if err != nil || tbl.Stats.RowCount != 10 {
		t.Fatalf("t: %v %v", tbl, err)
	}
	// another process adds a file and a new table
	writeParquet(t, filepath.Join(dir, "s", "t", "b.parquet"), rec, 100)
	writeParquet(t, filepath.Join(dir, "s", "u.parquet"), rec, 100)
	tbl2, err := c.Table(ctx, "s", "t")
	if err != nil || tbl2.Stats.RowCount != 20 {
		t.Fatalf("after external append: %v %v", tbl2, err)
	}
	if tbl.Stats.RowCount != 10 || len(tbl.Files) != 1 {
		t.Error("old snapshot changed")
	}
	if _, err := c.Table(ctx, "s", "u"); err != nil {
		t.Error(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "fresh"), 0o755); err != nil {
		t.Fatal(err)
	}
	if !c.SchemaExists("FRESH") {
		t.Error("new schema folder not seen")
	}
}

func TestDDLPersistence(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	wantKind(t, c.CreateSchema(ctx, "main", false), qerr.AlreadyExists, "Can't create database 'main'; database exists")
	if err := c.CreateSchema(ctx, "main", true); err != nil {
		t.Error(err)
	}
	if err := c.CreateSchema(ctx, "Sales", false); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateTable(ctx, "sales", "Items", testSchema, false); err != nil {
		t.Fatal(err)
	}
	wantKind(t, c.CreateTable(ctx, "sales", "items", testSchema, false), qerr.AlreadyExists, "Table 'items' already exists")
	wantKind(t, c.CreateTable(ctx, "nodb", "items", testSchema, false), qerr.NotFound, "Unknown database 'nodb'")
	wantKind(t, c.CreateTable(ctx, "sales", "../x", testSchema, false), qerr.InvalidArgument, "Incorrect table name")
	empty, err := c.Table(ctx, "sales", "items")
	if err != nil {
		t.Fatal(err)
	}
	if empty.Columns.NumFields() != 4 || empty.Stats.RowCount != 0 || len(empty.Files) != 0 {
		t.Fatalf("empty table = %+v", empty)
	}
	rec := testBatch(t, testSchema, 0, 1000)
	defer rec.Release()
	rdr, _ := array.NewRecordReader(testSchema, []arrow.RecordBatch{rec, rec})
	n, err := c.Append(ctx, "sales", "items", rdr)
	rdr.Release()
	if err != nil || n != 2000 {
		t.Fatalf("append: %d %v", n, err)
	}
	tbl, _ := c.Table(ctx, "sales", "items")
	if tbl.Stats.RowCount != 2000 || len(tbl.Files) != 1 {
		t.Fatalf("after append: rows=%d files=%d", tbl.Stats.RowCount, len(tbl.Files))
	}
	if empty.Stats.RowCount != 0 {
		t.Error("snapshot changed by append")
	}
	// decimals are stored as INT64: their statistics still come back as decimals
	if ps := tbl.Files[0].RowGroups[0].ColumnStats[1]; ps == nil || ps.Max == nil ||
		ps.Max.(*scalar.Decimal128).Value != decimal128.FromI64(99900) {
		t.Errorf("appended decimal stats = %+v", ps)
	}
	// no temp files remain
	ents, _ := os.ReadDir(filepath.Join(dir, "sales", "items"))
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
	if err := c.CreateView(ctx, "sales", "v", "SELECT id FROM items", testSchema, false); err != nil {
		t.Fatal(err)
	}
	wantKind(t, c.CreateView(ctx, "sales", "v", "SELECT 1", nil, false), qerr.AlreadyExists, "Table 'v' already exists")
	if err := c.CreateView(ctx, "sales", "v", "SELECT 2", nil, true); err != nil {
		t.Fatal(err)
	}
	wantKind(t, c.CreateView(ctx, "sales", "items", "SELECT 2", nil, true), qerr.AlreadyExists, "Table 'items' already exists")

	// restart: everything is still there
	c2 := open(t, dir)
	tbl, err = c2.Table(ctx, "sales", "items")
	if err != nil || tbl.Stats.RowCount != 2000 {
		t.Fatalf("after reopen: %v %v", tbl, err)
	}
	if !tbl.Columns.Field(1).Nullable || tbl.Columns.Field(0).Nullable {
		t.Errorf("declared nullability lost: %v", tbl.Columns)
	}
	v, err := c2.Table(ctx, "sales", "V")
	if err != nil || v.Kind != View || v.ViewSQL != "SELECT 2" {
		t.Fatalf("view after reopen: %+v %v", v, err)
	}
	wantKind(t, c2.DropTable(ctx, "sales", "v", false), qerr.NotFound, "Unknown table 'sales.v'")
	if err := c2.DropView(ctx, "sales", "v", false); err != nil {
		t.Fatal(err)
	}
	wantKind(t, c2.DropView(ctx, "sales", "v", false), qerr.NotFound, "Unknown table 'sales.v'")
	if err := c2.DropTable(ctx, "sales", "items", false); err != nil {
		t.Fatal(err)
	}
	if err := c2.DropTable(ctx, "sales", "items", true); err != nil {
		t.Fatal(err)
	}
	if _, err := c2.Table(ctx, "sales", "items"); qerr.KindOf(err) != qerr.NotFound {
		t.Errorf("dropped table still there: %v", err)
	}
	if err := c2.DropSchema(ctx, "sales", false); err != nil {
		t.Fatal(err)
	}
	wantKind(t, c2.DropSchema(ctx, "sales", false), qerr.NotFound, "Can't drop database 'sales'; database doesn't exist")
	if _, err := os.Stat(filepath.Join(dir, "sales")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("schema folder still there: %v", err)
	}
	wantKind(t, c2.DropSchema(ctx, "information_schema", true), qerr.PermissionDenied, "Access denied")
}

func TestAppendToSingleFileTable(t *testing.T) {
	dir := t.TempDir()
	rec := testBatch(t, testSchema, 0, 10)
	defer rec.Release()
	writeParquet(t, filepath.Join(dir, "s", "t.parquet"), rec, 100)
	c := open(t, dir)
	rdr, _ := array.NewRecordReader(testSchema, []arrow.RecordBatch{rec})
	defer rdr.Release()
	if n, err := c.Append(ctx, "s", "t", rdr); err != nil || n != 10 {
		t.Fatalf("append: %d %v", n, err)
	}
	tbl, err := c.Table(ctx, "s", "t")
	if err != nil || tbl.Stats.RowCount != 20 || len(tbl.Files) != 2 {
		t.Fatalf("after append: %+v %v", tbl, err)
	}
	writeFile(t, filepath.Join(dir, "s", "c.csv"), "a\n1\n")
	rdr2, _ := array.NewRecordReader(testSchema, []arrow.RecordBatch{rec})
	defer rdr2.Release()
	_, err = c.Append(ctx, "s", "c", rdr2)
	wantKind(t, err, qerr.Unimplemented, "CSV")
}

func TestResolvePath(t *testing.T) {
	base := t.TempDir()
	data := filepath.Join(base, "data")
	out := filepath.Join(base, "out")
	secret := filepath.Join(base, "secret")
	for _, d := range []string{data, out, secret} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Symlink(secret, filepath.Join(out, "link")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(secret, "f.csv"), filepath.Join(out, "flink.csv")); err != nil {
		t.Fatal(err)
	}
	c := open(t, data, out)
	tests := []struct {
		path string
		ok   bool
		kind qerr.Kind
	}{
		{filepath.Join(out, "r.csv"), true, 0},
		{filepath.Join(data, "main", "r.csv"), true, 0},
		{filepath.Join(out, "..", "secret", "r.csv"), false, qerr.PermissionDenied},
		{filepath.Join(out, "link", "r.csv"), false, qerr.PermissionDenied},
		{filepath.Join(out, "flink.csv"), false, qerr.PermissionDenied},
		{"/etc/passwd", false, qerr.PermissionDenied},
		{filepath.Join(out, "missing", "r.csv"), false, qerr.NotFound},
	}
	for _, tt := range tests {
		got, err := c.ResolvePath(tt.path)
		if tt.ok {
			if err != nil || !filepath.IsAbs(got) {
				t.Errorf("%s: %q %v", tt.path, got, err)
			}
			continue
		}
		if err == nil || qerr.KindOf(err) != tt.kind {
			t.Errorf("%s: want %v error, got %q %v", tt.path, tt.kind, got, err)
		}
	}
	_, err := c.ResolvePath("/etc/passwd")
	wantKind(t, err, qerr.PermissionDenied, out)
}

func TestInformationSchema(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	if err := c.CreateTable(ctx, "main", "items", testSchema, false); err != nil {
		t.Fatal(err)
	}
	if err := c.CreateView(ctx, "main", "v", "SELECT 1", nil, false); err != nil {
		t.Fatal(err)
	}
	rows := func(name string) [][]string {
		t.Helper()
		tbl, err := c.Table(ctx, "INFORMATION_SCHEMA", name)
		if err != nil {
			t.Fatal(err)
		}
		if tbl.Kind != SystemTable {
			t.Fatalf("%s kind %v", name, tbl.Kind)
		}
		bs, err := tbl.Rows(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var out [][]string
		for _, b := range bs {
			if !b.Schema().Equal(tbl.Columns) {
				t.Fatalf("%s: batch schema %v != %v", name, b.Schema(), tbl.Columns)
			}
			for r := 0; r < int(b.NumRows()); r++ {
				var row []string
				for _, col := range b.Columns() {
					if col.IsNull(r) {
						row = append(row, "NULL")
					} else {
						row = append(row, col.ValueStr(r))
					}
				}
				out = append(out, row)
			}
			b.Release()
		}
		return out
	}
	schemata := rows("schemata")
	if len(schemata) != 2 || schemata[0][1] != "information_schema" || schemata[1][1] != "main" || schemata[1][0] != "def" {
		t.Errorf("schemata = %v", schemata)
	}
	var mainTables []string
	for _, r := range rows("tables") {
		if r[1] == "main" {
			mainTables = append(mainTables, r[2]+":"+r[3]+":"+r[7])
		}
	}
	if strings.Join(mainTables, ",") != "items:BASE TABLE:0,v:VIEW:NULL" {
		t.Errorf("tables = %v", mainTables)
	}
	var cols []string
	for _, r := range rows("columns") {
		if r[2] == "items" {
			cols = append(cols, strings.Join([]string{r[3], r[4], r[6], r[7], r[15], r[10], r[11]}, " "))
		}
	}
	want := []string{
		"id 1 NO bigint bigint 19 0",
		"price 2 YES decimal decimal(15,2) 15 2",
		"day 3 YES date date NULL NULL",
		"name 4 YES varchar varchar(65535) NULL NULL",
	}
	if strings.Join(cols, "|") != strings.Join(want, "|") {
		t.Errorf("columns =\n%v\nwant\n%v", cols, want)
	}
	views := rows("views")
	if len(views) != 1 || views[0][2] != "v" || views[0][3] != "SELECT 1" {
		t.Errorf("views = %v", views)
	}
	_, err := c.Table(ctx, "information_schema", "nope")
	wantKind(t, err, qerr.NotFound, "Table 'information_schema.nope' doesn't exist")
}

func TestMySQLTypeName(t *testing.T) {
	tests := []struct {
		dt       arrow.DataType
		dataType string
		colType  string
	}{
		{arrow.PrimitiveTypes.Int64, "bigint", "bigint"},
		{arrow.PrimitiveTypes.Int32, "int", "int"},
		{arrow.PrimitiveTypes.Uint32, "int", "int unsigned"},
		{arrow.FixedWidthTypes.Boolean, "tinyint", "tinyint(1)"},
		{&arrow.Decimal128Type{Precision: 15, Scale: 2}, "decimal", "decimal(15,2)"},
		{arrow.BinaryTypes.String, "varchar", "varchar(65535)"},
		{arrow.FixedWidthTypes.Date32, "date", "date"},
		{&arrow.TimestampType{Unit: arrow.Microsecond}, "datetime", "datetime(6)"},
		{&arrow.TimestampType{Unit: arrow.Second}, "datetime", "datetime"},
		{arrow.PrimitiveTypes.Float64, "double", "double"},
	}
	for _, tt := range tests {
		d, c := MySQLTypeName(tt.dt)
		if d != tt.dataType || c != tt.colType {
			t.Errorf("%s: %s %s, want %s %s", tt.dt, d, c, tt.dataType, tt.colType)
		}
	}
}

func TestOpenCommittedTPCH(t *testing.T) {
	src, _ := filepath.Abs("../testdata/tpch-sf0.01")
	if _, err := os.Stat(src); err != nil {
		t.Skip("no TPC-H data")
	}
	c, err := Open(ctx, Options{DataDir: src}, zap.NewNop()) // no default schema: nothing is written
	if err != nil {
		t.Fatal(err)
	}
	tables, err := c.Tables(ctx, "tpch")
	if err != nil || len(tables) != 8 {
		t.Fatalf("tpch tables: %d %v", len(tables), err)
	}
	li, err := c.Table(ctx, "tpch", "lineitem")
	if err != nil || li.Stats.RowCount != 60175 {
		t.Fatalf("lineitem: %v", err)
	}
	for i, cs := range li.Files[0].RowGroups[0].ColumnStats {
		if cs == nil || cs.Min == nil || cs.Max == nil {
			t.Errorf("lineitem column %s has no min/max", li.Columns.Field(i).Name)
		}
	}
}
