package cluster

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	sockaddr "github.com/hashicorp/go-sockaddr"
	"github.com/hashicorp/memberlist"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

// DefaultClusterName is the cluster name when none is configured.
const DefaultClusterName = "quiver"

// MembershipConfig configures gossip membership.
type MembershipConfig struct {
	ClusterName string   // default DefaultClusterName; nodes of other clusters are refused
	NodeName    string   // unique in the cluster (required)
	BindAddr    string   // gossip host:port (TCP and UDP); port 0 picks one
	Advertise   string   // host (IP or DNS name) peers should use, when it differs from the bind host
	Join        []string // seeds host:port (DNS names allowed); retried in the background
	GossipKey   []byte   // 16, 24 or 32 bytes: AES-GCM encrypted gossip; nil = plaintext
	Meta        NodeMeta // this node's addresses and capacity (Cluster is filled in)
	Log         *zap.Logger

	// RetainDeparted is how long dead and left nodes stay visible in All
	// (system.nodes). Default 1 hour.
	RetainDeparted time.Duration
	// Tune adjusts memberlist's configuration (tests use fast timings).
	Tune func(*memberlist.Config)
}

// EventType is what happened to a member.
type EventType int

const (
	EventJoin    EventType = iota // a node joined (or came back)
	EventUpdate                   // its metadata changed
	EventLeave                    // it left gracefully
	EventFail                     // it was declared dead
	EventLeaving                  // it announced it is leaving (no new tasks)
)

func (t EventType) String() string {
	return [...]string{"join", "update", "leave", "fail", "leaving"}[t]
}

// Event is a membership change delivered to subscribers.
type Event struct {
	Type EventType
	Node Node
}

// Membership is this node's view of the cluster, kept by memberlist gossip.
type Membership struct {
	cfg    MembershipConfig
	log    *zap.Logger
	ml     *memberlist.Memberlist
	meta   []byte
	seeds  []string
	joined chan struct{}
	done   chan struct{}
	wg     sync.WaitGroup
	stop   sync.Once

	mu    sync.RWMutex
	nodes map[string]*Node // name → latest view (departed ones until RetainDeparted)
	local Node

	subMu   sync.Mutex
	subs    map[int]func(Event)
	nextSub int
	queue   []Event
	wake    chan struct{}
}

// ParseGossipKey decodes a base64 gossip key of 16, 24 or 32 bytes.
func ParseGossipKey(s string) ([]byte, error) {
	k, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil {
		return nil, fmt.Errorf("gossip key: not base64: %w", err)
	}
	if n := len(k); n != 16 && n != 24 && n != 32 {
		return nil, fmt.Errorf("gossip key: %d bytes, want 16, 24 or 32 (AES-128/192/256)", n)
	}
	return k, nil
}

// NewMembership starts gossip on cfg.BindAddr and joins cfg.Join in the
// background (retrying until a seed answers; see Joined). Stop it with
// Leave (graceful) or Close.
func NewMembership(cfg MembershipConfig) (*Membership, error) {
	if cfg.ClusterName == "" {
		cfg.ClusterName = DefaultClusterName
	}
	if cfg.NodeName == "" {
		return nil, errors.New("membership: a node name is required")
	}
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	if cfg.RetainDeparted <= 0 {
		cfg.RetainDeparted = time.Hour
	}
	if k := len(cfg.GossipKey); k != 0 && k != 16 && k != 24 && k != 32 {
		return nil, fmt.Errorf("membership: gossip key of %d bytes, want 16, 24 or 32", k)
	}
	host, portStr, err := net.SplitHostPort(cfg.BindAddr)
	if err != nil {
		return nil, fmt.Errorf("membership: gossip address %q: %w", cfg.BindAddr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return nil, fmt.Errorf("membership: gossip address %q: bad port", cfg.BindAddr)
	}
	bindIP, err := resolveIP(host)
	if err != nil {
		return nil, fmt.Errorf("membership: gossip address %q: %w", cfg.BindAddr, err)
	}
	advIP := bindIP
	if cfg.Advertise != "" {
		if advIP, err = resolveIP(cfg.Advertise); err != nil {
			return nil, fmt.Errorf("membership: --advertise %q: %w", cfg.Advertise, err)
		}
	}
	if advIP.IsUnspecified() {
		priv, err := sockaddr.GetPrivateIP()
		if err != nil || priv == "" {
			return nil, fmt.Errorf("membership: gossip listens on %s and no private IP to advertise was found: give --advertise", host)
		}
		advIP = net.ParseIP(priv)
	}
	cfg.Meta.Cluster = cfg.ClusterName
	if cfg.Meta.Instance == "" {
		cfg.Meta.Instance = NewInstanceID()
	}
	if cfg.Meta.Started.IsZero() {
		cfg.Meta.Started = time.Now()
	}
	cfg.Meta.Started = startTime(cfg.Meta.Started)
	cfg.Meta.FlightAddr = fillHost(cfg.Meta.FlightAddr, advIP)
	cfg.Meta.InternalAddr = fillHost(cfg.Meta.InternalAddr, advIP)
	meta, err := encodeMeta(cfg.Meta)
	if err != nil {
		return nil, err
	}
	if len(meta) > memberlist.MetaMaxSize {
		return nil, fmt.Errorf("membership: node metadata is %d bytes, over memberlist's %d", len(meta), memberlist.MetaMaxSize)
	}

	m := &Membership{
		cfg: cfg, log: cfg.Log.With(zap.String("node", cfg.NodeName)), meta: meta, seeds: cfg.Join,
		joined: make(chan struct{}), done: make(chan struct{}),
		nodes: map[string]*Node{}, subs: map[int]func(Event){}, wake: make(chan struct{}, 1),
	}
	m.local = Node{Name: cfg.NodeName, NodeMeta: cfg.Meta, State: StateAlive, Since: time.Now()}

	mc := memberlist.DefaultLANConfig()
	mc.Name = cfg.NodeName
	mc.BindAddr = bindIP.String()
	mc.BindPort = port
	mc.AdvertiseAddr = advIP.String()
	mc.AdvertisePort = port
	// The label is checked on every packet and stream before anything else:
	// gossip of another cluster is dropped at the door. The metadata check
	// below (Alive/Merge delegates) is the second line.
	mc.Label = "quiver/" + cfg.ClusterName
	mc.SecretKey = cfg.GossipKey
	mc.Delegate = (*mlDelegate)(m)
	mc.Events = (*mlDelegate)(m)
	mc.Alive = (*mlDelegate)(m)
	mc.Merge = (*mlDelegate)(m)
	mc.Logger = log.New(&zapWriter{log: m.log}, "", 0)
	if cfg.Tune != nil {
		cfg.Tune(mc)
	}
	ml, err := memberlist.Create(mc)
	if err != nil {
		return nil, fmt.Errorf("membership: start gossip on %s: %w", cfg.BindAddr, err)
	}
	m.ml = ml
	m.mu.Lock()
	lp := ml.LocalNode().Port
	m.local.GossipAddr = net.JoinHostPort(advIP.String(), strconv.Itoa(int(lp)))
	if n := m.nodes[cfg.NodeName]; n != nil {
		n.GossipAddr = m.local.GossipAddr
	}
	m.mu.Unlock()

	m.wg.Add(1)
	go m.dispatch()
	if len(cfg.Join) == 0 {
		close(m.joined)
	} else {
		m.wg.Add(1)
		go m.joinLoop()
	}
	m.log.Info("gossip started", zap.String("gossip", m.local.GossipAddr), zap.String("cluster", cfg.ClusterName),
		zap.Bool("encrypted", len(cfg.GossipKey) > 0), zap.Strings("join", cfg.Join))
	return m, nil
}

func resolveIP(host string) (net.IP, error) {
	if host == "" {
		return net.IPv4zero, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		return ip, nil
	}
	ips, err := net.LookupIP(host)
	if err != nil {
		return nil, err
	}
	for _, ip := range ips {
		if ip.To4() != nil {
			return ip, nil
		}
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("%s resolves to no address", host)
	}
	return ips[0], nil
}

// fillHost replaces an empty or unspecified host of addr by ip.
func fillHost(addr string, ip net.IP) string {
	if addr == "" {
		return ""
	}
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if h == "" || net.ParseIP(h) != nil && net.ParseIP(h).IsUnspecified() {
		return net.JoinHostPort(ip.String(), p)
	}
	return addr
}

// joinLoop contacts the seeds until one answers: seeds may start later
// than this node (and DNS names may not resolve yet).
func (m *Membership) joinLoop() {
	defer m.wg.Done()
	backoff := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		n, err := m.ml.Join(m.seeds)
		if n > 0 {
			m.log.Info("joined the cluster", zap.Int("seeds_reached", n), zap.Int("members", m.ml.NumMembers()))
			close(m.joined)
			return
		}
		lvl := zap.DebugLevel
		if attempt%8 == 3 {
			lvl = zap.WarnLevel
		}
		m.log.Check(lvl, "no gossip seed answered yet; retrying").Write(zap.Strings("join", m.seeds), zap.Error(err), zap.Int("attempt", attempt))
		select {
		case <-time.After(backoff):
		case <-m.done:
			return
		}
		backoff = min(backoff*2, 10*time.Second)
	}
}

// Joined is closed once a seed answered (at once when there are no seeds).
func (m *Membership) Joined() <-chan struct{} { return m.joined }

// Local is this node.
func (m *Membership) Local() Node {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if n := m.nodes[m.cfg.NodeName]; n != nil {
		return *n
	}
	return m.local
}

// Members returns the members that take tasks (alive or suspect, not
// leaving), this node included, sorted by name.
func (m *Membership) Members() []Node {
	var out []Node
	for _, n := range m.All() {
		if n.State.Live() {
			out = append(out, n)
		}
	}
	return out
}

// All returns every member this node knows, including nodes that died or
// left within RetainDeparted, sorted by name.
func (m *Membership) All() []Node {
	m.mu.RLock()
	defer m.mu.RUnlock()
	out := make([]Node, 0, len(m.nodes))
	cut := time.Now().Add(-m.cfg.RetainDeparted)
	for _, n := range m.nodes {
		if n.State.Live() || n.Since.After(cut) {
			out = append(out, *n)
		}
	}
	if len(out) == 0 {
		out = append(out, m.local)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// Subscribe calls fn for every membership event, in order, on a goroutine
// of the membership (never on memberlist's own): fn may block, at the cost
// of delaying later events. The returned function unsubscribes.
func (m *Membership) Subscribe(fn func(Event)) (unsubscribe func()) {
	m.subMu.Lock()
	defer m.subMu.Unlock()
	id := m.nextSub
	m.nextSub++
	m.subs[id] = fn
	return func() {
		m.subMu.Lock()
		delete(m.subs, id)
		m.subMu.Unlock()
	}
}

func (m *Membership) dispatch() {
	defer m.wg.Done()
	for {
		select {
		case <-m.wake:
		case <-m.done:
			return
		}
		for {
			m.subMu.Lock()
			if len(m.queue) == 0 {
				m.subMu.Unlock()
				break
			}
			ev := m.queue[0]
			m.queue = m.queue[1:]
			ids := make([]int, 0, len(m.subs))
			for id := range m.subs {
				ids = append(ids, id)
			}
			sort.Ints(ids)
			fns := make([]func(Event), 0, len(ids))
			for _, id := range ids {
				fns = append(fns, m.subs[id])
			}
			m.subMu.Unlock()
			for _, fn := range fns {
				fn(ev)
			}
		}
	}
}

// AnnounceLeaving tells the cluster this node is leaving (coordinators
// stop placing tasks on it) while it stays a member: it drains first, then
// calls Leave. It waits up to timeout for the update to spread.
func (m *Membership) AnnounceLeaving(timeout time.Duration) error {
	m.mu.Lock()
	m.cfg.Meta.Leaving = true
	meta, err := encodeMeta(m.cfg.Meta)
	if err == nil {
		m.meta = meta
	}
	m.mu.Unlock()
	if err != nil {
		return err
	}
	select {
	case <-m.done:
		return errors.New("membership stopped")
	default:
	}
	return m.ml.UpdateNode(timeout)
}

// Leave tells the cluster this node is leaving (peers see it as "left",
// not failed), waits up to timeout for the message to spread, then stops
// gossip.
func (m *Membership) Leave(timeout time.Duration) error {
	var err error
	m.stop.Do(func() {
		// memberlist's leave callback does not say whether a node left or
		// failed, so the intent travels first in the metadata.
		m.mu.Lock()
		m.cfg.Meta.Leaving = true
		meta, eerr := encodeMeta(m.cfg.Meta)
		if eerr == nil {
			m.meta = meta
		}
		m.mu.Unlock()
		if uerr := m.ml.UpdateNode(timeout); uerr != nil {
			m.log.Warn("announcing leave", zap.Error(uerr))
		}
		err = m.ml.Leave(timeout)
		if err == nil {
			// Give the broadcast a moment to reach more than one peer.
			time.Sleep(min(timeout/4, 500*time.Millisecond))
		}
		m.shutdown()
		m.log.Info("left the cluster")
	})
	return err
}

// Close stops gossip without leaving: peers will declare this node dead.
func (m *Membership) Close() error {
	m.stop.Do(m.shutdown)
	return nil
}

func (m *Membership) shutdown() {
	close(m.done)
	if err := m.ml.Shutdown(); err != nil {
		m.log.Warn("gossip shutdown", zap.Error(err))
	}
	m.wg.Wait()
}

// observe records a memberlist callback; it never blocks.
func (m *Membership) observe(n *memberlist.Node, t EventType) {
	meta, err := decodeMeta(n.Meta)
	if err != nil {
		m.log.Warn("ignoring a member with unreadable metadata", zap.String("member", n.Name))
		return
	}
	node := Node{Name: n.Name, GossipAddr: n.Address(), NodeMeta: meta, State: StateAlive, Since: time.Now()}
	m.mu.Lock()
	old := m.nodes[n.Name]
	var events []Event
	if old != nil && restarted(old, meta) && (old.State.Live() || old.State == StateLeaving) {
		// Same name, new process, before gossip declared the old one
		// dead: subscribers see the old instance fail (or leave, if it
		// announced it), then the new one join.
		gone := *old
		gone.State, gone.Since = StateDead, time.Now()
		typ := EventFail
		if old.Leaving || old.State == StateLeaving {
			gone.State, typ = StateLeft, EventLeave
		}
		events = append(events, Event{Type: typ, Node: gone})
		m.log.Info("member restarted: its previous instance is gone", zap.String("member", n.Name),
			zap.String("old_instance", old.Instance), zap.String("instance", meta.Instance))
		old = nil
		if t == EventUpdate {
			t = EventJoin
		}
	}
	switch {
	case t == EventFail && old != nil && (old.Leaving || old.State == StateLeaving):
		t, node.State = EventLeave, StateLeft
	case t == EventFail:
		node.State = StateDead
	case meta.Leaving:
		node.State = StateLeaving
		if old == nil || old.State != StateLeaving {
			t = EventLeaving
		}
	}
	if old != nil && old.State == node.State {
		node.Since = old.Since
	}
	m.nodes[n.Name] = &node
	cut := time.Now().Add(-m.cfg.RetainDeparted)
	for name, o := range m.nodes {
		if !o.State.Live() && o.Since.Before(cut) {
			delete(m.nodes, name)
		}
	}
	m.mu.Unlock()
	if n.Name != m.cfg.NodeName || t != EventUpdate {
		lvl := zap.InfoLevel
		if n.Name == m.cfg.NodeName {
			lvl = zap.DebugLevel
		}
		m.log.Check(lvl, "member "+t.String()).Write(zap.String("member", n.Name), zap.String("flight", meta.FlightAddr))
	}
	m.subMu.Lock()
	m.queue = append(append(m.queue, events...), Event{Type: t, Node: node})
	m.subMu.Unlock()
	select {
	case m.wake <- struct{}{}:
	default:
	}
}

// restarted reports whether meta is another instance of the node old
// describes (nodes of format 1 carry no instance and are never told apart).
func restarted(old *Node, meta NodeMeta) bool {
	return old.Instance != "" && meta.Instance != "" && old.Instance != meta.Instance
}

// mlDelegate implements memberlist's delegates on the Membership.
type mlDelegate Membership

func (d *mlDelegate) m() *Membership { return (*Membership)(d) }

func (d *mlDelegate) NodeMeta(limit int) []byte {
	d.mu.RLock()
	defer d.mu.RUnlock()
	if len(d.meta) > limit {
		return nil // checked in NewMembership; cannot happen
	}
	return d.meta
}
func (d *mlDelegate) NotifyMsg([]byte)                           {}
func (d *mlDelegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *mlDelegate) LocalState(join bool) []byte                { return nil }
func (d *mlDelegate) MergeRemoteState(buf []byte, join bool)     {}

func (d *mlDelegate) NotifyJoin(n *memberlist.Node)   { d.m().observe(n, EventJoin) }
func (d *mlDelegate) NotifyUpdate(n *memberlist.Node) { d.m().observe(n, EventUpdate) }

// NotifyLeave is called for failed and departed nodes alike (memberlist's
// Node.State is not updated); observe tells them apart by the leaving flag.
func (d *mlDelegate) NotifyLeave(n *memberlist.Node) { d.m().observe(n, EventFail) }

// checkPeer refuses nodes whose metadata names another cluster.
func (d *mlDelegate) checkPeer(n *memberlist.Node) error {
	meta, err := decodeMeta(n.Meta)
	if err != nil {
		return fmt.Errorf("node %s: %w", n.Name, err)
	}
	if meta.Cluster != d.cfg.ClusterName {
		return fmt.Errorf("node %s belongs to cluster %q, not %q", n.Name, meta.Cluster, d.cfg.ClusterName)
	}
	return nil
}

func (d *mlDelegate) NotifyAlive(n *memberlist.Node) error { return d.checkPeer(n) }

func (d *mlDelegate) NotifyMerge(peers []*memberlist.Node) error {
	for _, p := range peers {
		if err := d.checkPeer(p); err != nil {
			d.log.Warn("refusing to merge with another cluster", zap.Error(err))
			return err
		}
	}
	return nil
}

// zapWriter turns memberlist's "[LEVEL] memberlist: msg" lines into zap.
type zapWriter struct{ log *zap.Logger }

func (w *zapWriter) Write(p []byte) (int, error) {
	line := string(bytes.TrimSpace(p))
	lvl := zap.DebugLevel
	for prefix, l := range map[string]zapcore.Level{"[ERR]": zap.ErrorLevel, "[WARN]": zap.WarnLevel, "[INFO]": zap.DebugLevel, "[DEBUG]": zap.DebugLevel} {
		if rest, ok := strings.CutPrefix(line, prefix); ok {
			lvl, line = l, strings.TrimSpace(rest)
			break
		}
	}
	if ce := w.log.Check(lvl, line); ce != nil {
		ce.Write(zap.String("component", "memberlist"))
	}
	return len(p), nil
}

var _ io.Writer = (*zapWriter)(nil)
