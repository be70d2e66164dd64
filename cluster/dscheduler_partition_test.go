package cluster_test

import (
	"context"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/quiverdb/quiver/cluster"
	"google.golang.org/grpc/keepalive"
)

// silentProxy forwards TCP to a node's internal service until silence:
// from then on it reads and drops everything, sends nothing and closes
// nothing, like a network partition that drops packets without a reset.
type silentProxy struct {
	lis    net.Listener
	target string
	silent atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	wg     sync.WaitGroup
}

func newSilentProxy(t *testing.T, target string) *silentProxy {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &silentProxy{lis: lis, target: target}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

func (p *silentProxy) addr() string { return p.lis.Addr().String() }

func (p *silentProxy) track(c net.Conn) {
	p.mu.Lock()
	p.conns = append(p.conns, c)
	p.mu.Unlock()
}

func (p *silentProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.lis.Accept()
		if err != nil {
			return
		}
		p.track(c)
		var up net.Conn
		if !p.silent.Load() {
			if up, err = net.Dial("tcp", p.target); err != nil {
				c.Close()
				continue
			}
			p.track(up)
		}
		p.wg.Add(2)
		go p.pipe(c, up)
		go p.pipe(up, c)
	}
}

// pipe copies src to dst until silence, then drops what src sends.
func (p *silentProxy) pipe(src, dst net.Conn) {
	defer p.wg.Done()
	if src == nil {
		return
	}
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.silent.Load() && dst != nil {
			if _, werr := dst.Write(buf[:n]); werr != nil && !p.silent.Load() {
				src.Close()
				return
			}
		}
		if err != nil {
			if err != io.EOF && !p.silent.Load() && dst != nil {
				dst.Close()
			}
			return
		}
	}
}

func (p *silentProxy) close() {
	p.lis.Close()
	p.mu.Lock()
	for _, c := range p.conns {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// startSilenceable starts a 3-node cluster whose third node is reached
// through a silentProxy.
func startSilenceable(t *testing.T) ([]*testNode, *silentProxy) {
	var proxy *silentProxy
	nodes := startCluster(t, 3, clusterOpts{advertise: func(i int, addr string) string {
		if i != 2 {
			return addr
		}
		proxy = newSilentProxy(t, addr)
		return proxy.addr()
	}})
	return nodes, proxy
}

// runWithSilence runs q09 on nodes[0], silencing nodes[2] once it holds
// shuffle output (between two stages): the query must complete, right,
// within limit, with the lost work redone elsewhere.
func runWithSilence(t *testing.T, nodes []*testNode, proxy *silentProxy, also func(), limit time.Duration) {
	t.Helper()
	coord, victim := nodes[0], nodes[2]
	var once sync.Once
	var cut time.Time
	cluster.SetAfterStage(coord.dist, func(q string, stage int) {
		if len(victim.dist.Store().Queries()) == 0 {
			return
		}
		once.Do(func() {
			cut = time.Now()
			proxy.silent.Store(true)
			if also != nil {
				also()
			}
		})
	})
	defer cluster.SetAfterStage(coord.dist, nil)
	checkAnswer(t, coord.eng, "q09")
	if cut.IsZero() {
		t.Fatalf("%s never held shuffle output", victim.name)
	}
	took := time.Since(cut)
	t.Logf("query completed %v after %s went silent", took.Round(time.Millisecond), victim.name)
	if took > limit {
		t.Errorf("query took %v after the partition, want < %v", took, limit)
	}
	recomputed := 0
	for s := 0; s < 8; s++ {
		recomputed += reruns(t, coord.eng, s)
	}
	if recomputed == 0 {
		t.Errorf("no task ran again after %s went silent", victim.name)
	}
	if n := coord.dist.OutstandingPeerCalls(victim.name); n != 0 {
		t.Errorf("%d calls to %s still outstanding", n, victim.name)
	}
}

// A node goes silent (packets dropped, no reset) while gossip still says
// it is alive: keepalive on the internal connections fails the calls
// waiting on it within seconds, and the query completes on the others.
func TestDistributedSilentNodeKeepalive(t *testing.T) {
	nodes, proxy := startSilenceable(t)
	runWithSilence(t, nodes, proxy, nil, 25*time.Second)
}

// A node goes silent and gossip declares it dead: calls outstanding to it
// end at once (not after the keepalive timeout, set long here) and the
// query completes on the others.
func TestDistributedSilentNodeDeclaredDead(t *testing.T) {
	saved := cluster.InternalKeepalive
	cluster.InternalKeepalive = keepalive.ClientParameters{Time: time.Minute, Timeout: time.Minute, PermitWithoutStream: true}
	t.Cleanup(func() { cluster.InternalKeepalive = saved })
	nodes, proxy := startSilenceable(t)
	victim := nodes[2]
	runWithSilence(t, nodes, proxy, func() {
		go victim.ml.Close() // gossip stops without leaving: declared dead
	}, 20*time.Second)
	// A call to the node started after it was declared dead ends at once
	// (nothing would cancel it later).
	ctx, release := cluster.WatchPeer(nodes[0].dist, context.Background(), victim.name)
	defer release()
	if ctx.Err() == nil || !strings.Contains(context.Cause(ctx).Error(), "is down") {
		t.Errorf("a new call to dead %s runs (cause %v)", victim.name, context.Cause(ctx))
	}
}
