package server

import (
	"context"
	"testing"

	"google.golang.org/grpc/codes"
)

// TestPollHeldBytes: the rows held for a client's unread PollFlightInfo
// results are bounded; a query past the bound fails with ResourceExhausted
// and frees what it held, and smaller ones still run and read whole.
func TestPollHeldBytes(t *testing.T) {
	old := maxHeldPollBytes
	maxHeldPollBytes = 64 << 10
	t.Cleanup(func() { maxHeldPollBytes = old })
	ts := startWith(t, Config{})
	cl := dial(t, ts.addr)
	ctx := context.Background()

	// 100000 int64 rows: 800 kB, over 64 kB. The poll answers at once; the
	// error comes with a later poll or the read.
	poll, err := cl.ExecutePoll(ctx, "select 100000", nil)
	if err == nil {
		_, err = fetchErr(cl, poll.Info, ctx)
	}
	wantCode(t, err, codes.ResourceExhausted, "result over the held-bytes bound")
	ts.polls.mu.Lock()
	held := len(ts.polls.held)
	ts.polls.mu.Unlock()
	if held != 0 {
		t.Fatalf("bytes still charged after the query failed: %v", ts.polls.held)
	}
	poll, err = cl.ExecutePoll(ctx, "select 1000", nil)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := fetchErr(cl, poll.Info, ctx); err != nil || n != 1000 {
		t.Fatalf("small poll: %d rows, %v", n, err)
	}
}
