package server

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/catalog"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func ingestReader(t *testing.T, names []string, types []arrow.DataType, rows int) array.RecordReader {
	t.Helper()
	fields := make([]arrow.Field, len(names))
	for i := range names {
		fields[i] = arrow.Field{Name: names[i], Type: types[i], Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	b := array.NewRecordBuilder(memory.NewGoAllocator(), schema)
	defer b.Release()
	for r := range rows {
		for c, f := range b.Fields() {
			switch fb := f.(type) {
			case *array.Int64Builder:
				fb.Append(int64(r))
			case *array.StringBuilder:
				fb.Append(strings.Repeat("x", c+r%3))
			}
		}
	}
	rec := b.NewRecordBatch()
	defer rec.Release()
	rdr, err := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
	if err != nil {
		t.Fatal(err)
	}
	return rdr
}

var testSchema = "test"

func TestIngest(t *testing.T) {
	ctx := context.Background()
	cat, err := catalog.Open(ctx, catalog.Options{DataDir: t.TempDir(), DefaultSchema: "test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.CreateSchema(ctx, "test", true); err != nil {
		t.Fatal(err)
	}
	_, users := writeUsers(t)
	ts := startWith(t, Config{Catalog: cat, Users: users})
	cl := dial(t, ts.addr)
	actx, err := cl.Client.AuthenticateBasicToken(ctx, "alice", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	i64, str := arrow.PrimitiveTypes.Int64, arrow.BinaryTypes.String
	ab := []string{"a", "b"}
	ingest := func(c context.Context, opts *flightsql.ExecuteIngestOpts, names []string, types []arrow.DataType, rows int) (int64, error) {
		rdr := ingestReader(t, names, types, rows)
		defer rdr.Release()
		return cl.ExecuteIngest(c, rdr, opts)
	}
	mk := func(table string, notExist flightsql.TableDefinitionOptionsTableNotExistOption, exists flightsql.TableDefinitionOptionsTableExistsOption) *flightsql.ExecuteIngestOpts {
		return &flightsql.ExecuteIngestOpts{Schema: &testSchema, Table: table, TableDefinitionOptions: &flightsql.TableDefinitionOptions{IfNotExist: notExist, IfExists: exists}}
	}
	rows := func() int64 {
		tb, err := cat.Table(ctx, "test", "t")
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for _, f := range tb.Files {
			n += f.NumRows
		}
		return n
	}
	create := mk("t", flightsql.TableDefinitionOptionsTableNotExistOptionCreate, flightsql.TableDefinitionOptionsTableExistsOptionFail)
	appendOpts := mk("t", flightsql.TableDefinitionOptionsTableNotExistOptionFail, flightsql.TableDefinitionOptionsTableExistsOptionAppend)
	replace := mk("t", 0, flightsql.TableDefinitionOptionsTableExistsOptionReplace)
	if n, err := ingest(actx, create, ab, []arrow.DataType{i64, str}, 10); err != nil || n != 10 {
		t.Fatalf("create: %d %v", n, err)
	}
	_, err = ingest(actx, create, ab, []arrow.DataType{i64, str}, 1)
	wantCode(t, err, codes.AlreadyExists, "create again (fail if exists)")
	if n, err := ingest(actx, appendOpts, []string{"A", "B"}, []arrow.DataType{i64, str}, 5); err != nil || n != 5 || rows() != 15 {
		t.Fatalf("append: %d %v, table rows %d", n, err, rows())
	}
	_, err = ingest(actx, appendOpts, ab, []arrow.DataType{str, str}, 1)
	wantCode(t, err, codes.InvalidArgument, "append with a wrong type")
	if !strings.Contains(status.Convert(err).Message(), "type") {
		t.Errorf("message: %v", err)
	}
	_, err = ingest(actx, appendOpts, []string{"a"}, []arrow.DataType{i64}, 1)
	wantCode(t, err, codes.InvalidArgument, "append with a missing column")
	if n, err := ingest(actx, replace, []string{"z"}, []arrow.DataType{i64}, 3); err != nil || n != 3 || rows() != 3 {
		t.Fatalf("replace: %d %v, rows %d", n, err, rows())
	}
	missing := mk("nope", flightsql.TableDefinitionOptionsTableNotExistOptionFail, flightsql.TableDefinitionOptionsTableExistsOptionAppend)
	_, err = ingest(actx, missing, ab, []arrow.DataType{i64, str}, 1)
	wantCode(t, err, codes.NotFound, "append to a missing table (fail if missing)")
	tmp := mk("t2", 0, 0)
	tmp.Temporary = true
	_, err = ingest(actx, tmp, ab, []arrow.DataType{i64, str}, 1)
	wantCode(t, err, codes.Unimplemented, "temporary table")

	bctx, _ := cl.Client.AuthenticateBasicToken(ctx, "bob", "hunter2")
	_, err = ingest(bctx, appendOpts, []string{"z"}, []arrow.DataType{i64}, 1)
	wantCode(t, err, codes.PermissionDenied, "read-only ingest")
	_, err = ingest(ctx, appendOpts, []string{"z"}, []arrow.DataType{i64}, 1)
	wantCode(t, err, codes.Unauthenticated, "anonymous ingest")
}
