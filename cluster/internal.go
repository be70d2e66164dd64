package cluster

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// SecretHeader carries the cluster secret proof on every internal call. It
// is distinct from the client-facing "authorization" header, so a Flight
// SQL bearer token never reaches an internal handler.
const SecretHeader = "x-quiver-cluster-auth"

// MaxInternalMessage is the gRPC message limit of internal calls (both
// directions): shuffle batches are chunked well below it.
const MaxInternalMessage = 64 << 20

// ActionPing is the health action every internal service answers.
const ActionPing = "ping"

// Security is how nodes authenticate each other on the internal service.
type Security struct {
	// Secret is the shared cluster secret; empty disables the check (only
	// with --insecure).
	Secret []byte
	// ServerTLS/ClientTLS enable (mutual) TLS between nodes; nil = plaintext.
	ServerTLS, ClientTLS *tls.Config
}

// DeriveSecret derives the cluster secret from the gossip key, for
// clusters configured with only --gossip-key.
func DeriveSecret(gossipKey []byte) []byte {
	h := sha256.Sum256(append([]byte("quiver internal service secret from gossip key\x00"), gossipKey...))
	return h[:]
}

// ReadSecretFile reads a cluster secret file (surrounding whitespace is
// ignored); it must not be empty.
func ReadSecretFile(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cluster secret file: %w", err)
	}
	s := strings.TrimSpace(string(b))
	if s == "" {
		return nil, fmt.Errorf("cluster secret file %s is empty", path)
	}
	return []byte(s), nil
}

// proof is what travels in SecretHeader: a hash of the secret (header-safe
// whatever bytes the secret holds).
func proof(secret []byte) string {
	h := sha256.Sum256(append([]byte("quiver-cluster\x00"), secret...))
	return hex.EncodeToString(h[:])
}

// LoadClusterTLS builds mutual TLS between nodes: each node presents cert
// and accepts peers whose certificates chain to ca (as servers and as
// clients). serverName, if not empty, overrides the name checked in peer
// server certificates (certificates issued for a shared cluster name).
func LoadClusterTLS(certFile, keyFile, caFile, serverName string) (server, client *tls.Config, err error) {
	if certFile == "" || keyFile == "" || caFile == "" {
		return nil, nil, errors.New("cluster TLS needs --cluster-tls-cert, --cluster-tls-key and --cluster-tls-ca")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster TLS certificate: %w", err)
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, nil, fmt.Errorf("cluster TLS CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(pem) {
		return nil, nil, fmt.Errorf("cluster TLS CA %s: no PEM certificates", caFile)
	}
	server = &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool,
		ClientAuth: tls.RequireAndVerifyClientCert, MinVersion: tls.VersionTLS12}
	client = &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool,
		ServerName: serverName, MinVersion: tls.VersionTLS12}
	return server, client, nil
}

// ActionFunc handles one DoAction type: body in, result body out.
type ActionFunc func(ctx context.Context, body []byte) ([]byte, error)

// PingInfo is the answer to the ping action.
type PingInfo struct {
	Node         string    `json:"node"`
	Version      string    `json:"version"`
	RunningTasks int64     `json:"running_tasks"` // -1 = not tracked
	Time         time.Time `json:"time"`
	// Instance and Started identify the answering process; Stats is its
	// load (system.nodes), nil when not tracked.
	Instance string     `json:"instance,omitempty"`
	Started  time.Time  `json:"started,omitzero"`
	Stats    *NodeStats `json:"stats,omitempty"`
}

// NodeStats is a node's load besides its running tasks, as ping reports
// it (system.nodes).
type NodeStats struct {
	QueryMemory    int64 `json:"query_memory"`    // bytes held by the queries and tasks running here
	Coordinating   int64 `json:"coordinating"`    // distributed queries this node coordinates, running
	ShuffleMemory  int64 `json:"shuffle_memory"`  // shuffle output held in memory
	ShuffleSpilled int64 `json:"shuffle_spilled"` // shuffle output spilled to --work-dir (file bytes)
}

// InternalConfig configures the internal Flight service.
type InternalConfig struct {
	NodeName string
	Version  string
	Instance string    // NodeMeta.Instance, reported by ping
	Started  time.Time // NodeMeta.Started
	Security Security
	Log      *zap.Logger
	// Load reports running tasks (system.nodes running_tasks); nil =
	// unknown (ping reports -1).
	Load func() int64
}

// InternalServer is the node-to-node Flight service: shuffle partitions
// (DoGet), pushed batches (DoPut) and task RPCs (DoAction). Handlers are
// plugged in with HandleDoGet, HandleDoPut and HandleAction; calls without
// a handler are Unimplemented. Every call must prove the cluster secret.
type InternalServer struct {
	flight.BaseFlightServer
	cfg    InternalConfig
	log    *zap.Logger
	srv    flight.Server
	expect string // proof of the secret; "" = no check
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.RWMutex
	doGet   func(*flight.Ticket, flight.FlightService_DoGetServer) error
	doPut   func(flight.FlightService_DoPutServer) error
	actions map[string]ActionFunc
	load    func() int64
	stats   func() NodeStats
}

// NewInternalServer builds the service; Serve starts it.
func NewInternalServer(cfg InternalConfig) *InternalServer {
	if cfg.Log == nil {
		cfg.Log = zap.NewNop()
	}
	s := &InternalServer{cfg: cfg, log: cfg.Log, actions: map[string]ActionFunc{}, load: cfg.Load}
	if len(cfg.Security.Secret) > 0 {
		s.expect = proof(cfg.Security.Secret)
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	opts := []grpc.ServerOption{grpc.MaxRecvMsgSize(MaxInternalMessage), grpc.MaxSendMsgSize(MaxInternalMessage),
		// Peers' keepalive pings (InternalKeepalive) are welcome; the
		// server pings silent clients too, so a partitioned peer's calls
		// end.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: InternalKeepalive.Time / 2, PermitWithoutStream: true}),
		grpc.KeepaliveParams(keepalive.ServerParameters{Time: InternalKeepalive.Time, Timeout: InternalKeepalive.Timeout})}
	if cfg.Security.ServerTLS != nil {
		opts = append(opts, grpc.Creds(credentials.NewTLS(cfg.Security.ServerTLS)))
	}
	s.srv = flight.NewServerWithMiddleware([]flight.ServerMiddleware{{Unary: s.unaryAuth, Stream: s.streamAuth}}, opts...)
	s.srv.RegisterFlightService(s)
	s.actions[ActionPing] = s.ping
	return s
}

// HandleDoGet sets the DoGet handler (shuffle partition reads).
func (s *InternalServer) HandleDoGet(fn func(*flight.Ticket, flight.FlightService_DoGetServer) error) {
	s.mu.Lock()
	s.doGet = fn
	s.mu.Unlock()
}

// HandleDoPut sets the DoPut handler (pushed batches).
func (s *InternalServer) HandleDoPut(fn func(flight.FlightService_DoPutServer) error) {
	s.mu.Lock()
	s.doPut = fn
	s.mu.Unlock()
}

// HandleAction registers a DoAction type (task RPCs). "ping" is built in.
func (s *InternalServer) HandleAction(typ string, fn ActionFunc) {
	s.mu.Lock()
	s.actions[typ] = fn
	s.mu.Unlock()
}

// SetLoad sets the running-task counter reported by ping.
func (s *InternalServer) SetLoad(fn func() int64) {
	s.mu.Lock()
	s.load = fn
	s.mu.Unlock()
}

// SetStats sets what ping reports of the node's load besides its tasks.
func (s *InternalServer) SetStats(fn func() NodeStats) {
	s.mu.Lock()
	s.stats = fn
	s.mu.Unlock()
}

// Serve accepts connections on lis until Stop.
func (s *InternalServer) Serve(lis net.Listener) error {
	s.srv.InitListener(lis)
	s.log.Info("internal Flight service listening", zap.String("cluster_listen", lis.Addr().String()),
		zap.Bool("secret", s.expect != ""), zap.Bool("mtls", s.cfg.Security.ServerTLS != nil))
	err := s.srv.Serve()
	if errors.Is(err, grpc.ErrServerStopped) {
		return nil
	}
	return err
}

// Stop cancels running calls (their contexts end) and stops the server,
// waiting at most timeout for handlers to return.
func (s *InternalServer) Stop(timeout time.Duration) {
	s.cancel()
	done := make(chan struct{})
	go func() { s.srv.Shutdown(); close(done) }()
	select {
	case <-done:
	case <-time.After(timeout):
		s.log.Warn("internal service: handlers still running after stop timeout")
	}
}

func (s *InternalServer) check(ctx context.Context) error {
	if s.expect == "" {
		return nil
	}
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(SecretHeader)
	if len(vals) != 1 {
		return status.Error(codes.Unauthenticated, "internal service: calls must carry the cluster secret (this port is for Quiver nodes, not clients)")
	}
	got := sha256.Sum256([]byte(vals[0]))
	want := sha256.Sum256([]byte(s.expect))
	if subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		return status.Error(codes.Unauthenticated, "internal service: wrong cluster secret")
	}
	return nil
}

// merged ends when either the call or the server ends.
func (s *InternalServer) merged(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(s.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

func (s *InternalServer) unaryAuth(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if err := s.check(ctx); err != nil {
		s.log.Warn("internal service: refused call", zap.String("method", info.FullMethod), zap.Error(err))
		return nil, err
	}
	ctx, cancel := s.merged(ctx)
	defer cancel()
	return h(ctx, req)
}

func (s *InternalServer) streamAuth(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if err := s.check(ss.Context()); err != nil {
		s.log.Warn("internal service: refused call", zap.String("method", info.FullMethod), zap.Error(err))
		return err
	}
	ctx, cancel := s.merged(ss.Context())
	defer cancel()
	return h(srv, &ctxStream{ServerStream: ss, ctx: ctx})
}

type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *ctxStream) Context() context.Context { return c.ctx }

func (s *InternalServer) DoGet(t *flight.Ticket, stream flight.FlightService_DoGetServer) error {
	s.mu.RLock()
	fn := s.doGet
	s.mu.RUnlock()
	if fn == nil {
		return status.Error(codes.Unimplemented, "internal service: DoGet has no handler")
	}
	return fn(t, stream)
}

func (s *InternalServer) DoPut(stream flight.FlightService_DoPutServer) error {
	s.mu.RLock()
	fn := s.doPut
	s.mu.RUnlock()
	if fn == nil {
		return status.Error(codes.Unimplemented, "internal service: DoPut has no handler")
	}
	return fn(stream)
}

func (s *InternalServer) DoAction(a *flight.Action, stream flight.FlightService_DoActionServer) error {
	s.mu.RLock()
	fn := s.actions[a.Type]
	s.mu.RUnlock()
	if fn == nil {
		return status.Errorf(codes.Unimplemented, "internal service: unknown action %q", a.Type)
	}
	out, err := fn(stream.Context(), a.Body)
	if err != nil {
		if _, ok := status.FromError(err); ok {
			return err
		}
		return status.Error(codes.Internal, err.Error())
	}
	return stream.Send(&flight.Result{Body: out})
}

func (s *InternalServer) ListActions(_ *flight.Empty, stream flight.FlightService_ListActionsServer) error {
	s.mu.RLock()
	types := make([]string, 0, len(s.actions))
	for t := range s.actions {
		types = append(types, t)
	}
	s.mu.RUnlock()
	sort.Strings(types)
	for _, t := range types {
		if err := stream.Send(&flight.ActionType{Type: t}); err != nil {
			return err
		}
	}
	return nil
}

func (s *InternalServer) ping(ctx context.Context, _ []byte) ([]byte, error) {
	return json.Marshal(s.Info())
}

// Info is what ping answers: this node's identity and load.
func (s *InternalServer) Info() PingInfo {
	info := PingInfo{Node: s.cfg.NodeName, Version: s.cfg.Version, RunningTasks: s.RunningTasks(), Time: time.Now().UTC(),
		Instance: s.cfg.Instance, Started: s.cfg.Started}
	s.mu.RLock()
	stats := s.stats
	s.mu.RUnlock()
	if stats != nil {
		st := stats()
		info.Stats = &st
	}
	return info
}

// RunningTasks reports the counter set by SetLoad (-1 = not tracked): what
// ping tells other nodes, and system.nodes shows for this one.
func (s *InternalServer) RunningTasks() int64 {
	s.mu.RLock()
	load := s.load
	s.mu.RUnlock()
	if load == nil {
		return -1
	}
	return load()
}

// InternalClient calls another node's internal service. It embeds the raw
// Flight client (DoGet/DoPut/DoAction) with the cluster secret attached to
// every call and message limits raised to MaxInternalMessage.
type InternalClient struct {
	flight.FlightServiceClient
	Node Node
	conn *grpc.ClientConn
}

type secretCreds struct {
	proof string
	tls   bool
}

func (c secretCreds) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{SecretHeader: c.proof}, nil
}
func (c secretCreds) RequireTransportSecurity() bool { return c.tls }

// InternalKeepalive is the keepalive of internal connections: a peer
// silent this long (a network partition drops packets without a reset)
// fails the calls to it with Unavailable instead of leaving them hanging
// until TCP gives up. The internal server accepts pings this frequent.
var InternalKeepalive = keepalive.ClientParameters{Time: 5 * time.Second, Timeout: 3 * time.Second, PermitWithoutStream: true}

// Dial connects to node's internal service (lazily: the first call opens
// the connection). Close the client when done.
func Dial(ctx context.Context, node Node, sec Security) (*InternalClient, error) {
	if node.InternalAddr == "" {
		return nil, fmt.Errorf("node %s has no internal service address", node.Name)
	}
	opts := []grpc.DialOption{grpc.WithDefaultCallOptions(
		grpc.MaxCallRecvMsgSize(MaxInternalMessage), grpc.MaxCallSendMsgSize(MaxInternalMessage)),
		grpc.WithKeepaliveParams(InternalKeepalive)}
	if sec.ClientTLS != nil {
		opts = append(opts, grpc.WithTransportCredentials(credentials.NewTLS(sec.ClientTLS)))
	} else {
		opts = append(opts, grpc.WithTransportCredentials(insecure.NewCredentials()))
	}
	if len(sec.Secret) > 0 {
		opts = append(opts, grpc.WithPerRPCCredentials(secretCreds{proof: proof(sec.Secret), tls: sec.ClientTLS != nil}))
	}
	conn, err := grpc.NewClient(node.InternalAddr, opts...)
	if err != nil {
		return nil, fmt.Errorf("dial node %s (%s): %w", node.Name, node.InternalAddr, err)
	}
	return &InternalClient{FlightServiceClient: flight.NewFlightServiceClient(conn), Node: node, conn: conn}, nil
}

// Action runs one DoAction and returns the first result body (nil if none).
func (c *InternalClient) Action(ctx context.Context, typ string, body []byte) ([]byte, error) {
	st, err := c.DoAction(ctx, &flight.Action{Type: typ, Body: body})
	if err != nil {
		return nil, err
	}
	var out []byte
	first := true
	for {
		r, err := st.Recv()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, err
		}
		if first {
			out, first = r.Body, false
		}
	}
}

// Ping asks the node for its health and load.
func (c *InternalClient) Ping(ctx context.Context) (PingInfo, error) {
	var info PingInfo
	b, err := c.Action(ctx, ActionPing, nil)
	if err != nil {
		return info, fmt.Errorf("ping %s: %w", c.Node.Name, err)
	}
	if err := json.Unmarshal(b, &info); err != nil {
		return info, fmt.Errorf("ping %s: %w", c.Node.Name, err)
	}
	return info, nil
}

// Close closes the connection.
func (c *InternalClient) Close() error { return c.conn.Close() }
