package server

import (
	"context"
	"fmt"
	"net"
	"slices"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/catalog"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// readAll fetches the one endpoint of info and returns its schema and rows.
func readAll(t *testing.T, cl *flightsql.Client, info *flight.FlightInfo, err error) (*arrow.Schema, []arrow.RecordBatch) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cl.DoGet(context.Background(), info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	var out []arrow.RecordBatch
	for rdr.Next() {
		b := rdr.RecordBatch()
		b.Retain()
		out = append(out, b)
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, b := range out {
			b.Release()
		}
	})
	return rdr.Schema(), out
}

func rowCount(bs []arrow.RecordBatch) int {
	n := 0
	for _, b := range bs {
		n += int(b.NumRows())
	}
	return n
}

func TestKeysAreEmptyWithSpecSchemas(t *testing.T) {
	_, cl := startServer(t, 0)
	ctx := context.Background()
	schema := "tpch"
	ref := flightsql.TableRef{DBSchema: &schema, Table: "nation"}
	for _, tc := range []struct {
		name string
		want *arrow.Schema
		get  func() (*flight.FlightInfo, error)
	}{
		{"primary keys", schema_ref.PrimaryKeys, func() (*flight.FlightInfo, error) { return cl.GetPrimaryKeys(ctx, ref) }},
		{"imported keys", schema_ref.ImportedKeys, func() (*flight.FlightInfo, error) { return cl.GetImportedKeys(ctx, ref) }},
		{"exported keys", schema_ref.ExportedKeys, func() (*flight.FlightInfo, error) { return cl.GetExportedKeys(ctx, ref) }},
		{"cross reference", schema_ref.CrossReference, func() (*flight.FlightInfo, error) {
			return cl.GetCrossReference(ctx, ref, flightsql.TableRef{DBSchema: &schema, Table: "region"})
		}},
	} {
		info, err := tc.get()
		got, rows := readAll(t, cl, info, err)
		if !got.Equal(tc.want) {
			t.Errorf("%s: schema %s, want %s", tc.name, got, tc.want)
		}
		if n := rowCount(rows); n != 0 {
			t.Errorf("%s: %d rows, want none (the catalog records no keys)", tc.name, n)
		}
	}
}

func TestXdbcTypeInfo(t *testing.T) {
	_, cl := startServer(t, 0)
	ctx := context.Background()
	info, err := cl.GetXdbcTypeInfo(ctx, nil)
	got, rows := readAll(t, cl, info, err)
	if !got.Equal(schema_ref.XdbcTypeInfo) {
		t.Fatalf("schema %s", got)
	}
	var names []string
	prev := int32(-1 << 30)
	for _, b := range rows {
		for i := 0; i < int(b.NumRows()); i++ {
			names = append(names, b.Column(0).(*array.String).Value(i))
			dt := b.Column(1).(*array.Int32).Value(i)
			if dt < prev {
				t.Errorf("rows not ordered by data_type at %s", names[len(names)-1])
			}
			prev = dt
		}
	}
	if len(names) != len(xdbcTypes) {
		t.Fatalf("types = %v", names)
	}
	decimal := int32(3)
	info, err = cl.GetXdbcTypeInfo(ctx, &decimal)
	_, rows = readAll(t, cl, info, err)
	if rowCount(rows) != 1 || rows[0].Column(0).(*array.String).Value(0) != "DECIMAL" {
		t.Fatalf("filter by DECIMAL: %v", rows)
	}
	if p := rows[0].Column(5).(*array.List); p.IsNull(0) {
		t.Errorf("DECIMAL has no create_params")
	}
}

// TestSqlInfoComplete checks that an unfiltered GetSqlInfo (what JDBC reads
// on connect) answers every info id the JDBC driver's DatabaseMetaData
// reads, with the types the spec gives them.
func TestSqlInfoComplete(t *testing.T) {
	_, cl := startServer(t, 0)
	info, err := cl.GetSqlInfo(context.Background(), nil)
	_, rows := readAll(t, cl, info, err)
	got := map[flightsql.SqlInfo]arrow.Array{}
	type value struct {
		arr arrow.Array
		i   int
	}
	vals := map[flightsql.SqlInfo]value{}
	for _, b := range rows {
		ids := b.Column(0).(*array.Uint32)
		u := b.Column(1).(*array.DenseUnion)
		for i := 0; i < int(b.NumRows()); i++ {
			id := flightsql.SqlInfo(ids.Value(i))
			got[id] = u.Field(u.ChildID(i))
			vals[id] = value{u.Field(u.ChildID(i)), int(u.ValueOffset(i))}
		}
	}
	substrait := map[flightsql.SqlInfo]bool{flightsql.SqlInfoFlightSqlServerSubstraitMinVersion: true,
		flightsql.SqlInfoFlightSqlServerSubstraitMaxVersion: true}
	known := 0
	for id := flightsql.SqlInfo(0); id < 1000; id++ {
		if _, named := pb.SqlInfo_name[int32(id)]; !named || substrait[id] {
			continue
		}
		known++
		if _, ok := got[id]; !ok {
			t.Errorf("missing sql info %s", id)
		}
	}
	if known < 80 {
		t.Fatalf("only %d known sql info ids", known)
	}
	// Enums the spec types as int32 (JDBC casts them to Integer).
	for _, id := range []flightsql.SqlInfo{flightsql.SqlInfoNullOrdering, flightsql.SqlInfoIdentifierCase,
		flightsql.SqlInfoQuotedIdentifierCase, flightsql.SqlInfoOuterJoinsSupportLevel} {
		if v, ok := vals[id]; !ok || v.arr.DataType().ID() != arrow.INT32 {
			t.Errorf("%s: not an int32", id)
		}
	}
	if v := vals[flightsql.SqlInfoNullOrdering]; v.arr.(*array.Int32).Value(v.i) != int32(flightsql.SqlNullOrderingSortLow) {
		t.Errorf("null ordering = %d, want low (MySQL)", v.arr.(*array.Int32).Value(v.i))
	}
}

// TestPrimaryKeysOfDeclaredKey: a table created with a composite PRIMARY
// KEY (in a real catalog) reports its columns in key order with key_seq
// and key_name PRIMARY, found with and without the schema named; a table
// with only a UNIQUE key reports none.
func TestPrimaryKeysOfDeclaredKey(t *testing.T) {
	ctx := context.Background()
	cat, err := catalog.Open(ctx, catalog.Options{DataDir: t.TempDir(), DefaultSchema: "test"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	if err := cat.CreateSchema(ctx, "test", true); err != nil {
		t.Fatal(err)
	}
	cols := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64},
		{Name: "b", Type: arrow.BinaryTypes.String},
		{Name: "c", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	}, nil)
	for name, keys := range map[string][]catalog.Key{
		"keyed": {{Name: "PRIMARY", Primary: true, Columns: []string{"b", "a"}}},
		"uniq":  {{Name: "c", Columns: []string{"c"}}},
	} {
		sc, err := catalog.WithKeys(cols, keys)
		if err != nil {
			t.Fatal(err)
		}
		if err := cat.CreateTable(ctx, "test", name, sc, false); err != nil {
			t.Fatal(err)
		}
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s, err := New(Config{Engine: &fakeEngine{mem: mem}, Catalog: cat, Alloc: mem})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- s.Serve(sctx, lis, time.Second) }()
	cl, err := flightsql.NewClient(lis.Addr().String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		cl.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		mem.AssertSize(t, 0)
	}()
	schema := "test"
	for _, ref := range []flightsql.TableRef{{DBSchema: &schema, Table: "keyed"}, {Table: "keyed"}} {
		info, err := cl.GetPrimaryKeys(ctx, ref)
		got, rows := readAll(t, cl, info, err)
		if !got.Equal(schema_ref.PrimaryKeys) {
			t.Fatalf("schema %s", got)
		}
		var out []string
		for _, b := range rows {
			for i := 0; i < int(b.NumRows()); i++ {
				out = append(out, fmt.Sprintf("%s.%s.%s %s %d %s", b.Column(0).ValueStr(i), b.Column(1).ValueStr(i),
					b.Column(2).ValueStr(i), b.Column(3).ValueStr(i), b.Column(4).(*array.Int32).Value(i), b.Column(5).ValueStr(i)))
			}
		}
		want := []string{CatalogName + ".test.keyed b 1 PRIMARY", CatalogName + ".test.keyed a 2 PRIMARY"}
		if !slices.Equal(out, want) {
			t.Errorf("primary keys of %v: %q, want %q", ref, out, want)
		}
	}
	info, err := cl.GetPrimaryKeys(ctx, flightsql.TableRef{DBSchema: &schema, Table: "uniq"})
	if _, rows := readAll(t, cl, info, err); rowCount(rows) != 0 {
		t.Errorf("a UNIQUE key reported as primary key")
	}
}
