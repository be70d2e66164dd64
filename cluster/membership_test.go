package cluster

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"go.uber.org/zap/zaptest"
)

// fastGossip makes failure detection take well under a second.
func fastGossip(c *memberlist.Config) {
	c.ProbeInterval = 100 * time.Millisecond
	c.ProbeTimeout = 50 * time.Millisecond
	c.SuspicionMult = 1
	c.SuspicionMaxTimeoutMult = 1
	c.GossipInterval = 20 * time.Millisecond
	c.PushPullInterval = 500 * time.Millisecond
	c.TCPTimeout = time.Second
	c.DeadNodeReclaimTime = time.Second
}

type testNode struct {
	*Membership
	mu     sync.Mutex
	events []Event
}

func startNode(t *testing.T, name, cluster string, key []byte, join ...string) *testNode {
	t.Helper()
	m, err := NewMembership(MembershipConfig{
		ClusterName: cluster, NodeName: name, BindAddr: "127.0.0.1:0", Join: join, GossipKey: key,
		Meta: NodeMeta{FlightAddr: "127.0.0.1:1" + name[len(name)-1:], InternalAddr: "127.0.0.1:2" + name[len(name)-1:],
			Cores: 4, Memory: 8 << 30, Version: "test"},
		Log: zaptest.NewLogger(t), Tune: fastGossip,
	})
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{Membership: m}
	m.Subscribe(func(e Event) {
		n.mu.Lock()
		n.events = append(n.events, e)
		n.mu.Unlock()
	})
	t.Cleanup(func() { m.Close() })
	return n
}

func (n *testNode) sawEvent(typ EventType, node string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, e := range n.events {
		if e.Type == typ && e.Node.Name == node {
			return true
		}
	}
	return false
}

var extra = func() string { return "" }

func waitFor(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what+extra())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func states(m *Membership) string {
	var parts []string
	for _, n := range m.All() {
		parts = append(parts, n.Name+"="+n.State.String())
	}
	return strings.Join(parts, ",")
}

func TestMembershipJoinMetaLeaveFail(t *testing.T) {
	n1 := startNode(t, "n1", "", nil)
	seed := n1.Local().GossipAddr
	n2 := startNode(t, "n2", "", nil, seed)
	n3 := startNode(t, "n3", "", nil, "localhost:"+strings.Split(seed, ":")[1]) // DNS name as seed
	for _, n := range []*testNode{n1, n2, n3} {
		waitFor(t, n.Local().Name+" sees 3 alive", 5*time.Second, func() bool { return states(n.Membership) == "n1=alive,n2=alive,n3=alive" })
	}
	select {
	case <-n3.Joined():
	default:
		t.Fatal("Joined not closed")
	}
	// Metadata travels.
	for _, m := range n1.Members() {
		want := NodeMeta{Cluster: "quiver", FlightAddr: "127.0.0.1:1" + m.Name[1:], InternalAddr: "127.0.0.1:2" + m.Name[1:],
			Cores: 4, Memory: 8 << 30, Version: "test"}
		if len(m.Instance) != 16 || m.Started.IsZero() || time.Since(m.Started) > time.Minute {
			t.Errorf("%s: instance %q started %v", m.Name, m.Instance, m.Started)
		}
		want.Instance, want.Started = m.Instance, m.Started
		if own := map[string]*testNode{"n1": n1, "n2": n2, "n3": n3}[m.Name].Local(); own.Instance != m.Instance || !own.Started.Equal(m.Started) {
			t.Errorf("%s: peers see instance %s started %v, it has %s started %v", m.Name, m.Instance, m.Started, own.Instance, own.Started)
		}
		if m.NodeMeta != want {
			t.Errorf("meta of %s = %+v, want %+v", m.Name, m.NodeMeta, want)
		}
		if m.GossipAddr == "" {
			t.Errorf("%s has no gossip address", m.Name)
		}
	}
	if l := n2.Local(); l.Name != "n2" || l.State != StateAlive {
		t.Fatalf("Local() = %+v", l)
	}
	waitFor(t, "join events", 2*time.Second, func() bool { return n1.sawEvent(EventJoin, "n2") && n1.sawEvent(EventJoin, "n3") })

	extra = func() string { return " n1: " + states(n1.Membership) + " n2: " + states(n2.Membership) }
	// Graceful leave: "left", not failed.
	if err := n3.Leave(2 * time.Second); err != nil {
		t.Fatal(err)
	}
	for _, n := range []*testNode{n1, n2} {
		waitFor(t, "n3 left on "+n.Local().Name, 5*time.Second, func() bool { return states(n.Membership) == "n1=alive,n2=alive,n3=left" })
	}
	if len(n1.Members()) != 2 {
		t.Fatalf("Members() after leave: %v", n1.Members())
	}
	waitFor(t, "leave event", 2*time.Second, func() bool { return n1.sawEvent(EventLeave, "n3") })
	if n1.sawEvent(EventFail, "n3") {
		t.Fatal("a graceful leave was reported as a failure")
	}

	// Abrupt stop: detected as dead.
	n2.Close()
	waitFor(t, "n2 dead on n1", 10*time.Second, func() bool { return states(n1.Membership) == "n1=alive,n2=dead,n3=left" })
	waitFor(t, "fail event", 2*time.Second, func() bool { return n1.sawEvent(EventFail, "n2") })

	// A node coming back under the same name is alive again, as a new instance.
	old := n1.nodeView("n2")
	n2b := startNode(t, "n2", "", nil, seed)
	waitFor(t, "n2 back", 10*time.Second, func() bool { return states(n1.Membership) == "n1=alive,n2=alive,n3=left" })
	if got := n1.nodeView("n2"); got.Instance == old.Instance || got.Instance != n2b.Local().Instance {
		t.Fatalf("n2 back with instance %s (before: %s, its own: %s)", got.Instance, old.Instance, n2b.Local().Instance)
	}
}

func (n *testNode) nodeView(name string) Node {
	for _, m := range n.All() {
		if m.Name == name {
			return m
		}
	}
	return Node{}
}

// A node restarted under the same name and address before its peers
// noticed it died: they report the old instance failed, then the new one
// joined, although gossip never declared the name dead.
func TestMembershipRestartSameNameNewInstance(t *testing.T) {
	slow := func(c *memberlist.Config) {
		fastGossip(c)
		c.ProbeInterval = time.Minute // no failure detection within the test
	}
	start := func(name, bind string, join ...string) *testNode {
		m, err := NewMembership(MembershipConfig{NodeName: name, BindAddr: bind, Join: join,
			Meta: NodeMeta{Version: "test"}, Log: zaptest.NewLogger(t), Tune: slow})
		if err != nil {
			t.Fatal(err)
		}
		n := &testNode{Membership: m}
		m.Subscribe(func(e Event) {
			n.mu.Lock()
			n.events = append(n.events, e)
			n.mu.Unlock()
		})
		t.Cleanup(func() { m.Close() })
		return n
	}
	n1 := start("n1", "127.0.0.1:0")
	n2 := start("n2", "127.0.0.1:0", n1.Local().GossipAddr)
	waitFor(t, "n1 sees n2", 5*time.Second, func() bool { return states(n1.Membership) == "n1=alive,n2=alive" })
	oldInst, addr := n2.Local().Instance, n2.Local().GossipAddr
	n2.Close()
	n2b := start("n2", addr, n1.Local().GossipAddr)
	waitFor(t, "n1 sees the new instance", 10*time.Second, func() bool { return n1.nodeView("n2").Instance == n2b.Local().Instance })
	waitFor(t, "events", 2*time.Second, func() bool { return n1.sawEvent(EventFail, "n2") && n1.sawEvent(EventJoin, "n2") })
	n1.mu.Lock()
	var seq []string
	for _, e := range n1.events {
		if e.Node.Name == "n2" && e.Type != EventUpdate {
			seq = append(seq, e.Type.String()+":"+e.Node.Instance+":"+e.Node.State.String())
		}
	}
	n1.mu.Unlock()
	want := []string{"join:" + oldInst + ":alive", "fail:" + oldInst + ":dead", "join:" + n2b.Local().Instance + ":alive"}
	if strings.Join(seq, " ") != strings.Join(want, " ") {
		t.Fatalf("events about n2: %v, want %v", seq, want)
	}
	if s := states(n1.Membership); s != "n1=alive,n2=alive" {
		t.Fatalf("n1 sees %s", s)
	}
}

func TestMembershipRefusesOtherCluster(t *testing.T) {
	a := startNode(t, "a1", "alpha", nil)
	b := startNode(t, "b1", "beta", nil, a.Local().GossipAddr)
	time.Sleep(1500 * time.Millisecond)
	select {
	case <-b.Joined():
		t.Fatal("a node of cluster beta joined cluster alpha")
	default:
	}
	if s := states(a.Membership); s != "a1=alive" {
		t.Fatalf("alpha sees %s", s)
	}
	if s := states(b.Membership); s != "b1=alive" {
		t.Fatalf("beta sees %s", s)
	}
}

// The metadata check alone (same label, other cluster name in the
// metadata) also refuses the merge.
func TestMembershipMergeDelegateRefusesOtherCluster(t *testing.T) {
	a := startNode(t, "a1", "alpha", nil)
	m, err := NewMembership(MembershipConfig{
		ClusterName: "beta", NodeName: "b1", BindAddr: "127.0.0.1:0", Join: []string{a.Local().GossipAddr},
		Meta: NodeMeta{Version: "test"}, Log: zaptest.NewLogger(t),
		Tune: func(c *memberlist.Config) { fastGossip(c); c.Label = "quiver/alpha" }, // forged label
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	time.Sleep(1500 * time.Millisecond)
	if s := states(a.Membership); s != "a1=alive" {
		t.Fatalf("alpha sees %s", s)
	}
}

func TestMembershipGossipKey(t *testing.T) {
	key1, _ := ParseGossipKey("MDEyMzQ1Njc4OWFiY2RlZg==") // 16 bytes
	key2, _ := ParseGossipKey("ZmVkY2JhOTg3NjU0MzIxMA==")
	a := startNode(t, "k1", "", key1)
	good := startNode(t, "k2", "", key1, a.Local().GossipAddr)
	bad := startNode(t, "k3", "", key2, a.Local().GossipAddr)
	plain := startNode(t, "k4", "", nil, a.Local().GossipAddr)
	waitFor(t, "same-key node joins", 5*time.Second, func() bool { return states(a.Membership) == "k1=alive,k2=alive" })
	time.Sleep(time.Second)
	if s := states(a.Membership); s != "k1=alive,k2=alive" {
		t.Fatalf("with the key: %s", s)
	}
	for _, n := range []*testNode{bad, plain} {
		if s := states(n.Membership); strings.Contains(s, "k1") {
			t.Fatalf("%s joined without the right key: %s", n.Local().Name, s)
		}
	}
	_ = good
	for _, k := range []string{"", "bm90IGEga2V5", "!!"} {
		if _, err := ParseGossipKey(k); err == nil {
			t.Errorf("ParseGossipKey(%q) accepted", k)
		}
	}
}

func TestMetaEncoding(t *testing.T) {
	m := NodeMeta{Cluster: "quiver", FlightAddr: "quiver-2.quiver.default.svc.cluster.local:32010",
		InternalAddr: "[2001:db8::1]:32011", Cores: 64, Memory: 256 << 30, Version: "v1.2.3-4-gabcdef-dirty",
		Instance: NewInstanceID(), Started: startTime(time.Now())}
	b, err := encodeMeta(m)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 200 {
		t.Fatalf("metadata %d bytes", len(b))
	}
	got, err := decodeMeta(b)
	if err != nil || got != m {
		t.Fatalf("round trip: %+v %v", got, err)
	}
	for i := range b {
		if _, err := decodeMeta(b[:i]); err == nil {
			t.Fatalf("truncated metadata (%d bytes) accepted", i)
		}
	}
	if _, err := encodeMeta(NodeMeta{Version: strings.Repeat("x", 500)}); err == nil {
		t.Fatal("oversized metadata accepted")
	}
	// Every field at its longest still fits memberlist's limit.
	long := strings.Repeat("x", maxMetaString)
	big, err := encodeMeta(NodeMeta{Cluster: long, FlightAddr: long, InternalAddr: long, Version: long, Instance: NewInstanceID(),
		Cores: 1 << 20, Memory: 1 << 62, Leaving: true, Started: time.Now()})
	if err != nil || len(big) > memberlist.MetaMaxSize {
		t.Fatalf("largest metadata: %d bytes, %v", len(big), err)
	}
	// Format 2 readers skip fields a later format appends.
	if got, err := decodeMeta(append(b, 7, 'x')); err != nil || got != m {
		t.Fatalf("with appended bytes: %+v %v", got, err)
	}
	// Format 1 (no instance, no start time, nothing after the flags)
	// from a node of the previous version is still read.
	v1 := []byte{metaMagic1}
	for _, s := range []string{"quiver", "f:1", "i:2", "v0"} {
		v1 = append(append(v1, byte(len(s))), s...)
	}
	v1 = append(v1, 4, 8, 1)
	got, err = decodeMeta(v1)
	if want := (NodeMeta{Cluster: "quiver", FlightAddr: "f:1", InternalAddr: "i:2", Version: "v0", Cores: 4, Memory: 8, Leaving: true}); err != nil || got != want {
		t.Fatalf("format 1: %+v %v, want %+v", got, err, want)
	}
	if _, err := decodeMeta(append(v1, 0)); err == nil {
		t.Fatal("format 1 with trailing bytes accepted")
	}
	_ = fmt.Sprint
}
