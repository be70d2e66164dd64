package cluster

import (
	"errors"
	"time"

	"go.uber.org/zap"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Node health as the scheduler sees it, ahead of gossip: a node whose
// internal service refuses connections (dial error, Unavailable) is taken
// out of task placement at once — for the query that saw it for good, for
// new queries during a cooldown — instead of receiving tasks until gossip
// declares it dead (seconds, hundreds of failed attempts).

// DefaultUnreachableCooldown is how long an unreachable node gets no new
// tasks before the scheduler tries it again.
const DefaultUnreachableCooldown = 10 * time.Second

// errDial marks a failure to create a client of a node.
type errDial struct{ err error }

func (e *errDial) Error() string { return "dial: " + e.err.Error() }
func (e *errDial) Unwrap() error { return e.err }

// unreachableErr reports whether err means the node could not be reached
// at all (as opposed to a task that failed there).
func unreachableErr(err error) bool {
	var de *errDial
	if errors.As(err, &de) {
		return true
	}
	var pd *errPeerDown
	if errors.As(err, &pd) {
		return true
	}
	var re *remoteError
	if errors.As(err, &re) {
		return false
	}
	// Unavailable: refused, reset, or silent past the keepalive timeout.
	// DeadlineExceeded: the call's own deadline passed with no answer (the
	// caller checks that the query itself has not expired).
	if s, ok := status.FromError(err); ok && (s.Code() == codes.Unavailable || s.Code() == codes.DeadlineExceeded) {
		return true
	}
	return false
}

// markUnreachable keeps node out of placement for the cooldown.
func (d *Dist) markUnreachable(node string, err error) {
	if node == d.cfg.NodeName {
		return
	}
	d.mu.Lock()
	_, already := d.unreachable[node]
	d.unreachable[node] = time.Now().Add(d.cfg.UnreachableCooldown)
	qs := make([]*dquery, 0, len(d.queries))
	for _, q := range d.queries {
		qs = append(qs, q)
	}
	d.mu.Unlock()
	// Calls still waiting on it (other tasks, fetches) end now too.
	d.peerDown(node, "unreachable")
	if !already {
		d.log.Warn("node unreachable: no tasks for it until the cooldown ends", zap.String("node", node), zap.Duration("cooldown", d.cfg.UnreachableCooldown), zap.Error(err))
	}
	// Every running query stops placing tasks there; its outputs there are
	// unreadable too, so they are recomputed when needed.
	for _, q := range qs {
		q.nodeLost(node)
	}
}

// isUnreachable reports whether node is in its cooldown.
func (d *Dist) isUnreachable(node string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	until, ok := d.unreachable[node]
	if !ok {
		return false
	}
	if time.Now().After(until) {
		delete(d.unreachable, node)
		return false
	}
	return true
}

// TasksSent is the number of run-task calls this node (as coordinator)
// has sent to node.
func (d *Dist) TasksSent(node string) int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.sent[node]
}
