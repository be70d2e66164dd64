package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/engine"
	"go.uber.org/zap"
)

// clusterFlags are the `quiver serve` flags of clustering.
type clusterFlags struct {
	clusterListen, gossipListen, advertise, join, nodeName   string
	clusterName, gossipKey, clusterSecret, clusterSecretFile string
	clusterTLSCert, clusterTLSKey, clusterTLSCA              string
	leaveTimeout                                             time.Duration
	shuffleMemory                                            byteSize
	shuffleCompression                                       string

	// Resolved by check.
	key    []byte
	secret []byte
}

func (c *clusterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&c.clusterListen, "cluster-listen", "", "internal Flight service address for other nodes (default: --listen host, port+1)")
	fs.StringVar(&c.gossipListen, "gossip-listen", "", "memberlist gossip address, TCP and UDP (default: --listen host, port+2)")
	fs.StringVar(&c.advertise, "advertise", "", "host (or host:port of the Flight SQL listener) peers and clients should use when it differs from the bind address")
	fs.StringVar(&c.join, "join", "", "gossip seeds host:port,... (DNS names allowed; retried until one answers)")
	fs.StringVar(&c.nodeName, "node-name", "", "node name, unique in the cluster (default: hostname-port)")
	fs.StringVar(&c.clusterName, "cluster-name", cluster.DefaultClusterName, "cluster name: nodes of other clusters are refused")
	fs.StringVar(&c.gossipKey, "gossip-key", "", "base64 key of 16, 24 or 32 bytes encrypting gossip (also QUIVER_GOSSIP_KEY)")
	fs.StringVar(&c.clusterSecret, "cluster-secret", "", "shared secret every internal call between nodes must carry (prefer --cluster-secret-file or QUIVER_CLUSTER_SECRET)")
	fs.StringVar(&c.clusterSecretFile, "cluster-secret-file", "", "file holding the shared cluster secret")
	fs.StringVar(&c.clusterTLSCert, "cluster-tls-cert", "", "certificate (PEM) of this node for mutual TLS between nodes")
	fs.StringVar(&c.clusterTLSKey, "cluster-tls-key", "", "private key (PEM) for --cluster-tls-cert")
	fs.StringVar(&c.clusterTLSCA, "cluster-tls-ca", "", "CA (PEM) that signs every node's certificate (mutual TLS between nodes)")
	fs.DurationVar(&c.leaveTimeout, "leave-timeout", 5*time.Second, "on SIGTERM, how long the node drains (running tasks finish, its shuffle output stays readable until its queries end) and then how long it waits for the cluster to hear that it leaves")
	c.shuffleMemory = defaultShuffleMemory
	fs.Var(&c.shuffleMemory, "shuffle-memory", "memory for shuffle output held on this node before it spills to --work-dir, e.g. 1GiB (cluster only)")
	fs.StringVar(&c.shuffleCompression, "shuffle-compression", "lz4", "compression of shuffle data sent between nodes and spilled: lz4, zstd or none (cluster only)")
}

// enabled: clustering starts with --join, an explicit gossip/cluster
// listener, or cluster credentials (--cluster-secret[-file], --gossip-key):
// a first node started with only its secret accepts joins, so the three
// nodes of the README differ only in --listen and --join. With none of
// these, `quiver serve` stays a single node and opens no other port.
func (c *clusterFlags) enabled() bool {
	return c.join != "" || c.gossipListen != "" || c.clusterListen != "" ||
		c.clusterSecret != "" || c.clusterSecretFile != "" || c.gossipKey != ""
}

// check validates the flags and resolves key and secret.
func (c *clusterFlags) check(listen string, insecure bool) error {
	var err error
	if c.gossipKey != "" {
		if c.key, err = cluster.ParseGossipKey(c.gossipKey); err != nil {
			return fmt.Errorf("--gossip-key: %w", err)
		}
	}
	switch {
	case c.clusterSecret != "" && c.clusterSecretFile != "":
		return fmt.Errorf("give --cluster-secret or --cluster-secret-file, not both")
	case c.clusterSecret != "":
		c.secret = []byte(c.clusterSecret)
	case c.clusterSecretFile != "":
		if c.secret, err = cluster.ReadSecretFile(c.clusterSecretFile); err != nil {
			return err
		}
	case c.key != nil:
		c.secret = cluster.DeriveSecret(c.key)
	}
	tlsSet := 0
	for _, v := range []string{c.clusterTLSCert, c.clusterTLSKey, c.clusterTLSCA} {
		if v != "" {
			tlsSet++
		}
	}
	if tlsSet != 0 && tlsSet != 3 {
		return fmt.Errorf("--cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca go together")
	}
	if !c.enabled() {
		return nil
	}
	if err := c.checkShuffle(); err != nil {
		return err
	}
	if c.secret == nil && !insecure {
		return fmt.Errorf("refusing to start a cluster node whose internal service anyone could call: give --cluster-secret-file " +
			"(or --cluster-secret / QUIVER_CLUSTER_SECRET, or --gossip-key to derive it), or --insecure to accept the risk")
	}
	host, port, err := splitPort(listen)
	if err != nil {
		return fmt.Errorf("--listen: %w", err)
	}
	if c.clusterListen == "" || c.gossipListen == "" {
		if port == 0 {
			return fmt.Errorf("--listen with port 0: give --cluster-listen and --gossip-listen explicitly")
		}
		if c.clusterListen == "" {
			c.clusterListen = net.JoinHostPort(host, strconv.Itoa(port+1))
		}
		if c.gossipListen == "" {
			c.gossipListen = net.JoinHostPort(host, strconv.Itoa(port+2))
		}
	}
	if c.leaveTimeout <= 0 {
		return fmt.Errorf("--leave-timeout must be positive")
	}
	return nil
}

// defaultShuffleMemory is --shuffle-memory's default.
const defaultShuffleMemory = byteSize(1 << 30)

// checkShuffle validates the shuffle flags (also without clustering, so a
// typo is caught before the node joins a cluster).
func (c *clusterFlags) checkShuffle() error {
	switch strings.ToLower(c.shuffleCompression) {
	case "lz4", "zstd", "none":
		c.shuffleCompression = strings.ToLower(c.shuffleCompression)
	default:
		return fmt.Errorf("--shuffle-compression: %q is not lz4, zstd or none", c.shuffleCompression)
	}
	if c.shuffleMemory <= 0 {
		return fmt.Errorf("--shuffle-memory must be positive")
	}
	return nil
}

func splitPort(addr string) (string, int, error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	n, err := strconv.Atoi(p)
	if err != nil || n < 0 || n > 65535 {
		return "", 0, fmt.Errorf("bad port in %q", addr)
	}
	return h, n, nil
}

// clusterNode is this node's membership and internal service (both nil
// on a single node).
type clusterNode struct {
	log      *zap.Logger
	members  *cluster.Membership
	internal *cluster.InternalServer
	served   chan error
	leave    time.Duration
	name     string
	sec      cluster.Security
	dist     *cluster.Dist
	leaving  chan struct{} // closed when a graceful leave (SIGTERM) ended
	signaled atomic.Bool   // a graceful leave started
}

// startCluster registers system.nodes and, when clustering is enabled,
// starts the internal service and gossip. flightAddr is the bound Flight
// SQL address.
func startCluster(c *clusterFlags, eng *engine.Engine, flightAddr string, log *zap.Logger) (*clusterNode, error) {
	cat := eng.Catalog()
	_, flightPort, err := splitPort(flightAddr)
	if err != nil {
		return nil, err
	}
	name := c.nodeName
	if name == "" {
		host, err := os.Hostname()
		if err != nil || host == "" {
			host = "quiver"
		}
		name = host + "-" + strconv.Itoa(flightPort)
	}
	meta := cluster.NodeMeta{Cluster: c.clusterName, FlightAddr: flightAddr, Cores: runtime.GOMAXPROCS(0),
		Memory: memoryLimit(), Version: version, Instance: cluster.NewInstanceID(), Started: time.UnixMilli(time.Now().UnixMilli())}
	advHost := ""
	if c.advertise != "" {
		advHost = c.advertise
		if h, p, err := net.SplitHostPort(c.advertise); err == nil {
			advHost = h
			meta.FlightAddr = net.JoinHostPort(h, p)
		} else {
			meta.FlightAddr = net.JoinHostPort(advHost, strconv.Itoa(flightPort))
		}
	}
	cn := &clusterNode{log: log, leave: c.leaveTimeout, name: name}
	if !c.enabled() {
		local := cluster.Node{Name: name, NodeMeta: meta, State: cluster.StateAlive, Since: time.Now()}
		// Alone, the node runs no tasks for peers and holds no shuffle
		// output; its queries' memory is the engine's.
		info := func() cluster.PingInfo {
			return cluster.PingInfo{Node: name, Version: version, RunningTasks: -1, Instance: meta.Instance, Started: meta.Started,
				Stats: &cluster.NodeStats{QueryMemory: eng.MemoryInUse()}}
		}
		return cn, cluster.RegisterNodesTable(cat, cluster.SingleNode{Node: local}, cluster.ProbeLoad(name, info, cluster.Security{}))
	}

	sec := cluster.Security{Secret: c.secret}
	if c.clusterTLSCert != "" {
		if sec.ServerTLS, sec.ClientTLS, err = cluster.LoadClusterTLS(c.clusterTLSCert, c.clusterTLSKey, c.clusterTLSCA, ""); err != nil {
			return nil, err
		}
	}
	cn.sec = sec
	if sec.Secret == nil {
		log.Warn("--insecure: the internal service accepts calls without a cluster secret")
	}
	if len(c.key) == 0 {
		log.Warn("gossip is not encrypted (no --gossip-key)")
	}
	lis, err := net.Listen("tcp", c.clusterListen)
	if err != nil {
		return nil, fmt.Errorf("--cluster-listen: %w", err)
	}
	_, intPort, _ := splitPort(lis.Addr().String())
	meta.InternalAddr = lis.Addr().String()
	if advHost != "" {
		meta.InternalAddr = net.JoinHostPort(advHost, strconv.Itoa(intPort))
	}
	cn.internal = cluster.NewInternalServer(cluster.InternalConfig{NodeName: name, Version: version, Security: sec, Log: log,
		Instance: meta.Instance, Started: meta.Started})
	cn.served = make(chan error, 1)
	go func() { cn.served <- cn.internal.Serve(lis) }()

	var seeds []string
	for _, s := range strings.Split(c.join, ",") {
		if s = strings.TrimSpace(s); s != "" {
			seeds = append(seeds, s)
		}
	}
	cn.members, err = cluster.NewMembership(cluster.MembershipConfig{
		ClusterName: c.clusterName, NodeName: name, BindAddr: c.gossipListen, Advertise: advHost,
		Join: seeds, GossipKey: c.key, Meta: meta, Log: log,
	})
	if err != nil {
		cn.internal.Stop(time.Second)
		return nil, err
	}
	if err := cluster.RegisterNodesTable(cat, cn.members, cluster.ProbeLoad(name, cn.internal.Info, sec)); err != nil {
		cn.close()
		return nil, err
	}
	log.Info("cluster node started", zap.String("node", name), zap.String("cluster", c.clusterName),
		zap.String("cluster_listen", lis.Addr().String()), zap.String("gossip_listen", cn.members.Local().GossipAddr),
		zap.Strings("join", seeds))
	return cn, nil
}

// leaveOnSignal leaves the cluster gracefully as soon as ctx ends (SIGTERM),
// before the Flight SQL server drains, so peers stop sending work here.
func (cn *clusterNode) leaveOnSignal(ctx context.Context) {
	if cn.members == nil {
		return
	}
	cn.leaving = make(chan struct{})
	go func() {
		defer close(cn.leaving)
		<-ctx.Done()
		cn.signaled.Store(true)
		if cn.dist != nil {
			// Drain first: peers stop placing tasks here, running tasks
			// finish and this node's shuffle output stays readable until
			// its queries end, all within --leave-timeout.
			if err := cn.members.AnnounceLeaving(cn.leave); err != nil {
				cn.log.Warn("announcing leave", zap.Error(err))
			}
			dctx, cancel := context.WithTimeout(context.Background(), cn.leave)
			cn.dist.Drain(dctx) //nolint:errcheck // logged inside
			cancel()
		}
		if err := cn.members.Leave(cn.leave); err != nil {
			cn.log.Warn("leaving the cluster", zap.Error(err))
		}
	}()
}

// startDist turns distributed execution on (clustering only): the node's
// distributed scheduler coordinates the queries it receives across the
// live members and runs the tasks peers send it. Its shuffle output goes
// under workDir (default os.TempDir()/quiver-<node>). Call it before the
// Flight SQL server serves.
func (cn *clusterNode) startDist(c *clusterFlags, eng *engine.Engine, workDir string, queryMemoryLimit int64) error {
	if cn.members == nil {
		return nil
	}
	if err := c.checkShuffle(); err != nil {
		return err
	}
	defaultDir := workDir == ""
	if defaultDir {
		// Removed at a clean exit; a crashed run's leftovers go at start.
		workDir = filepath.Join(os.TempDir(), "quiver-"+fileSafe(cn.name))
	}
	d, err := cluster.NewDist(cluster.DistConfig{
		NodeName: cn.name, Members: cn.members.Members, Subscribe: cn.members.Subscribe,
		Instance: cn.members.Local().Instance, Started: cn.members.Local().Started,
		Dial:    cluster.InternalDialer(cn.sec),
		Catalog: eng.Catalog(), Local: eng.Scheduler(), WorkDir: workDir,
		ShuffleMemory: int64(c.shuffleMemory), ShuffleCompression: c.shuffleCompression,
		QueryMemoryLimit: queryMemoryLimit, RemoveWorkDir: defaultDir, Log: cn.log,
	})
	if err != nil {
		return fmt.Errorf("distributed scheduler: %w", err)
	}
	d.Serve(cn.internal)
	cn.internal.SetStats(func() cluster.NodeStats {
		st := d.Stats()
		st.QueryMemory += eng.MemoryInUse() // queries received here; d counts the tasks run for peers
		return st
	})
	eng.Scheduler().SetDistributor(d)
	cn.dist = d
	cn.log.Info("distributed execution on", zap.String("work_dir", workDir),
		zap.Int64("shuffle_memory", int64(c.shuffleMemory)), zap.String("shuffle_compression", c.shuffleCompression))
	return nil
}

// fileSafe keeps letters, digits, '-', '_' and '.' of a node name.
func fileSafe(s string) string {
	b := []byte(s)
	for i, ch := range b {
		if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-' || ch == '_' || ch == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

// close leaves the cluster (if still a member) so peers stop sending work,
// then stops the distributed scheduler (its work for others is canceled,
// shuffle data dropped) and the internal service.
func (cn *clusterNode) close() {
	if cn.leaving != nil && cn.signaled.Load() {
		select {
		case <-cn.leaving:
		case <-time.After(3*cn.leave + 5*time.Second):
		}
	}
	if cn.members != nil {
		cn.members.Leave(cn.leave) //nolint:errcheck // idempotent; logged inside
	}
	if cn.dist != nil {
		cn.dist.Close() //nolint:errcheck // always nil
	}
	if cn.internal != nil {
		cn.internal.Stop(5 * time.Second)
		if err := <-cn.served; err != nil {
			cn.log.Warn("internal service", zap.Error(err))
		}
	}
}
