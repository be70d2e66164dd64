package server

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// openWait starts a "wait" query (one batch, then blocks until canceled)
// and returns its reader after the first batch.
func openWait(t *testing.T, ctx context.Context, cl *flightsql.Client) (*flight.FlightInfo, *flight.Reader) {
	t.Helper()
	info, err := cl.Execute(ctx, "wait")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	if !rdr.Next() {
		t.Fatalf("first batch: %v", rdr.Err())
	}
	return info, rdr
}

// warmGoroutines runs one query (so the connection's goroutines exist) and
// returns the goroutine count.
func warmGoroutines(t *testing.T, ctx context.Context, cl *flightsql.Client) int {
	t.Helper()
	info, err := cl.Execute(ctx, "select 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fetchErr(cl, info, ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	return runtime.NumGoroutine()
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within a second: %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestCancelFlightInfo: CancelFlightInfo stops the running read, the
// engine stream is closed and the goroutines return to the baseline.
func TestCancelFlightInfo(t *testing.T) {
	ts := startWith(t, Config{})
	cl := dial(t, ts.addr)
	ctx := context.Background()
	base := warmGoroutines(t, ctx, cl)
	closed := ts.f.closed.Load()
	info, rdr := openWait(t, ctx, cl)
	defer rdr.Release()
	waitFor(t, "query registered", func() bool { return ts.running.count() == 1 })
	res, err := cl.CancelFlightInfo(ctx, &flight.CancelFlightInfoRequest{Info: info})
	if err != nil || res.Status != flight.CancelStatusCancelled {
		t.Fatalf("cancel: %v %v", res, err)
	}
	for rdr.Next() {
	}
	if status.Code(rdr.Err()) != codes.Canceled {
		t.Fatalf("reader after cancel: %v", rdr.Err())
	}
	waitFor(t, "engine stream closed", func() bool { return ts.f.closed.Load() == closed+1 })
	waitFor(t, "query unregistered", func() bool { return ts.running.count() == 0 })
	waitFor(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= base })

	// A ticket canceled before it is read fails its read.
	info, err = cl.Execute(ctx, "select 5")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.CancelFlightInfo(ctx, &flight.CancelFlightInfoRequest{Info: info}); err != nil {
		t.Fatal(err)
	}
	_, err = fetchErr(cl, info, ctx)
	wantCode(t, err, codes.Canceled, "read of a canceled ticket")
	if n, err := fetchErr(cl, info, ctx); err != nil || n != 5 {
		t.Fatalf("the cancellation applies once: %d %v", n, err)
	}
	_, err = cl.CancelFlightInfo(ctx, &flight.CancelFlightInfoRequest{})
	wantCode(t, err, codes.InvalidArgument, "cancel without info")
}

// TestClientDropStopsQuery: the client going away (JDBC Statement.cancel)
// closes the engine stream within a second, leaving no goroutine behind.
func TestClientDropStopsQuery(t *testing.T) {
	ts := startWith(t, Config{})
	cl := dial(t, ts.addr)
	base := warmGoroutines(t, context.Background(), cl)
	closed := ts.f.closed.Load()
	ctx, cancel := context.WithCancel(context.Background())
	_, rdr := openWait(t, ctx, cl)
	cancel()
	rdr.Release()
	waitFor(t, "engine stream closed", func() bool { return ts.f.closed.Load() == closed+1 })
	waitFor(t, "goroutines back to baseline", func() bool { return runtime.NumGoroutine() <= base })
}

func TestLimits(t *testing.T) {
	ts := startWith(t, Config{Limits: Limits{QueryTimeout: 300 * time.Millisecond, MaxResultBytes: 64 << 10, MaxConcurrentQueriesPerUser: 1}})
	cl := dial(t, ts.addr)
	ctx := context.Background()

	// Concurrency: a second statement while one runs is refused, and
	// allowed again once the first ended.
	_, rdr := openWait(t, ctx, cl)
	info, err := cl.Execute(ctx, "select 3")
	if err != nil {
		t.Fatal(err)
	}
	_, err = fetchErr(cl, info, ctx)
	wantCode(t, err, codes.ResourceExhausted, "second concurrent query")
	if !strings.Contains(status.Convert(err).Message(), "--max-concurrent-queries-per-user") {
		t.Errorf("message: %v", err)
	}
	// Timeout: the waiting query ends with DeadlineExceeded.
	for rdr.Next() {
	}
	wantCode(t, rdr.Err(), codes.DeadlineExceeded, "query timeout")
	rdr.Release()
	waitFor(t, "slot freed", func() bool {
		_, err := fetchErr(cl, info, ctx)
		return err == nil
	})
	// Result size: 100000 int64 rows are 800 kB > 64 KiB.
	info, _ = cl.Execute(ctx, "select 100000")
	_, err = fetchErr(cl, info, ctx)
	wantCode(t, err, codes.ResourceExhausted, "result too large")
	if !strings.Contains(status.Convert(err).Message(), "--max-result-bytes") {
		t.Errorf("message: %v", err)
	}
}

func TestTransactionsUnimplemented(t *testing.T) {
	ts := startWith(t, Config{})
	cl := dial(t, ts.addr)
	_, err := cl.BeginTransaction(context.Background())
	wantCode(t, err, codes.Unimplemented, "BeginTransaction")
	if !strings.Contains(status.Convert(err).Message(), "no transactions") {
		t.Errorf("message: %v", err)
	}
}

// TestBadInput: malformed descriptors, protobufs and parameter streams
// each get a clear error, and the server keeps serving.
func TestBadInput(t *testing.T) {
	ts := startWith(t, Config{})
	cl := dial(t, ts.addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	ctx := context.Background()
	raw := cl.Client

	// Descriptor command that is not a protobuf Any.
	_, err := raw.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: []byte("garbage")})
	wantCode(t, err, codes.InvalidArgument, "garbage descriptor")
	// An Any of an unknown command type.
	anyMsg, _ := anypb.New(&pb.Ticket{Ticket: []byte("x")})
	b, _ := proto.Marshal(anyMsg)
	_, err = raw.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: b})
	if err == nil {
		t.Fatal("unknown command accepted")
	}
	// Garbage ticket.
	rdr, err := raw.DoGet(ctx, &flight.Ticket{Ticket: []byte{0xff, 0x00, 0x13}})
	if err == nil {
		_, err = rdr.Recv()
	}
	if c := status.Code(err); c != codes.InvalidArgument {
		t.Fatalf("garbage ticket: %v", err)
	}

	// Wrong parameter count and type.
	mem := memory.NewGoAllocator()
	prep, err := cl.Prepare(ctx, "insert into t values (?)")
	if err != nil {
		t.Fatal(err)
	}
	defer prep.Close(ctx)
	two := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.PrimitiveTypes.Int64}, {Name: "b", Type: arrow.PrimitiveTypes.Int64}}, nil)
	bld := array.NewRecordBuilder(mem, two)
	bld.Field(0).(*array.Int64Builder).Append(1)
	bld.Field(1).(*array.Int64Builder).Append(2)
	rec := bld.NewRecordBatch()
	bld.Release()
	prep.SetParameters(rec)
	_, err = prep.ExecuteUpdate(ctx)
	wantCode(t, err, codes.InvalidArgument, "two parameters for one placeholder")
	rec.Release()

	// An oversized message is refused by gRPC with ResourceExhausted.
	big := make([]byte, maxRecvBytes+1)
	_, err = raw.GetFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: big},
		grpc.MaxCallSendMsgSize(maxRecvBytes+1024))
	wantCode(t, err, codes.ResourceExhausted, "oversized message")

	// Still serving.
	info, err := cl.Execute(ctx, "select 2")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := fetchErr(cl, info, ctx); err != nil || n != 2 {
		t.Fatalf("after bad input: %d %v", n, err)
	}
}
