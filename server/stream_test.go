package server

import (
	"context"
	"testing"
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
