package cluster

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
)

// A peer that goes silent (network partition: packets dropped, no reset)
// must look like a failed one: calls to it (run-task, shuffle DoGet) would
// otherwise hang until TCP gives up. Two things end them: gRPC keepalive
// on the internal connections (the call fails with Unavailable after a few
// seconds of silence), and the node being declared dead — by gossip or by
// another call that found it unreachable — which cancels every call still
// outstanding to it. Either way the failure takes the unreachable-node
// path: the task runs elsewhere and the output held there is recomputed.

// errPeerDown is the cause of a call canceled because its node was
// declared dead or unreachable.
type errPeerDown struct{ node, why string }

func (e *errPeerDown) Error() string { return fmt.Sprintf("node %s is down (%s)", e.node, e.why) }

// peerCalls tracks the calls outstanding to each peer.
type peerCalls struct {
	mu    sync.Mutex
	calls map[string]map[*context.CancelCauseFunc]struct{}
}

// watchPeer derives from ctx a context canceled (cause *errPeerDown) when
// node is declared down; release it when the call ended. A call to a node
// already down (gossip declared it dead, or it is in its unreachable
// cooldown) is canceled at once: nothing would cancel it later.
func (d *Dist) watchPeer(ctx context.Context, node string) (context.Context, func()) {
	cctx, cancel := context.WithCancelCause(ctx)
	if why := d.downReason(node); why != "" {
		cancel(&errPeerDown{node: node, why: why})
		return cctx, func() {}
	}
	p := &d.peers
	p.mu.Lock()
	if p.calls == nil {
		p.calls = map[string]map[*context.CancelCauseFunc]struct{}{}
	}
	m := p.calls[node]
	if m == nil {
		m = map[*context.CancelCauseFunc]struct{}{}
		p.calls[node] = m
	}
	m[&cancel] = struct{}{}
	p.mu.Unlock()
	return cctx, func() {
		p.mu.Lock()
		delete(p.calls[node], &cancel)
		if len(p.calls[node]) == 0 {
			delete(p.calls, node)
		}
		p.mu.Unlock()
		cancel(context.Canceled)
	}
}

// downReason says why node is down ("" if it is not): in its unreachable
// cooldown, or known to gossip as neither alive nor leaving.
func (d *Dist) downReason(node string) string {
	if node == d.cfg.NodeName {
		return ""
	}
	if d.isUnreachable(node) {
		return "unreachable"
	}
	for _, n := range d.cfg.Members() {
		if n.Name == node && !n.State.Live() && n.State != StateLeaving {
			return "declared dead by gossip"
		}
	}
	return ""
}

// peerDown cancels every call outstanding to node.
func (d *Dist) peerDown(node, why string) {
	if node == d.cfg.NodeName {
		return
	}
	p := &d.peers
	p.mu.Lock()
	m := p.calls[node]
	delete(p.calls, node)
	p.mu.Unlock()
	cause := &errPeerDown{node: node, why: why}
	for c := range m {
		(*c)(cause)
	}
}

// OutstandingPeerCalls is the number of calls (run-task, shuffle fetch)
// in flight to node (tests, metrics).
func (d *Dist) OutstandingPeerCalls(node string) int {
	d.peers.mu.Lock()
	defer d.peers.mu.Unlock()
	return len(d.peers.calls[node])
}

// peerDownCause returns the *errPeerDown ctx was canceled with, if any.
func peerDownCause(ctx context.Context) *errPeerDown {
	var pd *errPeerDown
	if ctx.Err() != nil && errors.As(context.Cause(ctx), &pd) {
		return pd
	}
	return nil
}

// watchedFetch is a shuffle fetch from a peer, ended when the peer is
// declared down (then it fails with a FetchError, so the output is
// recomputed).
type watchedFetch struct {
	execution.Stream
	ctx     context.Context
	loc     ShuffleLocation
	release func()
	closed  bool
}

func (w *watchedFetch) Next(ctx context.Context) (arrow.RecordBatch, error) {
	b, err := w.Stream.Next(ctx)
	if err != nil && !errors.Is(err, execution.EOF) && ctx.Err() == nil {
		if pd := peerDownCause(w.ctx); pd != nil {
			return nil, &FetchError{Loc: w.loc, Err: pd}
		}
	}
	return b, err
}

func (w *watchedFetch) Close() error {
	if w.closed {
		return nil
	}
	w.closed = true
	err := w.Stream.Close()
	w.release()
	return err
}
