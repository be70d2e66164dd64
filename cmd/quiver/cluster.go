package main

import (
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/cluster"
	"go.uber.org/zap"
)

// clusterFlags are the `quiver serve` flags of clustering.
type clusterFlags struct {
	clusterListen, gossipListen, advertise, join, nodeName   string
	clusterName, gossipKey, clusterSecret, clusterSecretFile string
	clusterTLSCert, clusterTLSKey, clusterTLSCA              string
	leaveTimeout                                             time.Duration

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
	fs.DurationVar(&c.leaveTimeout, "leave-timeout", 5*time.Second, "on SIGTERM, how long to wait for the cluster to hear that this node leaves")
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
}

// startCluster registers system.nodes and, when clustering is enabled,
// starts the internal service and gossip. flightAddr is the bound Flight
// SQL address.
func startCluster(c *clusterFlags, cat *catalog.Catalog, flightAddr string, log *zap.Logger) (*clusterNode, error) {
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
		Memory: memoryLimit(), Version: version}
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
	cn := &clusterNode{log: log, leave: c.leaveTimeout}
	if !c.enabled() {
		local := cluster.Node{Name: name, NodeMeta: meta, State: cluster.StateAlive, Since: time.Now()}
		return cn, cluster.RegisterNodesTable(cat, cluster.SingleNode{Node: local}, cluster.ProbeLoad(name, nil, cluster.Security{}))
	}

	sec := cluster.Security{Secret: c.secret}
	if c.clusterTLSCert != "" {
		if sec.ServerTLS, sec.ClientTLS, err = cluster.LoadClusterTLS(c.clusterTLSCert, c.clusterTLSKey, c.clusterTLSCA, ""); err != nil {
			return nil, err
		}
	}
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
	cn.internal = cluster.NewInternalServer(cluster.InternalConfig{NodeName: name, Version: version, Security: sec, Log: log})
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
	if err := cluster.RegisterNodesTable(cat, cn.members, cluster.ProbeLoad(name, nil, sec)); err != nil {
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
	go func() {
		<-ctx.Done()
		if err := cn.members.Leave(cn.leave); err != nil {
			cn.log.Warn("leaving the cluster", zap.Error(err))
		}
	}()
}

// close stops gossip (if still running) and the internal service.
func (cn *clusterNode) close() {
	if cn.members != nil {
		cn.members.Leave(cn.leave) //nolint:errcheck // idempotent; logged inside
	}
	if cn.internal != nil {
		cn.internal.Stop(5 * time.Second)
		if err := <-cn.served; err != nil {
			cn.log.Warn("internal service", zap.Error(err))
		}
	}
}
