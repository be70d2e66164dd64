package server

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

func TestHandleRoundTrip(t *testing.T) {
	c, err := newHandleCodec([]byte("secret"), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	in := handleData{user: "alice", schema: "tpch", sql: "select * from t where a = ?", params: []byte{1, 2, 3}}
	h, err := c.encode(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.decode(h, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if out.user != in.user || out.schema != in.schema || out.sql != in.sql || string(out.params) != string(in.params) {
		t.Fatalf("decoded %+v, want %+v", out, in)
	}
	// Same secret elsewhere (another node): accepted; another secret: not.
	c2, _ := newHandleCodec([]byte("secret"), time.Hour)
	if _, err := c2.decode(h, "alice"); err != nil {
		t.Fatalf("same key: %v", err)
	}
	c3, _ := newHandleCodec([]byte("other"), time.Hour)
	if _, err := c3.decode(h, "alice"); err == nil {
		t.Fatal("handle accepted under another key")
	}
	// Random keys (single nodes) differ.
	r1, _ := newHandleCodec(nil, 0)
	r2, _ := newHandleCodec(nil, 0)
	hr, _ := r1.encode(in)
	if _, err := r2.decode(hr, "alice"); err == nil {
		t.Fatal("random keys agree")
	}
}

func TestHandleTampering(t *testing.T) {
	c, _ := newHandleCodec([]byte("secret"), time.Hour)
	h, err := c.encode(handleData{user: "alice", schema: "tpch", sql: "select 1"})
	if err != nil {
		t.Fatal(err)
	}
	for i := range h {
		bad := append([]byte(nil), h...)
		bad[i] ^= 0x01
		if _, err := c.decode(bad, "alice"); err == nil {
			t.Fatalf("byte %d altered: accepted", i)
		}
	}
	// Changing the SQL while keeping the MAC.
	forged := []byte(strings.Replace(string(h), "select 1", "select 2", 1))
	if _, err := c.decode(forged, "alice"); err == nil {
		t.Fatal("altered SQL accepted")
	}
	for _, bad := range [][]byte{nil, {}, {handleVersion}, h[:len(h)-1], append(append([]byte(nil), h...), 0)} {
		if _, err := c.decode(bad, "alice"); err == nil {
			t.Fatalf("handle %x accepted", bad)
		}
	}
}

func TestHandleExpiryAndUser(t *testing.T) {
	c, _ := newHandleCodec([]byte("secret"), time.Minute)
	now := time.Now()
	c.now = func() time.Time { return now }
	h, _ := c.encode(handleData{user: "alice", sql: "select 1"})
	if _, err := c.decode(h, "bob"); err == nil || !strings.Contains(err.Error(), "Unknown prepared statement handle") {
		t.Fatalf("another user's handle: %v", err)
	}
	if _, err := c.decode(h, ""); err == nil {
		t.Fatal("anonymous caller redeemed alice's handle")
	}
	now = now.Add(2 * time.Minute)
	if _, err := c.decode(h, "alice"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired handle: %v", err)
	}
}

func TestHandleTooLarge(t *testing.T) {
	c, _ := newHandleCodec(nil, 0)
	if _, err := c.encode(handleData{sql: strings.Repeat("x", maxHandlePart+1)}); err == nil || !strings.Contains(err.Error(), "too long") {
		t.Fatalf("huge SQL: %v", err)
	}
	if _, err := c.encode(handleData{sql: "select 1", params: make([]byte, maxHandlePart+1)}); err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("huge params: %v", err)
	}
}

// A handle made by one server (node) runs on another with the same key,
// with the parameters it carries; a server with another key does not know it.
func TestHandleAcrossServers(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	key := []byte("cluster secret")
	newSrv := func(key []byte) *Server {
		s, err := New(Config{Engine: &fakeEngine{mem: mem}, Alloc: mem, HandleKey: key})
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1, s2, s3 := newSrv(key), newSrv(key), newSrv([]byte("other"))
	ctx := metadata.NewIncomingContext(context.Background(), metadata.MD{})
	res, err := s1.CreatePreparedStatement(ctx, &pb.ActionCreatePreparedStatementRequest{Query: "insert"})
	if err != nil {
		t.Fatal(err)
	}
	// Bind a parameter as DoPutPreparedStatementQuery encodes it.
	b := array.NewInt64Builder(mem)
	b.Append(7)
	col := b.NewArray()
	b.Release()
	rec := array.NewRecordBatch(arrow.NewSchema([]arrow.Field{{Name: "p", Type: arrow.PrimitiveTypes.Int64}}, nil), []arrow.Array{col}, 1)
	col.Release()
	params, err := encodeParams([]arrow.RecordBatch{rec})
	rec.Release()
	if err != nil {
		t.Fatal(err)
	}
	d, err := s1.prepared.codec.decode(res.Handle, "")
	if err != nil {
		t.Fatal(err)
	}
	d.params = params
	bound, err := s1.prepared.codec.encode(d)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := s2.preparedFor(ctx, bound)
	if err != nil {
		t.Fatal(err)
	}
	if rows := p.bound(); len(rows) != 1 || rows[0][0].String() != "7" {
		t.Fatalf("bound on node 2: %v", rows)
	}
	if _, err := s2.GetFlightInfoPreparedStatement(ctx, handle(res.Handle), &flight.FlightDescriptor{}); err != nil {
		t.Fatalf("node 2 GetFlightInfo: %v", err)
	}
	if _, err := s3.GetFlightInfoPreparedStatement(ctx, handle(res.Handle), &flight.FlightDescriptor{}); status.Code(err) != codes.NotFound {
		t.Fatalf("other key: %v", err)
	}
	for _, h := range [][]byte{bound, res.Handle} {
		for _, s := range []*Server{s1, s2} {
			if err := s.ClosePreparedStatement(ctx, flightsql.ActionClosePreparedStatementRequest(&pb.ActionClosePreparedStatementRequest{PreparedStatementHandle: h})); err != nil {
				t.Fatalf("close: %v", err)
			}
		}
	}
}
