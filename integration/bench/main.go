// Command bench runs the 22 TPC-H queries in Quiver (a `quiver serve`
// child process, queried through Flight SQL), in DuckDB and DataFusion
// (peers.py, in a venv made from requirements.txt when needed) over the
// same Parquet files, and in Quiver again on a cluster of --nodes `quiver
// serve` processes on loopback; it checks every result against the
// reference answers and writes a Markdown report (docs/benchmarks.md).
//
//	go run ./integration/bench --quiver bin/quiver --data DIR --sf 1 [--runs 3] [--nodes 3] [--out docs/benchmarks.md]
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quiverdb/quiver/integration/tpch"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// result is one engine's outcome for one query; the JSON names are those
// peers.py writes.
type result struct {
	Median  float64   `json:"median_s"`
	Runs    []float64 `json:"runs_s"`
	OK      bool      `json:"ok"`
	Error   string    `json:"error"`
	Rows    int64     `json:"rows"`
	Matches *bool     `json:"matches"`  // nil: not checked (no answer file)
	Diff    string    `json:"mismatch"` // why it does not match
	CPUSecs float64   `json:"cpu_s"`    // median CPU time (user+system) of a run
	CPU     float64   `json:"-"`        // Quiver server CPU, % of one core, over the timed runs
}

// wrong reports a result that ran but does not match the answer.
func (r result) wrong() bool { return r.OK && r.Matches != nil && !*r.Matches }

type config struct {
	quiver, data, sf, tpchDir, answers, venv string
	names                                    []string
	runs                                     int
	nodes                                    int // > 1: also run the queries on a cluster of this many nodes
	timeout                                  time.Duration
	peers                                    bool
	scaling                                  []string // queries run at --parallelism 1 and 2
}

func main() {
	var c config
	flag.StringVar(&c.quiver, "quiver", "bin/quiver", "quiver binary")
	flag.StringVar(&c.data, "data", "", "data directory holding tpch/<table>.parquet")
	flag.StringVar(&c.sf, "sf", "1", "scale factor of --data (for the report and the answers directory)")
	flag.StringVar(&c.tpchDir, "tpch", "integration/tpch", "directory with queries/, queries-mysql/ and answers/")
	flag.StringVar(&c.answers, "answers", "", "reference answers (default: TPCH/answers/sf<SF> when present)")
	flag.StringVar(&c.venv, "venv", os.Getenv("QUIVER_BENCH_VENV"), "Python venv for the peers (default $QUIVER_BENCH_VENV or ~/.cache/quiver-bench-venv)")
	flag.IntVar(&c.runs, "runs", 3, "timed runs per query (median reported)")
	flag.DurationVar(&c.timeout, "timeout", 10*time.Minute, "per-run time limit of a Quiver query")
	flag.IntVar(&c.nodes, "nodes", 3, "also run every query on a cluster of this many `quiver serve` nodes on loopback, sent to node 1 (0 or 1: skip)")
	flag.BoolVar(&c.peers, "peers", true, "also run DuckDB and DataFusion (needs python3)")
	only := flag.String("only", "", "comma-separated subset of queries, e.g. q01,q18")
	scaling := flag.String("scaling", "q01,q09,q18,q21", "queries also run with --parallelism 1 and 2 (empty: skip)")
	out := flag.String("out", "docs/benchmarks.md", "report file")
	flag.Parse()
	if c.data == "" || c.runs < 1 {
		fmt.Fprintln(os.Stderr, "bench: --data is required and --runs must be at least 1")
		os.Exit(2)
	}
	if c.answers == "" {
		if d := filepath.Join(c.tpchDir, "answers", "sf"+c.sf); isDir(d) {
			c.answers = d
		}
	}
	var err error
	if c.names, err = queryNames(filepath.Join(c.tpchDir, "queries"), *only); err == nil {
		c.scaling = splitList(*scaling)
		err = run(c, *out)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(c config, out string) error {
	env := describeMachine(c.quiver)
	env.loadBefore = loadavg()
	env.started = time.Now()
	q, err := runQuiver(c, 0, c.names, 0)
	if err != nil {
		return err
	}
	engines := map[string]map[string]result{"quiver": q.results}
	peaks := map[string]float64{"quiver": q.peakMB}
	env.otherCPU = q.otherCPU
	if c.peers {
		if err := runPeers(c, engines, peaks, &env); err != nil {
			fmt.Fprintln(os.Stderr, "bench: peers:", err)
			env.peerErr = err.Error()
		}
	}
	var scale []quiverRun
	if len(c.scaling) > 0 {
		for _, p := range []int{1, 2} {
			r, err := runQuiver(c, p, c.scaling, 0)
			if err != nil {
				return err
			}
			scale = append(scale, r)
		}
	}
	var dist *quiverRun
	if c.nodes > 1 {
		r, err := runQuiver(c, 0, c.names, c.nodes)
		if err != nil {
			return fmt.Errorf("%d nodes: %w", c.nodes, err)
		}
		dist = &r
	}
	env.loadAfter = loadavg()
	return os.WriteFile(out, []byte(report(c, env, engines, peaks, scale, q, dist)), 0o644)
}

func queryNames(dir, only string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "q*.sql"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no queries in %s", dir)
	}
	wanted := splitList(only)
	var names []string
	for _, f := range files {
		n := strings.TrimSuffix(filepath.Base(f), ".sql")
		if len(wanted) == 0 || slices.Contains(wanted, n) {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("--only %q selects no query in %s", only, dir)
	}
	slices.Sort(names)
	return names, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func isDir(p string) bool {
	st, err := os.Stat(p)
	return err == nil && st.IsDir()
}

// server is a `quiver serve` child process.
type server struct {
	name   string // node name in a cluster
	cmd    *exec.Cmd
	addr   string
	exited chan struct{}
}

func freeAddr() (string, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer lis.Close()
	return lis.Addr().String(), nil
}

// startServer starts `quiver serve` on a free loopback port with the data
// and extra arguments and waits until it listens.
func startServer(bin, data string, parallelism int, extra ...string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	args := []string{"serve", "--listen", addr, "--data", data, "--default-schema", "tpch", "--log-level", "warn"}
	if parallelism > 0 {
		args = append(args, "--parallelism", strconv.Itoa(parallelism))
	}
	cmd := exec.Command(bin, append(args, extra...)...)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, addr: addr, exited: make(chan struct{})}
	go func() { cmd.Wait(); close(s.exited) }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return nil, fmt.Errorf("quiver serve exited: %v", cmd.ProcessState)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return s, nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.stop()
	return nil, fmt.Errorf("quiver did not listen on %s", addr)
}

func (s *server) alive() bool {
	select {
	case <-s.exited:
		return false
	default:
		return true
	}
}

// stop ends the server and returns its peak RSS in MB (ru_maxrss, KiB on
// Linux), which stays readable after the process is gone.
func (s *server) stop() float64 {
	if s.alive() {
		s.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.exited:
		case <-time.After(30 * time.Second):
			s.cmd.Process.Kill()
			<-s.exited
		}
	}
	if ru, ok := s.cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		return float64(ru.Maxrss) / 1024
	}
	return 0
}

// group is the Quiver under test: one server, or the nodes of a cluster
// on loopback; queries go to the first.
type group struct {
	procs []*server
	dir   string // cluster secret and work directories, removed by stop
}

func (g *group) addr() string { return g.procs[0].addr }

func (g *group) alive() bool {
	for _, p := range g.procs {
		if !p.alive() {
			return false
		}
	}
	return true
}

// cpuTicks is the CPU time of every process of the group.
func (g *group) cpuTicks() float64 {
	var t float64
	for _, p := range g.procs {
		t += cpuTicks(p.cmd.Process.Pid)
	}
	return t
}

// stop ends every process (the coordinator last) and returns the largest
// peak RSS of one process in MB.
func (g *group) stop() float64 {
	var peak float64
	for i := len(g.procs) - 1; i >= 0; i-- {
		peak = math.Max(peak, g.procs[i].stop())
	}
	if g.dir != "" {
		os.RemoveAll(g.dir)
	}
	return peak
}

// startGroup starts one server (nodes <= 1) or a cluster of nodes n1..nN:
// a cluster secret file, n1 the seed every other node joins, and waits
// until n1's system.nodes lists them all alive.
func startGroup(c config, parallelism, nodes int) (*group, error) {
	if nodes <= 1 {
		s, err := startServer(c.quiver, c.data, parallelism)
		if err != nil {
			return nil, err
		}
		return &group{procs: []*server{s}}, nil
	}
	dir, err := os.MkdirTemp("", "quiver-bench-cluster-")
	if err != nil {
		return nil, err
	}
	g := &group{dir: dir}
	secret := filepath.Join(dir, "cluster.secret")
	if err := os.WriteFile(secret, []byte(fmt.Sprintf("bench-%d-%d\n", os.Getpid(), time.Now().UnixNano())), 0o600); err != nil {
		g.stop()
		return nil, err
	}
	var seed string
	for i := 1; i <= nodes; i++ {
		name := fmt.Sprintf("n%d", i)
		internal, err1 := freeAddr()
		gossip, err2 := freeAddr()
		if err := errors.Join(err1, err2); err != nil {
			g.stop()
			return nil, err
		}
		args := []string{"--node-name", name, "--cluster-listen", internal, "--gossip-listen", gossip,
			"--cluster-secret-file", secret, "--work-dir", filepath.Join(dir, "work-"+name)}
		if seed != "" {
			args = append(args, "--join", seed)
		} else {
			seed = gossip
		}
		s, err := startServer(c.quiver, c.data, parallelism, args...)
		if err != nil {
			g.stop()
			return nil, fmt.Errorf("cluster node %s: %w", name, err)
		}
		s.name = name
		g.procs = append(g.procs, s)
	}
	cl, err := newClient(g.addr())
	if err != nil {
		g.stop()
		return nil, err
	}
	defer cl.Close()
	want := nodes
	deadline := time.Now().Add(60 * time.Second)
	for {
		_, _, rows, err := timeQuery(cl, "SELECT COUNT(*) FROM system.nodes WHERE state = 'alive'", 10*time.Second)
		if err == nil && len(rows) == 1 && rows[0][0] == strconv.Itoa(want) {
			return g, nil
		}
		if time.Now().After(deadline) || !g.alive() {
			g.stop()
			return nil, fmt.Errorf("the %d nodes did not all join within 60 s (system.nodes: %v, %v)", nodes, rows, err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func newClient(addr string) (*flightsql.Client, error) {
	return flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
}

type quiverRun struct {
	parallelism int // 0: the server's default
	nodes       int // 0 or 1: a single server
	results     map[string]result
	peakMB      float64
	otherCPU    float64 // CPU used by other processes during the run, % of one core
	// tasks: per query, the succeeded tasks of one run by node (from the
	// coordinator's system.tasks; clusters only); taskErr why they are missing.
	tasks   map[string]map[string]float64
	taskErr string
}

// runQuiver runs each query c.runs times through Flight SQL against a fresh
// server (or cluster of nodes), checking every run's result against the
// answers. A server that dies is restarted for the next query.
func runQuiver(c config, parallelism int, names []string, nodes int) (quiverRun, error) {
	qr := quiverRun{parallelism: parallelism, nodes: nodes, results: map[string]result{}}
	if nodes > 1 {
		qr.tasks = map[string]map[string]float64{}
	}
	var (
		srv *group
		cl  *flightsql.Client
	)
	stop := func() {
		if cl != nil {
			cl.Close()
			cl = nil
		}
		if srv != nil {
			qr.peakMB = math.Max(qr.peakMB, srv.stop())
			srv = nil
		}
	}
	defer stop()
	label := "p=" + parallelismName(parallelism)
	if nodes > 1 {
		label = fmt.Sprintf("%d nodes", nodes)
	}
	sysStart, wallStart := systemBusy(), time.Now()
	var serverTicks float64
	seen := map[string]bool{} // query IDs already in system.tasks
	for _, name := range names {
		if srv != nil && !srv.alive() {
			fmt.Fprintln(os.Stderr, "bench: quiver serve died; restarting")
			stop()
		}
		if srv == nil {
			var err error
			if srv, err = startGroup(c, parallelism, nodes); err != nil {
				return qr, err
			}
			if cl, err = newClient(srv.addr()); err != nil {
				return qr, err
			}
			clear(seen)
			if nodes > 1 {
				if _, err := newTasks(cl, seen); err != nil {
					qr.taskErr = err.Error()
				}
			}
		}
		sql, err := tpch.ReadQuery(c.tpchDir, name)
		if err != nil {
			return qr, err
		}
		r := result{OK: true}
		before := srv.cpuTicks()
		var cpus []float64
		for range c.runs {
			t0 := srv.cpuTicks()
			secs, header, rows, err := timeQuery(cl, sql, c.timeout)
			used := (srv.cpuTicks() - t0) / clockTicks
			if err != nil {
				r.OK, r.Error = false, err.Error()
				if !srv.alive() {
					r.Error = "server exited: " + r.Error
				}
				break
			}
			r.Runs = append(r.Runs, secs)
			cpus = append(cpus, used)
			r.Rows = int64(len(rows))
			if c.answers != "" && r.Diff == "" {
				diff, err := tpch.Check(c.answers, name, header, rows)
				if err != nil {
					return qr, err
				}
				ok := diff == ""
				r.Matches, r.Diff = &ok, diff
			}
		}
		ticks := srv.cpuTicks() - before
		serverTicks += ticks
		if len(r.Runs) > 0 {
			r.Median = median(r.Runs)
			r.CPUSecs = median(cpus)
			r.CPU = 100 * ticks / clockTicks / sum(r.Runs)
		}
		status := fmt.Sprintf("%.3fs cpu %.0f%%", r.Median, r.CPU)
		if !r.OK {
			status = "FAILED " + firstLine(r.Error)
		} else if r.wrong() {
			status += " WRONG ANSWER: " + firstLine(r.Diff)
		}
		if nodes > 1 && srv.alive() {
			byNode, err := newTasks(cl, seen)
			if err != nil {
				qr.taskErr = err.Error()
			} else if len(r.Runs) > 0 {
				per := map[string]float64{}
				var parts []string
				for _, p := range srv.procs {
					per[p.name] = float64(byNode[p.name]) / float64(len(r.Runs))
					parts = append(parts, fmt.Sprintf("%s=%g", p.name, per[p.name]))
				}
				qr.tasks[name] = per
				status += " tasks/run " + strings.Join(parts, " ")
			}
		}
		fmt.Fprintf(os.Stderr, "quiver(%s) %s %s\n", label, name, status)
		qr.results[name] = r
	}
	if wall := time.Since(wallStart).Seconds(); wall > 0 {
		qr.otherCPU = math.Max(0, 100*((systemBusy()-sysStart)-serverTicks)/clockTicks/wall)
	}
	stop() // sets peakMB
	return qr, nil
}

// newTasks returns the succeeded tasks by node of the distributed queries
// in the coordinator's system.tasks whose IDs are not in seen, and adds
// them to seen.
func newTasks(cl *flightsql.Client, seen map[string]bool) (map[string]int, error) {
	_, _, rows, err := timeQuery(cl, "SELECT query_id, node, COUNT(*) FROM system.tasks WHERE state = 'succeeded' GROUP BY query_id, node", time.Minute)
	if err != nil {
		return nil, fmt.Errorf("system.tasks: %w", err)
	}
	out := map[string]int{}
	fresh := map[string]bool{}
	for _, r := range rows {
		if len(r) != 3 || seen[r[0]] {
			continue
		}
		n, err := strconv.Atoi(r[2])
		if err != nil {
			return nil, fmt.Errorf("system.tasks count %q: %w", r[2], err)
		}
		out[r[1]] += n
		fresh[r[0]] = true
	}
	for id := range fresh {
		seen[id] = true
	}
	return out, nil
}

func parallelismName(p int) string {
	if p == 0 {
		return "default"
	}
	return strconv.Itoa(p)
}

// timeQuery runs sql and fetches every endpoint, as a Flight SQL client
// does; the batches are kept and rendered for the answer check only after
// the clock stops.
func timeQuery(cl *flightsql.Client, sql string, timeout time.Duration) (float64, []string, [][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	var batches []arrow.RecordBatch
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	var header []string
	start := time.Now()
	info, err := cl.Execute(ctx, sql)
	if err != nil {
		return 0, nil, nil, timeoutErr(ctx, err)
	}
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.Ticket)
		if err != nil {
			return 0, nil, nil, timeoutErr(ctx, err)
		}
		for rdr.Next() {
			b := rdr.RecordBatch()
			b.Retain()
			batches = append(batches, b)
		}
		header = header[:0]
		for _, f := range rdr.Schema().Fields() {
			header = append(header, f.Name)
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			return 0, nil, nil, timeoutErr(ctx, err)
		}
	}
	secs := time.Since(start).Seconds()
	return secs, header, tpch.Rows(batches), nil
}

func timeoutErr(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		return fmt.Errorf("timed out: %w", err)
	}
	return err
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func sum(xs []float64) float64 {
	var s float64
	for _, x := range xs {
		s += x
	}
	return s
}

// clockTicks is USER_HZ, the unit of /proc CPU times: 100 on every Linux
// ABI (sysconf(_SC_CLK_TCK) would need cgo).
const clockTicks = 100

// cpuTicks is utime+stime of a process (fields 14 and 15 of /proc/pid/stat).
func cpuTicks(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name (field 2) may hold spaces; fields restart after ')'.
	i := strings.LastIndexByte(string(b), ')')
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	s, _ := strconv.ParseFloat(f[12], 64)
	return u + s
}

// systemBusy is the CPU time of every process on the machine (the first
// line of /proc/stat, less idle and iowait), in ticks.
func systemBusy() float64 {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	var busy float64
	for i, f := range strings.Fields(line)[1:] {
		if i == 3 || i == 4 || i >= 8 { // idle, iowait; guest times are already in user
			continue
		}
		v, _ := strconv.ParseFloat(f, 64)
		busy += v
	}
	return busy
}

func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}

// runPeers runs peers.py in the venv (created or completed from
// requirements.txt when the peers do not import) and merges its results.
func runPeers(c config, engines map[string]map[string]result, peaks map[string]float64, env *machineInfo) error {
	here := "integration/bench"
	venv := c.venv
	if venv == "" {
		home, _ := os.UserHomeDir()
		venv = filepath.Join(home, ".cache", "quiver-bench-venv")
	}
	py := filepath.Join(venv, "bin", "python")
	if exec.Command(py, "-c", "import duckdb, datafusion, pyarrow").Run() != nil {
		var steps [][]string
		if _, err := os.Stat(py); err != nil {
			steps = append(steps, []string{"python3", "-m", "venv", venv})
		}
		steps = append(steps, []string{py, "-m", "pip", "install", "-q", "-r", filepath.Join(here, "requirements.txt")})
		for _, s := range steps {
			fmt.Fprintln(os.Stderr, "bench:", strings.Join(s, " "))
			cmd := exec.Command(s[0], s[1:]...)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s: %w", strings.Join(s, " "), err)
			}
		}
	}
	args := []string{filepath.Join(here, "peers.py"), "--data", c.data, "--queries", filepath.Join(c.tpchDir, "queries"),
		"--runs", strconv.Itoa(c.runs), "--only", strings.Join(c.names, ",")}
	if c.answers != "" {
		args = append(args, "--answers", c.answers)
	}
	cmd := exec.Command(py, args...)
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return err
	}
	var po map[string]json.RawMessage
	if err := json.Unmarshal(outb, &po); err != nil {
		return fmt.Errorf("peers.py output: %w", err)
	}
	for k, raw := range po {
		var err error
		switch k {
		case "peak_rss_mb":
			err = json.Unmarshal(raw, &peaks)
		case "engines":
			err = json.Unmarshal(raw, &env.peers)
		default:
			var m map[string]result
			if err = json.Unmarshal(raw, &m); err == nil {
				engines[k] = m
			}
		}
		if err != nil {
			return fmt.Errorf("peers.py %s: %w", k, err)
		}
	}
	return nil
}

type machineInfo struct {
	cpu, os, goVersion, quiverVersion string
	cores                             int
	memGiB                            float64
	peers                             map[string]struct{ Version, Threads string }
	loadBefore, loadAfter             string
	otherCPU                          float64
	started                           time.Time
	peerErr                           string
}

func describeMachine(quiver string) machineInfo {
	m := machineInfo{cpu: "unknown CPU", cores: runtime.NumCPU(), goVersion: runtime.Version(),
		memGiB: procField("/proc/meminfo", "MemTotal:") / (1 << 20)}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				m.cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	m.os = runtime.GOOS + "/" + runtime.GOARCH
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "PRETTY_NAME="); ok {
				m.os = strings.Trim(v, `"`) + " (" + runtime.GOARCH + ")"
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.os += ", Linux " + strings.TrimSpace(string(b))
	}
	if b, err := exec.Command(quiver, "version").Output(); err == nil {
		m.quiverVersion = strings.TrimSpace(string(b))
	}
	return m
}

// procField returns the first number after key in a /proc file.
func procField(path, key string) float64 {
	fh, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			if f := strings.Fields(rest); len(f) > 0 {
				v, _ := strconv.ParseFloat(f[0], 64)
				return v
			}
		}
	}
	return 0
}

func firstLine(s string) string {
	if s == "" {
		return "not run"
	}
	s, _, _ = strings.Cut(s, "\n")
	return s
}
