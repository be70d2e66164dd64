package server

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Shutdown with a query that stops when canceled and one that ignores
// cancellation: after the grace period the first client gets Unavailable
// saying why, the second loses its connection, and Serve returns within
// grace + 2 s regardless.
func TestShutdownAfterGrace(t *testing.T) {
	f := &fakeEngine{mem: memory.DefaultAllocator, hang: make(chan struct{})}
	defer close(f.hang)
	s, err := New(Config{Engine: f})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	const grace = 300 * time.Millisecond
	go func() { done <- s.Serve(ctx, lis, grace) }()

	errs := map[string]chan error{}
	for _, sql := range []string{"wait", "hang"} {
		cl, err := flightsql.NewClient(lis.Addr().String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			t.Fatal(err)
		}
		defer cl.Close()
		info, err := cl.Execute(context.Background(), sql)
		if err != nil {
			t.Fatal(err)
		}
		rdr, err := cl.DoGet(context.Background(), info.Endpoint[0].Ticket)
		if err != nil {
			t.Fatal(err)
		}
		if !rdr.Next() {
			t.Fatalf("%s: no first batch: %v", sql, rdr.Err())
		}
		ch := make(chan error, 1)
		errs[sql] = ch
		go func() {
			defer rdr.Release()
			for rdr.Next() {
			}
			ch <- rdr.Err()
		}()
	}

	start := time.Now()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve: %v", err)
		}
		if d := time.Since(start); d < grace {
			t.Errorf("Serve returned after %v, before the grace period", d)
		}
	case <-time.After(grace + 3*time.Second):
		t.Fatal("Serve did not return within grace + 3 s")
	}
	if d := time.Since(start); d > grace+2*time.Second+500*time.Millisecond {
		t.Errorf("Serve took %v (grace %v)", d, grace)
	}
	for sql, ch := range errs {
		select {
		case err := <-ch:
			if status.Code(err) != codes.Unavailable {
				t.Errorf("%s: client got %v, want Unavailable", sql, err)
			}
			if sql == "wait" && !strings.Contains(status.Convert(err).Message(), "shutting down") {
				t.Errorf("%s: message %q does not say the server is shutting down", sql, status.Convert(err).Message())
			}
		case <-time.After(5 * time.Second):
			t.Errorf("%s: client still waiting after shutdown", sql)
		}
	}
}

// A shutdown with nothing running returns at once.
func TestShutdownIdle(t *testing.T) {
	s, err := New(Config{Engine: &fakeEngine{mem: memory.DefaultAllocator}})
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, lis, time.Minute) }()
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	cancel()
	if err := <-done; err != nil || time.Since(start) > 2*time.Second {
		t.Errorf("idle shutdown: %v after %v", err, time.Since(start))
	}
}
