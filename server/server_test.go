package server

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

func TestTicketRoundTrip(t *testing.T) {
	in := statementTicket{SQL: "select 1", Session: "s1", Schema: "tpch"}
	b, err := encodeTicket(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := decodeTicket(b)
	if err != nil || out != in {
		t.Fatalf("decode = %+v, %v; want %+v", out, err, in)
	}
}

func TestTicketRejectsMalformed(t *testing.T) {
	for _, tc := range []struct{ name, ticket string }{
		{"empty", ""},
		{"no magic", `{"sql":"select 1"}`},
		{"old version", `QVT0:{"sql":"select 1"}`},
		{"bad json", `QVT1:{"sql":`},
		{"unknown field", `QVT1:{"sql":"select 1","x":1}`},
		{"no sql", `QVT1:{"session":"a"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := decodeTicket([]byte(tc.ticket))
			if qerr.KindOf(err) != qerr.InvalidArgument {
				t.Fatalf("err = %v, want InvalidArgument", err)
			}
		})
	}
}

func TestErrorMapping(t *testing.T) {
	s, _ := New(Config{Engine: &fakeEngine{}})
	for _, tc := range []struct {
		err  error
		want codes.Code
	}{
		{qerr.New(qerr.Syntax, "x"), codes.InvalidArgument},
		{qerr.New(qerr.InvalidArgument, "x"), codes.InvalidArgument},
		{qerr.New(qerr.NotFound, "x"), codes.NotFound},
		{qerr.New(qerr.AlreadyExists, "x"), codes.AlreadyExists},
		{qerr.New(qerr.ResourceExhausted, "x"), codes.ResourceExhausted},
		{qerr.New(qerr.PermissionDenied, "x"), codes.PermissionDenied},
		{qerr.New(qerr.Unimplemented, "x"), codes.Unimplemented},
		{qerr.New(qerr.Canceled, "x"), codes.Canceled},
		{qerr.New(qerr.Unauthenticated, "x"), codes.Unauthenticated},
		{qerr.New(qerr.DeadlineExceeded, "x"), codes.DeadlineExceeded},
		{errBadLogin, codes.Unauthenticated},
		{errNoTransactions, codes.Unimplemented},
		{qerr.New(qerr.Internal, "x"), codes.Internal},
		{errors.New("unclassified"), codes.Internal},
		{context.Canceled, codes.Canceled},
		{status.Error(codes.Aborted, "kept"), codes.Aborted},
	} {
		if got := status.Code(s.toStatus(tc.err)); got != tc.want {
			t.Errorf("%v → %v, want %v", tc.err, got, tc.want)
		}
	}
	if s.toStatus(nil) != nil {
		t.Error("nil error must stay nil")
	}
}

func TestSplitBatch(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	f := &fakeEngine{mem: mem}
	b := (&fakeStream{f: f}).batch(10000) // 80 000 bytes of values
	parts := splitBatch(b, 8000)
	var rows int64
	next := int64(0)
	for _, p := range parts {
		if sz := p.NumRows() * 8; sz > 8000 {
			t.Errorf("part of %d bytes exceeds limit", sz)
		}
		col := p.Column(0).(*array.Int64)
		if col.Value(0) != next {
			t.Fatalf("part starts at %d, want %d", col.Value(0), next)
		}
		next += p.NumRows()
		rows += p.NumRows()
		p.Release()
	}
	if rows != 10000 || len(parts) < 10 {
		t.Fatalf("rows = %d in %d parts", rows, len(parts))
	}
	small := (&fakeStream{f: f}).batch(3)
	if parts := splitBatch(small, 8000); len(parts) != 1 {
		t.Fatalf("small batch split into %d parts", len(parts))
	} else {
		parts[0].Release()
	}
}

func TestLikeMatch(t *testing.T) {
	for _, tc := range []struct {
		p, s string
		want bool
	}{
		{"%", "", true},
		{"%", "lineitem", true},
		{"line%", "lineitem", true},
		{"LINE%", "lineitem", true},
		{"%item", "lineitem", true},
		{"l_neitem", "lineitem", true},
		{"l_eitem", "lineitem", false},
		{"%i%e%", "lineitem", true},
		{"t\\_1", "t_1", true},
		{"t\\_1", "tx1", false},
		{"nation", "nations", false},
		{"", "", true},
		{"a%b%c", "axxbyyc", true},
		{"a%b%c", "axxbyy", false},
	} {
		if got := likeMatch(tc.p, tc.s); got != tc.want {
			t.Errorf("likeMatch(%q, %q) = %v", tc.p, tc.s, got)
		}
	}
}

// startServer serves a server over the fake engine on a loopback port and
// returns a connected client.
func startServer(t *testing.T, maxBytes int64) (*fakeEngine, *flightsql.Client) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	f := &fakeEngine{mem: mem}
	s, err := New(Config{Engine: f, Catalog: fakeCatalog{}, Alloc: mem, MaxBatchBytes: maxBytes})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, lis, time.Second) }()
	cl, err := flightsql.NewClient(lis.Addr().String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cl.Close()
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		mem.AssertSize(t, 0)
	})
	return f, cl
}

// fetch reads every batch of info's endpoints and returns the int64 values.
func fetch(t *testing.T, cl *flightsql.Client, info *flight.FlightInfo) ([]int64, int) {
	t.Helper()
	var vals []int64
	batches := 0
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(context.Background(), ep.Ticket)
		if err != nil {
			t.Fatal(err)
		}
		for rdr.Next() {
			batches++
			col := rdr.RecordBatch().Column(0).(*array.Int64)
			vals = append(vals, col.Int64Values()...)
		}
		if err := rdr.Err(); err != nil {
			t.Fatal(err)
		}
		rdr.Release()
	}
	return vals, batches
}

func TestStatementQuery(t *testing.T) {
	_, cl := startServer(t, 4096)
	info, err := cl.Execute(context.Background(), "select 2500")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := flight.DeserializeSchema(info.Schema, memory.DefaultAllocator)
	if err != nil || !sc.Equal(intSchema) {
		t.Fatalf("schema = %v, %v", sc, err)
	}
	vals, batches := fetch(t, cl, info)
	if len(vals) != 2500 || vals[2499] != 2499 {
		t.Fatalf("got %d values", len(vals))
	}
	// Two 1000-row batches of 8000 bytes split in two under 4096 bytes, plus 500 rows.
	if batches != 5 {
		t.Fatalf("batches = %d, want split batches", batches)
	}
}

func TestStatementErrors(t *testing.T) {
	_, cl := startServer(t, 0)
	ctx := context.Background()
	if _, err := cl.Execute(ctx, "nosuch"); status.Code(err) != codes.NotFound {
		t.Fatalf("unknown table: %v", err)
	}
	if _, err := cl.Execute(ctx, "panic"); status.Code(err) != codes.Internal {
		t.Fatalf("panic: %v", err)
	}
	// The server survives the panic.
	info, err := cl.Execute(ctx, "select 3")
	if err != nil {
		t.Fatal(err)
	}
	if vals, _ := fetch(t, cl, info); len(vals) != 3 {
		t.Fatalf("after panic: %v", vals)
	}
}

func TestMalformedTicket(t *testing.T) {
	_, cl := startServer(t, 0)
	body := []byte("not a quiver ticket")
	tkt, err := flightsql.CreateStatementQueryTicket(body)
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cl.DoGet(context.Background(), &flight.Ticket{Ticket: tkt})
	if err == nil {
		for rdr.Next() {
		}
		err = rdr.Err()
		rdr.Release()
	}
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("err = %v, want InvalidArgument", err)
	}
}

func TestPreparedStatements(t *testing.T) {
	f, cl := startServer(t, 0)
	ctx := context.Background()

	q, err := cl.Prepare(ctx, "select 5")
	if err != nil {
		t.Fatal(err)
	}
	if !q.DatasetSchema().Equal(intSchema) {
		t.Fatalf("dataset schema = %v", q.DatasetSchema())
	}
	info, err := q.Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if vals, _ := fetch(t, cl, info); len(vals) != 5 {
		t.Fatalf("prepared query: %v", vals)
	}
	if err := q.Close(ctx); err != nil {
		t.Fatal(err)
	}

	u, err := cl.Prepare(ctx, "insert ?")
	if err != nil {
		t.Fatal(err)
	}
	if u.DatasetSchema() != nil && u.DatasetSchema().NumFields() != 0 {
		t.Fatalf("DML dataset schema must be empty, got %v", u.DatasetSchema())
	}
	if ps := u.ParameterSchema(); ps.NumFields() != 1 || ps.Field(0).Type.ID() != arrow.INT64 {
		t.Fatalf("parameter schema = %v", ps)
	}
	bld := array.NewInt64Builder(memory.DefaultAllocator)
	bld.AppendValues([]int64{10, 20, 30}, nil)
	col := bld.NewArray()
	params := array.NewRecordBatch(u.ParameterSchema(), []arrow.Array{col}, 3)
	u.SetParameters(params)
	n, err := u.ExecuteUpdate(ctx)
	params.Release()
	col.Release()
	bld.Release()
	if err != nil {
		t.Fatal(err)
	}
	if n != 3 {
		t.Fatalf("rows affected = %d, want 3 (one per parameter row)", n)
	}
	f.mu.Lock()
	last := f.execs[len(f.execs)-3:]
	f.mu.Unlock()
	for i, p := range last {
		if len(p) != 1 || p[0].String() != []string{"10", "20", "30"}[i] {
			t.Fatalf("execution %d params = %v", i, p)
		}
	}
	if err := u.Close(ctx); err != nil {
		t.Fatal(err)
	}
}

type handle []byte

func (h handle) GetPreparedStatementHandle() []byte { return h }

func TestUnknownHandle(t *testing.T) {
	s, err := New(Config{Engine: &fakeEngine{}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	h := handle("no-such-handle")
	if _, _, err := s.DoGetPreparedStatement(ctx, h); status.Code(err) != codes.NotFound {
		t.Errorf("DoGet: %v", err)
	}
	if _, err := s.GetFlightInfoPreparedStatement(ctx, h, &flight.FlightDescriptor{}); status.Code(err) != codes.NotFound {
		t.Errorf("GetFlightInfo: %v", err)
	}
	if err := s.ClosePreparedStatement(ctx, h); status.Code(err) != codes.NotFound {
		t.Errorf("Close: %v", err)
	}
	if _, err := s.DoPutPreparedStatementUpdate(ctx, h, nil); status.Code(err) != codes.NotFound {
		t.Errorf("DoPut update: %v", err)
	}
}

func TestUpdate(t *testing.T) {
	_, cl := startServer(t, 0)
	n, err := cl.ExecuteUpdate(context.Background(), "insert 1")
	if err != nil || n != 1 {
		t.Fatalf("update = %d, %v", n, err)
	}
	if _, err := cl.ExecuteUpdate(context.Background(), "nosuch"); status.Code(err) != codes.NotFound {
		t.Fatalf("err = %v", err)
	}
}

func TestCancelClosesStream(t *testing.T) {
	f, cl := startServer(t, 0)
	info, err := cl.Execute(context.Background(), "wait")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if !rdr.Next() {
		t.Fatalf("first batch must arrive before the query ends: %v", rdr.Err())
	}
	cancel()
	rdr.Release()
	deadline := time.Now().Add(5 * time.Second)
	for f.closed.Load() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("engine stream not closed after client cancel")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestMetadata(t *testing.T) {
	_, cl := startServer(t, 0)
	ctx := context.Background()
	strs := func(info *flight.FlightInfo, col int) []string {
		rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
		if err != nil {
			t.Fatal(err)
		}
		defer rdr.Release()
		var out []string
		for rdr.Next() {
			c := rdr.RecordBatch().Column(col).(*array.String)
			for i := range c.Len() {
				out = append(out, c.Value(i))
			}
		}
		return out
	}
	info, err := cl.GetCatalogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := strs(info, 0); len(got) != 1 || got[0] != CatalogName {
		t.Fatalf("catalogs = %v", got)
	}
	pat := "t%"
	info, err = cl.GetDBSchemas(ctx, &flightsql.GetDBSchemasOpts{DbSchemaFilterPattern: &pat})
	if err != nil {
		t.Fatal(err)
	}
	if got := strs(info, 1); len(got) != 2 || got[0] != "test" || got[1] != "tpch" {
		t.Fatalf("schemas = %v", got)
	}
	sp, tp := "tpch", "%n%"
	info, err = cl.GetTables(ctx, &flightsql.GetTablesOpts{DbSchemaFilterPattern: &sp, TableNameFilterPattern: &tp,
		TableTypes: []string{"BASE TABLE"}, IncludeSchema: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := strs(info, 2); len(got) != 2 || got[0] != "lineitem" || got[1] != "nation" {
		t.Fatalf("tables = %v", got)
	}
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if !rdr.Next() {
		t.Fatal("no tables batch")
	}
	raw := rdr.RecordBatch().Column(4).(*array.Binary).Value(0)
	sc, err := flight.DeserializeSchema(raw, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	fmd := sc.Field(1).Metadata
	md := flightsql.ColumnMetadata{Data: &fmd}
	if tn, _ := md.TypeName(); tn != "DECIMAL" {
		t.Fatalf("type name = %q", tn)
	}
	if p, _ := md.Precision(); p != 15 {
		t.Fatalf("precision = %d", p)
	}
	other := "other"
	info, err = cl.GetTables(ctx, &flightsql.GetTablesOpts{Catalog: &other})
	if err != nil {
		t.Fatal(err)
	}
	if got := strs(info, 2); len(got) != 0 {
		t.Fatalf("tables of unknown catalog = %v", got)
	}
	info, err = cl.GetTableTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := strs(info, 0); len(got) != 3 {
		t.Fatalf("table types = %v", got)
	}
}

func TestSqlInfo(t *testing.T) {
	_, cl := startServer(t, 0)
	ctx := context.Background()
	info, err := cl.GetSqlInfo(ctx, []flightsql.SqlInfo{flightsql.SqlInfoFlightSqlServerName, flightsql.SqlInfoIdentifierQuoteChar})
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	got := map[uint32]string{}
	for rdr.Next() {
		b := rdr.RecordBatch()
		names := b.Column(0).(*array.Uint32)
		vals := b.Column(1).(*array.DenseUnion)
		for i := range int(b.NumRows()) {
			child := vals.Field(vals.ChildID(i)).(*array.String)
			got[names.Value(i)] = child.Value(int(vals.ValueOffset(i)))
		}
	}
	if got[uint32(flightsql.SqlInfoFlightSqlServerName)] != "Quiver" || got[uint32(flightsql.SqlInfoIdentifierQuoteChar)] != "`" {
		t.Fatalf("sql info = %v", got)
	}
}
