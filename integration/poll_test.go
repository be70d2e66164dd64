package integration

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// pollToEnd polls until the query is complete and returns the last PollInfo
// and every progress value seen.
func pollToEnd(t *testing.T, cl *flightsql.Client, first *flight.PollInfo) (*flight.PollInfo, []float64) {
	t.Helper()
	ctx := context.Background()
	pi, seen := first, []float64{first.GetProgress()}
	deadline := time.Now().Add(time.Minute)
	for pi.GetFlightDescriptor() != nil {
		if time.Now().After(deadline) {
			t.Fatal("query did not finish within a minute of polling")
		}
		var err error
		if pi, err = cl.Client.PollFlightInfo(ctx, pi.GetFlightDescriptor()); err != nil {
			t.Fatal(err)
		}
		seen = append(seen, pi.GetProgress())
	}
	return pi, seen
}

func readInt(t *testing.T, cl *flightsql.Client, info *flight.FlightInfo) []int64 {
	t.Helper()
	var out []int64
	for _, ep := range info.GetEndpoint() {
		rdr, err := cl.DoGet(context.Background(), ep.GetTicket())
		if err != nil {
			t.Fatal(err)
		}
		for rdr.Next() {
			col := rdr.RecordBatch().Column(0).(*array.Int64)
			out = append(out, col.Int64Values()...)
		}
		if err := rdr.Err(); err != nil {
			t.Fatal(err)
		}
		rdr.Release()
	}
	return out
}

// readCode reads a ticket to the end and returns the status code.
func readCode(cl *flightsql.Client, tkt *flight.Ticket) codes.Code {
	rdr, err := cl.DoGet(context.Background(), tkt)
	if err != nil {
		return status.Code(err)
	}
	defer rdr.Release()
	for rdr.Next() {
	}
	return status.Code(rdr.Err())
}

func TestPollFlightInfo(t *testing.T) {
	eng := newEngine(t, sf001, "tpch")
	cl := serve(t, eng)
	ctx := context.Background()

	const sql = "SELECT COUNT(*) FROM lineitem a JOIN lineitem b ON a.l_orderkey = b.l_orderkey"
	first, err := cl.ExecutePoll(ctx, sql, nil)
	if err != nil {
		t.Fatal(err)
	}
	last, seen := pollToEnd(t, cl, first)
	for i := 1; i < len(seen); i++ {
		if seen[i] < seen[i-1] {
			t.Errorf("progress went back: %v", seen)
		}
	}
	if last.GetProgress() != 1 {
		t.Errorf("final progress %v, want 1 (seen %v)", last.GetProgress(), seen)
	}
	if last.GetExpirationTime() == nil {
		t.Error("a complete PollInfo names when its result expires")
	}
	info, err := cl.Execute(ctx, sql)
	if err != nil {
		t.Fatal(err)
	}
	want := readInt(t, cl, info)
	if got := readInt(t, cl, last.GetInfo()); len(got) != 1 || len(want) != 1 || got[0] != want[0] || got[0] == 0 {
		t.Errorf("polled result %v, statement result %v", got, want)
	}
	// Read once: the result is freed.
	if code := readCode(cl, last.GetInfo().GetEndpoint()[0].GetTicket()); code != codes.NotFound {
		t.Errorf("second read of a poll result: %v, want NotFound", code)
	}

	// Prepared statement with a parameter; the endpoint read while running.
	ps, err := cl.Prepare(ctx, "SELECT COUNT(*) FROM lineitem WHERE l_quantity > 40")
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close(ctx)
	pi, err := ps.ExecutePoll(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if got := readInt(t, cl, pi.GetInfo()); len(got) != 1 || got[0] <= 0 {
		t.Errorf("prepared poll result %v", got)
	}

	// Errors: bad SQL at the first poll, an unknown descriptor.
	if _, err := cl.ExecutePoll(ctx, "SELEC 1", nil); status.Code(err) != codes.InvalidArgument {
		t.Errorf("bad SQL: %v", err)
	}
	if _, err := cl.Client.PollFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: []byte("QVPQ1:nosuch")}); status.Code(err) != codes.NotFound {
		t.Errorf("unknown poll: %v", err)
	}
	if _, err := cl.Client.PollFlightInfo(ctx, &flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: []byte("garbage")}); status.Code(err) != codes.InvalidArgument {
		t.Errorf("garbage descriptor: %v", err)
	}
}

// CancelFlightInfo on a polled query stops it and frees its memory.
func TestPollCancel(t *testing.T) {
	eng := newEngine(t, sf001, "tpch")
	cl := serve(t, eng)
	ctx := context.Background()
	pi, err := cl.ExecutePoll(ctx, "SELECT COUNT(*) FROM lineitem a, lineitem b WHERE a.l_quantity + b.l_quantity > 1000", nil)
	if err != nil {
		t.Fatal(err)
	}
	if pi.GetFlightDescriptor() == nil {
		t.Fatal("a cross join of lineitem finished at once")
	}
	if _, err := cl.CancelFlightInfo(ctx, &flight.CancelFlightInfoRequest{Info: pi.GetInfo()}); err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Client.PollFlightInfo(ctx, pi.GetFlightDescriptor()); status.Code(err) != codes.NotFound && status.Code(err) != codes.Canceled {
		t.Errorf("poll after cancel: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for eng.MemoryInUse() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("memory in use %d bytes 5 s after the cancel", eng.MemoryInUse())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
