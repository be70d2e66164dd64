package cluster

import (
	"context"
	"sync"
	"testing"
	"time"
)

// TestBroadcaster: Send reaches every live or leaving peer (not this node,
// not departed ones) over the secret-checked internal service, returns
// once they have it, and drops connections to nodes that are gone.
func TestBroadcaster(t *testing.T) {
	sec := Security{Secret: []byte("s3cret")}
	var mu sync.Mutex
	got := map[string]string{}
	var nodes []Node
	for _, name := range []string{"self", "alive", "leaving", "dead"} {
		srv, n := startInternal(t, sec)
		srv.HandleAction(ActionSessionUpdate, func(_ context.Context, b []byte) ([]byte, error) {
			mu.Lock()
			got[name] = string(b)
			mu.Unlock()
			return nil, nil
		})
		n.Name = name
		switch name {
		case "leaving":
			n.State = StateLeaving
		case "dead":
			n.State = StateDead
		}
		nodes = append(nodes, n)
	}
	members := nodes
	b := NewBroadcaster("self", func() []Node { return members }, sec, nil)
	defer b.Close()
	b.Send(context.Background(), ActionSessionUpdate, []byte("u1"))
	mu.Lock()
	if len(got) != 2 || got["alive"] != "u1" || got["leaving"] != "u1" {
		t.Fatalf("delivered to %v, want alive and leaving", got)
	}
	mu.Unlock()
	if len(b.clients) != 2 {
		t.Fatalf("%d connections, want 2", len(b.clients))
	}
	members = nodes[:2] // "leaving" is gone
	b.Send(context.Background(), ActionSessionUpdate, []byte("u2"))
	if len(b.clients) != 1 || got["alive"] != "u2" || got["leaving"] != "u1" {
		t.Fatalf("after the node left: %d connections, %v", len(b.clients), got)
	}

	// A peer without the secret's proof refuses: logged, Send still returns.
	wrong := NewBroadcaster("self", func() []Node { return nodes[:2] }, Security{Secret: []byte("other")}, nil)
	defer wrong.Close()
	wrong.Send(context.Background(), ActionSessionUpdate, []byte("forged"))
	if got["alive"] != "u2" {
		t.Fatalf("update with the wrong secret applied: %v", got)
	}
}

// TestBroadcasterCloseStopsPulls: Close stops a session pull a join event
// started (it does not wait for the peer's answer or outlive Close), and a
// join event after Close dials nobody: no connection is left open.
func TestBroadcasterCloseStopsPulls(t *testing.T) {
	sec := Security{Secret: []byte("s3cret")}
	srv, peer := startInternal(t, sec)
	peer.Name = "peer"
	calls := make(chan struct{}, 4)
	ended := make(chan struct{}, 4)
	srv.HandleAction(ActionSessionSync, func(ctx context.Context, _ []byte) ([]byte, error) {
		calls <- struct{}{}
		<-ctx.Done() // a peer that does not answer
		ended <- struct{}{}
		return nil, ctx.Err()
	})
	b := NewBroadcaster("self", func() []Node { return nil }, sec, nil)
	var onEvent func(Event)
	b.FollowSessions(func(fn func(Event)) func() { onEvent = fn; return func() {} },
		func([]byte) error { t.Error("nothing to apply"); return nil })

	onEvent(Event{Type: EventJoin, Node: peer})
	<-calls // the pull is waiting for the peer
	b.Close()
	select {
	case <-ended:
	case <-time.After(30 * time.Second):
		t.Fatal("the peer's session-sync call was never canceled")
	}
	onEvent(Event{Type: EventJoin, Node: peer})
	b.pulls.Wait()
	select {
	case <-calls:
		t.Fatal("a join event after Close pulled sessions")
	default:
	}
	if n := len(b.clients); n != 0 {
		t.Fatalf("%d connections left open after Close", n)
	}
}
