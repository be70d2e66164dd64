package server

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// TestStreamClosedAfterLastBatchReleased: DoGet closes the engine stream
// (where the engine settles the query's memory accounting) only once the
// writer released every batch it was sent: closing it as soon as the last
// batch was handed over counted the batch still being written as leaked on
// every query ("query ended still holding memory").
func TestStreamClosedAfterLastBatchReleased(t *testing.T) {
	ts := startWith(t, Config{})
	cl := dial(t, ts.addr)
	ctx := context.Background()
	for range 20 {
		ts.f.liveAtClose.Store(-1)
		info, err := cl.Execute(ctx, "select 5000")
		if err != nil {
			t.Fatal(err)
		}
		if n, err := fetchErr(cl, info, ctx); err != nil || n != 5000 {
			t.Fatalf("%d rows, %v", n, err)
		}
		if live := ts.f.liveAtClose.Load(); live != 0 {
			t.Fatalf("%d bytes of result batches still allocated when the stream was closed", live)
		}
	}
}

// TestCanceledStreamsLeaveNothing: DoGet streams the client cancels while
// the server is blocked writing to it (flow control) end with no goroutine
// left behind (arrow-go does not release the batch whose write failed, so
// waiting for every batch's release must end with the call).
func TestCanceledStreamsLeaveNothing(t *testing.T) {
	ts := startWith(t, Config{})
	cl := dial(t, ts.addr)
	info, err := cl.Execute(context.Background(), "select 50000000")
	if err != nil {
		t.Fatal(err)
	}
	base := runtime.NumGoroutine()
	for range 10 {
		ctx, cancel := context.WithCancel(context.Background())
		rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
		if err != nil {
			t.Fatal(err)
		}
		if !rdr.Next() { // the query runs; the rest fills the flow-control window
			t.Fatal(rdr.Err())
		}
		time.Sleep(50 * time.Millisecond)
		cancel()
		rdr.Release()
	}
	deadline := time.Now().Add(20 * time.Second)
	for runtime.NumGoroutine() > base+2 {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines, %d before:\n%s", runtime.NumGoroutine(), base, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(50 * time.Millisecond)
	}
}
