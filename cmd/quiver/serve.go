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

	"github.com/quiverdb/quiver/engine"
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
	// Clustering flags are accepted now so deployments can be written
	// against the final command line; they take effect with clustering.
	clusterListen, gossipListen, advertise, join, nodeName string
}

func parseServeFlags(args []string) (*serveFlags, error) {
	f := &serveFlags{}
	fs := flag.NewFlagSet("quiver serve", flag.ContinueOnError)
	fs.StringVar(&f.listen, "listen", server.DefaultListen, "Flight SQL address for clients")
	fs.StringVar(&f.data, "data", "", "data directory: DIR/<schema>/<table>/ or DIR/<schema>/<table>.parquet|.csv")
	fs.StringVar(&f.defaultSchema, "default-schema", "", "schema for unqualified table names")
	fs.StringVar(&f.workDir, "work-dir", "", "directory for spill and shuffle files (default: a temporary directory)")
	fs.Var(&f.queryMemoryLimit, "query-memory-limit", "memory limit per query, e.g. 2GiB or 512MB (0 = unlimited)")
	fs.Var(&f.allowDirs, "allow-dir", "directory SQL may read/write files in (INTO OUTFILE); repeatable")
	fs.IntVar(&f.parallelism, "parallelism", runtime.GOMAXPROCS(0), "partitions each query runs in parallel (default: GOMAXPROCS)")
	fs.StringVar(&f.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	fs.StringVar(&f.logFormat, "log-format", "console", "log format: console or json")
	fs.StringVar(&f.clusterListen, "cluster-listen", "", "internal Flight service address (clustering: not yet active)")
	fs.StringVar(&f.gossipListen, "gossip-listen", "", "memberlist address (clustering: not yet active)")
	fs.StringVar(&f.advertise, "advertise", "", "address peers and clients should use (clustering: not yet active)")
	fs.StringVar(&f.join, "join", "", "gossip seeds host:port,... (clustering: not yet active)")
	fs.StringVar(&f.nodeName, "node-name", "", "node name (clustering: not yet active)")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("serve: unexpected arguments %v", fs.Args())
	}
	if err := applyEnv(fs); err != nil {
		return nil, err
	}
	if f.parallelism < 1 {
		return nil, fmt.Errorf("--parallelism: %d is not a positive number of partitions", f.parallelism)
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
	if f.clusterListen != "" || f.gossipListen != "" || f.advertise != "" || f.join != "" || f.nodeName != "" {
		log.Warn("clustering flags are accepted but not active yet: this node runs as a cluster of one")
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
	}, log)
	if err != nil {
		return fmt.Errorf("start engine: %w", err)
	}
	defer eng.Close()

	srv, err := server.New(server.Config{Engine: eng, Catalog: eng.Catalog(), Log: log, Version: version})
	if err != nil {
		return err
	}
	lis, err := net.Listen("tcp", f.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	addr := lis.Addr().String()
	log.Info("quiver serving Flight SQL", zap.String("listen", addr), zap.String("data", f.data),
		zap.String("default_schema", f.defaultSchema), zap.String("version", version))
	fmt.Fprintf(os.Stderr, `
Quiver %s is listening on %s. Connect with:
  quiver sql --addr %s
  JDBC:  jdbc:arrow-flight-sql://%s?useEncryption=false
  ADBC:  grpc://%s
`, version, addr, addr, addr, addr)
	if err := srv.Serve(ctx, lis, 10*time.Second); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	log.Info("stopped")
	return nil
}

// tuneRuntime sets server GC defaults when the operator has not: a soft
// memory limit at 85% of the machine's (or cgroup's) memory, so the GC works
// harder before the kernel kills us, and GOGC=200 to trade memory for less
// GC work on allocation-heavy queries.
func tuneRuntime(log *zap.Logger) {
	if _, ok := os.LookupEnv("GOGC"); !ok {
		debug.SetGCPercent(200)
	}
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
