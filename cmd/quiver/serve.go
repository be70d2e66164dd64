package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"net"
	"os"
	"os/signal"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/planner/physical"
	"github.com/quiverdb/quiver/server"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"
)

type serveFlags struct {
	listen, data, defaultSchema, workDir string
	queryMemoryLimit                     byteSize
	allowDirs                            stringList
	logLevel, logFormat                  string
	parallelism                          int
	partitionRows                        int64
	// Security and limits.
	users, tlsCert, tlsKey, tlsClientCA string
	insecure                            bool
	tokenTTL, sessionIdle, queryTimeout time.Duration
	shutdownGrace                       time.Duration
	advertiseEndpoints                  bool
	resultTTL                           time.Duration
	maxResultBytes                      byteSize
	maxQueriesPerUser                   int
	cluster                             clusterFlags
}

// serveFlagSet registers the `quiver serve` flags into f.
func serveFlagSet(f *serveFlags) *flag.FlagSet {
	fs := flag.NewFlagSet("quiver serve", flag.ContinueOnError)
	fs.StringVar(&f.listen, "listen", server.DefaultListen, "Flight SQL address for clients")
	fs.StringVar(&f.data, "data", "", "data directory: DIR/<schema>/<table>/ or DIR/<schema>/<table>.parquet|.csv")
	fs.StringVar(&f.defaultSchema, "default-schema", "", "schema for unqualified table names")
	fs.StringVar(&f.workDir, "work-dir", "", "directory for spill and shuffle files (default: a temporary directory)")
	fs.Var(&f.queryMemoryLimit, "query-memory-limit", "memory limit per query, e.g. 2GiB or 512MB (0 = unlimited)")
	fs.Var(&f.allowDirs, "allow-dir", "directory SQL may read/write files in (INTO OUTFILE); repeatable")
	fs.IntVar(&f.parallelism, "parallelism", runtime.GOMAXPROCS(0), "partitions each query runs in parallel (default: GOMAXPROCS)")
	fs.Int64Var(&f.partitionRows, "partition-rows", physical.DefaultPartitionRows, "input rows per partition: smaller queries use fewer partitions than the slots (0 = always every slot)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "console", "log format: console or json")
	fs.StringVar(&f.users, "users", "", "users file (bcrypt hashes; `quiver user add`): clients must authenticate")
	fs.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate (PEM); with --tls-key clients connect over TLS")
	fs.StringVar(&f.tlsKey, "tls-key", "", "TLS private key (PEM)")
	fs.StringVar(&f.tlsClientCA, "tls-client-ca", "", "CA certificates (PEM) client certificates must be signed by (mutual TLS)")
	fs.BoolVar(&f.insecure, "insecure", false, "allow a non-loopback --listen without --users and TLS")
	fs.DurationVar(&f.tokenTTL, "token-ttl", 12*time.Hour, "lifetime of the bearer tokens issued at login")
	fs.DurationVar(&f.sessionIdle, "session-idle-timeout", 30*time.Minute, "end client sessions unused this long")
	fs.DurationVar(&f.queryTimeout, "query-timeout", 0, "cancel statements running longer than this, e.g. 10m (0 = no limit)")
	fs.Var(&f.maxResultBytes, "max-result-bytes", "fail queries whose result is larger, e.g. 1GiB (0 = no limit)")
	fs.IntVar(&f.maxQueriesPerUser, "max-concurrent-queries-per-user", 0, "statements one user (or client address without --users) may run at once (0 = no limit)")
	fs.DurationVar(&f.shutdownGrace, "shutdown-grace", 10*time.Second, "on SIGTERM/SIGINT, how long running queries may go on before they are canceled")
	fs.BoolVar(&f.advertiseEndpoints, "advertise-endpoints", false, "give query result endpoints a location (grpc+tls:// or grpc+tcp://, host from --advertise) instead of none (same connection): one endpoint per result partition, spread over the cluster's nodes, for parallel fetch")
	fs.DurationVar(&f.resultTTL, "result-ttl", server.DefaultResultTTL, "with --advertise-endpoints: how long a partitioned result waits for clients to fetch it before it is freed")
	f.cluster.register(fs)
	return fs
}

func parseServeFlags(args []string) (*serveFlags, error) {
	f := &serveFlags{}
	fs := serveFlagSet(f)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected arguments %v", fs.Args())
	}
	if err := applyEnv(fs); err != nil {
		return nil, err
	}
	if (f.tlsCert == "") != (f.tlsKey == "") {
		return nil, fmt.Errorf("--tls-cert and --tls-key go together")
	}
	if f.tlsClientCA != "" && f.tlsCert == "" {
		return nil, fmt.Errorf("--tls-client-ca needs --tls-cert and --tls-key")
	}
	if !f.insecure && !server.IsLoopback(f.listen) && (f.users == "" || f.tlsCert == "") {
		return nil, fmt.Errorf("refusing to listen on %s, reachable from other machines, without authentication and TLS: "+
			"give --users FILE and --tls-cert/--tls-key, or --insecure to accept the risk", f.listen)
	}
	if f.maxQueriesPerUser < 0 {
		return nil, fmt.Errorf("--max-concurrent-queries-per-user: %d is negative (0 = no limit)", f.maxQueriesPerUser)
	}
	for _, d := range []struct {
		name     string
		v        time.Duration
		positive bool // 0 is not "no limit"
	}{
		{"query-timeout", f.queryTimeout, false}, {"shutdown-grace", f.shutdownGrace, false},
		{"token-ttl", f.tokenTTL, true}, {"session-idle-timeout", f.sessionIdle, true}, {"result-ttl", f.resultTTL, true},
	} {
		if d.v < 0 || d.positive && d.v == 0 {
			want := "must not be negative"
			if d.positive {
				want = "must be positive"
			}
			return nil, fmt.Errorf("--%s: %v %s", d.name, d.v, want)
		}
	}
	if f.parallelism < 1 {
		return nil, fmt.Errorf("--parallelism: %d is not a positive number of partitions", f.parallelism)
	}
	if f.partitionRows < 0 {
		return nil, fmt.Errorf("--partition-rows: %d is negative", f.partitionRows)
	}
	if err := f.cluster.check(f.listen, f.insecure); err != nil {
		return nil, err
	}
	return f, nil
}

func newLogger(level, format string) (*zap.Logger, error) {
	lvl, err := zapcore.ParseLevel(level)
	if err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	var cfg zap.Config
	switch format {
	case "json":
		cfg = zap.NewProductionConfig()
	case "console":
		cfg = zap.NewDevelopmentConfig()
		cfg.Development = false
		cfg.DisableStacktrace = true
	default:
		return nil, fmt.Errorf("--log-format: %q is not console or json", format)
	}
	cfg.Level = zap.NewAtomicLevelAt(lvl)
	return cfg.Build()
}

func serve(args []string) error {
	f, err := parseServeFlags(args)
	if err != nil {
		return err
	}
	log, err := newLogger(f.logLevel, f.logFormat)
	if err != nil {
		return err
	}
	defer log.Sync() //nolint:errcheck // stderr sync fails on some terminals
	tuneRuntime(log)
	if err := startDebug(log); err != nil {
		return err
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	eng, err := engine.New(ctx, engine.Config{
		DataDir:          f.data,
		DefaultSchema:    f.defaultSchema,
		AllowedDirs:      f.allowDirs,
		WorkDir:          f.workDir,
		QueryMemoryLimit: int64(f.queryMemoryLimit),
		Parallelism:      f.parallelism,
		PartitionRows:    f.partitionRows,
	}, log)
	if err != nil {
		return fmt.Errorf("start engine: %w", err)
	}
	defer eng.Close()

	cfg := server.Config{Engine: eng, Catalog: eng.Catalog(), Log: log, Version: version,
		TokenTTL: f.tokenTTL, SessionIdleTimeout: f.sessionIdle,
		Limits: server.Limits{QueryTimeout: f.queryTimeout, MaxResultBytes: int64(f.maxResultBytes),
			MaxConcurrentQueriesPerUser: f.maxQueriesPerUser},
		// Nodes sharing the cluster secret redeem each other's prepared
		// statement handles (a client's next call may land on another node).
		HandleKey: f.cluster.secret, ResultTTL: f.resultTTL}
	if f.users != "" {
		if cfg.Users, err = server.LoadUsers(f.users); err != nil {
			return err
		}
	}
	if f.tlsCert != "" {
		if cfg.TLS, err = server.LoadTLS(f.tlsCert, f.tlsKey, f.tlsClientCA); err != nil {
			return err
		}
	}
	if !server.IsLoopback(f.listen) && (cfg.Users == nil || cfg.TLS == nil) {
		log.Warn("--insecure: serving a non-loopback address without authentication or TLS", zap.String("listen", f.listen))
	}
	lis, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	addr := lis.Addr().String()
	if f.advertiseEndpoints {
		cfg.EndpointAddr = endpointAddr(f.cluster.advertise, addr)
	}
	srv, err := server.New(cfg)
	if err != nil {
		lis.Close()
		return err
	}
	cn, err := startCluster(&f.cluster, eng, addr, log)
	if err != nil {
		lis.Close()
		return fmt.Errorf("start cluster: %w", err)
	}
	defer cn.close()
	if err := cn.startDist(&f.cluster, eng, f.workDir, int64(f.queryMemoryLimit)); err != nil {
		lis.Close()
		return fmt.Errorf("start cluster: %w", err)
	}
	if cn.internal != nil {
		// Client sessions follow their calls from node to node
		// (server/session.go): changes are pushed to every peer.
		peers := cluster.NewBroadcaster(cn.name, cn.members.All, cn.sec, log)
		defer peers.Close()
		cn.internal.HandleAction(cluster.ActionSessionUpdate, srv.ApplySessionUpdate)
		srv.SetSessionPeers(func(ctx context.Context, update []byte) {
			peers.Send(ctx, cluster.ActionSessionUpdate, update)
		})
		// What a node missed before it joined (or while cut off) it pulls.
		cn.internal.HandleAction(cluster.ActionSessionSync, srv.SessionSnapshot)
		if cn.members != nil {
			defer peers.FollowSessions(cn.members.Subscribe, srv.ApplySessionSync)()
		}
	}
	cn.leaveOnSignal(ctx)
	log.Info("quiver serving Flight SQL", zap.String("listen", addr), zap.String("data", f.data),
		zap.String("default_schema", f.defaultSchema), zap.String("version", version),
		zap.Bool("auth", cfg.Users != nil), zap.Bool("tls", cfg.TLS != nil), zap.Bool("mtls", f.tlsClientCA != ""))
	fmt.Fprint(os.Stderr, connectHelp(version, addr, cfg.Users != nil, cfg.TLS != nil))
	if err := srv.Serve(ctx, lis, f.shutdownGrace); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// tuneRuntime sets a server GC default when the operator has not: a soft
// memory limit at 85% of the machine's (or cgroup's) memory, so the GC works
// harder before the kernel kills us. GOGC stays Go's 100: 200 cost 30% more
// peak RSS on TPC-H SF1 (q03 q07 q09 q18 q21 q01) for 4% less CPU.
func tuneRuntime(log *zap.Logger) {
	if _, ok := os.LookupEnv("GOMEMLIMIT"); ok {
		return
	}
	if total := memoryLimit(); total > 0 {
		lim := total / 100 * 85
		debug.SetMemoryLimit(lim)
		log.Debug("GOMEMLIMIT default", zap.Int64("bytes", lim))
	}
}

// memoryLimit is the cgroup v2 memory limit if set, else MemTotal.
func memoryLimit() int64 {
	if b, err := os.ReadFile("/sys/fs/cgroup/memory.max"); err == nil {
		if n, err := strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64); err == nil && n > 0 {
			return n
		}
	}
	fh, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			fields := strings.Fields(rest)
			if len(fields) > 0 {
				kb, _ := strconv.ParseInt(fields[0], 10, 64)
				return kb << 10
			}
		}
	}
	return 0
}

// connectHelp is the banner telling how to connect.
func connectHelp(version, addr string, auth, tls bool) string {
	sqlFlags, jdbc, adbc := "", "?useEncryption=false", "grpc://"+addr
	if tls {
		sqlFlags += " --tls"
		jdbc = "?useEncryption=true"
		adbc = "grpc+tls://" + addr
	}
	if auth {
		sqlFlags += " --user NAME"
		jdbc += "&user=NAME&password=..."
		adbc += "  (username/password options)"
	}
	return fmt.Sprintf(`
Quiver %s is listening on %s. Connect with:
  quiver sql --addr %s%s
  JDBC:  jdbc:arrow-flight-sql://%s%s
  ADBC:  %s
`, version, addr, addr, sqlFlags, addr, jdbc, adbc)
}
