package cluster

import (
	"context"
	"errors"
	"sync"
	"time"

	"go.uber.org/zap"
)

// ActionSessionUpdate carries a change of a client session (current
// schema, variables, close) from the node that made it to every peer, so
// a client's next call finds its session on whichever node it lands
// (server.Server.ApplySessionUpdate answers it).
const ActionSessionUpdate = "session-update"

// ActionSessionSync asks a peer for the sessions it knows changed (within
// the idle timeout): a node pulls them from every live peer when it starts
// and from each peer that joins later (a new node, or one back after a
// partition), so that it does not serve those sessions in the default
// state (server.Server.SessionSnapshot answers it).
const ActionSessionSync = "session-sync"

// broadcastTimeout bounds one push to one peer: a peer that does not
// answer in time misses the update (logged), the client's call goes on.
const broadcastTimeout = 3 * time.Second

// Broadcaster sends an internal action to every other member that still
// serves clients, over connections it keeps per peer.
type Broadcaster struct {
	self    string
	members func() []Node
	sec     Security
	log     *zap.Logger
	// ctx ends at Close: pulls started by join events stop with it.
	ctx    context.Context
	cancel context.CancelFunc
	pulls  sync.WaitGroup // pulls started by join events (FollowSessions)

	mu      sync.Mutex
	closed  bool
	clients map[string]*InternalClient // by internal address
}

var errBroadcasterClosed = errors.New("session broadcaster closed")

// NewBroadcaster pushes to the members listed by members (this node, named
// self, excluded).
func NewBroadcaster(self string, members func() []Node, sec Security, log *zap.Logger) *Broadcaster {
	if log == nil {
		log = zap.NewNop()
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Broadcaster{self: self, members: members, sec: sec, log: log, ctx: ctx, cancel: cancel,
		clients: map[string]*InternalClient{}}
}

// Send runs the action on every peer in parallel and returns when all
// answered or timed out; failures are logged, not returned: the change is
// already made on this node.
func (b *Broadcaster) Send(ctx context.Context, typ string, body []byte) {
	var peers []Node
	for _, n := range b.members() {
		// Leaving nodes still serve their clients until they stop.
		if n.Name != b.self && (n.State.Live() || n.State == StateLeaving) && n.InternalAddr != "" {
			peers = append(peers, n)
		}
	}
	b.prune(peers)
	var wg sync.WaitGroup
	for _, n := range peers {
		c, err := b.client(ctx, n)
		if err != nil {
			b.log.Warn("session update not sent", zap.String("node", n.Name), zap.Error(err))
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), broadcastTimeout)
			defer cancel()
			if _, err := c.Action(cctx, typ, body); err != nil {
				b.log.Warn("session update not applied", zap.String("node", n.Name), zap.String("action", typ), zap.Error(err))
			}
		}()
	}
	wg.Wait()
}

func (b *Broadcaster) client(ctx context.Context, n Node) (*InternalClient, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil, errBroadcasterClosed // a connection made now would never be closed
	}
	if c := b.clients[n.InternalAddr]; c != nil {
		return c, nil
	}
	c, err := Dial(ctx, n, b.sec)
	if err != nil {
		return nil, err
	}
	b.clients[n.InternalAddr] = c
	return c, nil
}

// prune closes the connections to nodes that are no longer peers.
func (b *Broadcaster) prune(peers []Node) {
	keep := make(map[string]bool, len(peers))
	for _, n := range peers {
		keep[n.InternalAddr] = true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for addr, c := range b.clients {
		if !keep[addr] {
			c.Close()
			delete(b.clients, addr)
		}
	}
}

// Close stops the pulls join events started, waits for them and closes the
// connections to the peers; later sends and pulls do nothing.
func (b *Broadcaster) Close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	b.cancel()
	b.pulls.Wait()
	b.prune(nil)
}

// FollowSessions pulls the sessions of every live peer now (returning once
// they answered or timed out) and of every peer that joins later
// (subscribe is Membership.Subscribe), handing each reply to apply. It
// returns the unsubscribe function.
func (b *Broadcaster) FollowSessions(subscribe func(func(Event)) func(), apply func([]byte) error) (stop func()) {
	stop = subscribe(func(ev Event) {
		if ev.Type != EventJoin || ev.Node.Name == b.self {
			return
		}
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.closed {
			return
		}
		b.pulls.Add(1)
		go func() { // membership events must not wait for it
			defer b.pulls.Done()
			b.pull(ev.Node, apply)
		}()
	})
	var wg sync.WaitGroup
	for _, n := range b.members() {
		if n.Name != b.self && n.State.Live() {
			wg.Add(1)
			go func() {
				defer wg.Done()
				b.pull(n, apply)
			}()
		}
	}
	wg.Wait()
	return stop
}

func (b *Broadcaster) pull(n Node, apply func([]byte) error) {
	ctx, cancel := context.WithTimeout(b.ctx, broadcastTimeout)
	defer cancel()
	c, err := b.client(ctx, n)
	if err != nil {
		b.log.Warn("sessions not pulled", zap.String("node", n.Name), zap.Error(err))
		return
	}
	reply, err := c.Action(ctx, ActionSessionSync, nil)
	if err == nil {
		err = apply(reply)
	}
	if err != nil {
		b.log.Warn("sessions not pulled", zap.String("node", n.Name), zap.Error(err))
	}
}
