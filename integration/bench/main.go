// Command bench runs the 22 TPC-H queries in Quiver (a `quiver serve`
// child process, queried through Flight SQL) and in DuckDB and DataFusion
// (peers.py, in a venv made from requirements.txt when needed) over the
// same Parquet files, and writes a Markdown report (docs/benchmarks.md).
//
//	go run ./integration/bench --quiver bin/quiver --data DIR [--runs 3] [--out docs/benchmarks.md]
package main

import (
	"bufio"
	"context"
	"encoding/json"
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

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

type result struct {
	Median float64 `json:"median_s"`
	OK     bool    `json:"ok"`
	Error  string  `json:"error"`
	Rows   int64   `json:"rows"`
}

type peerOutput map[string]json.RawMessage

func main() {
	quiver := flag.String("quiver", "bin/quiver", "quiver binary")
	data := flag.String("data", "", "data directory holding tpch/<table>.parquet")
	queries := flag.String("queries", "integration/tpch/queries", "directory of qNN.sql (queries-mysql/ beside it overrides for Quiver)")
	runs := flag.Int("runs", 3, "timed runs per query (median reported)")
	out := flag.String("out", "docs/benchmarks.md", "report file")
	peers := flag.Bool("peers", true, "also run DuckDB and DataFusion (needs python3)")
	flag.Parse()
	if *data == "" {
		fmt.Fprintln(os.Stderr, "bench: --data is required")
		os.Exit(2)
	}
	if err := run(*quiver, *data, *queries, *runs, *out, *peers); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func run(bin, data, qdir string, runs int, out string, withPeers bool) error {
	names, err := queryNames(qdir)
	if err != nil {
		return err
	}
	q, peakMB, err := runQuiver(bin, data, qdir, names, runs)
	if err != nil {
		return err
	}
	engines := map[string]map[string]result{"quiver": q}
	peaks := map[string]float64{"quiver": peakMB}
	if withPeers {
		if err := runPeers(data, qdir, runs, engines, peaks); err != nil {
			fmt.Fprintln(os.Stderr, "bench: peers:", err)
		}
	}
	return os.WriteFile(out, []byte(report(data, runs, names, engines, peaks)), 0o644)
}

func queryNames(dir string) ([]string, error) {
	files, err := filepath.Glob(filepath.Join(dir, "q*.sql"))
	if err != nil || len(files) == 0 {
		return nil, fmt.Errorf("no queries in %s", dir)
	}
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".sql"))
	}
	slices.Sort(names)
	return names, nil
}

// runQuiver starts the server as a child process (so its peak RSS is its
// own), runs each query runs times and returns the medians and VmHWM in MB.
func runQuiver(bin, data, qdir string, names []string, runs int) (map[string]result, float64, error) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, 0, err
	}
	addr := lis.Addr().String()
	lis.Close()
	cmd := exec.Command(bin, "serve", "--listen", addr, "--data", data, "--default-schema", "tpch", "--log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
	}()
	if err := waitFor(addr); err != nil {
		return nil, 0, err
	}
	cl, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(64<<20)))
	if err != nil {
		return nil, 0, err
	}
	defer cl.Close()
	res := map[string]result{}
	for _, name := range names {
		sql, err := readQuery(qdir, name)
		if err != nil {
			return nil, 0, err
		}
		var times []float64
		r := result{OK: true}
		for range runs {
			start := time.Now()
			rows, err := fetch(cl, sql)
			if err != nil {
				r = result{Error: err.Error()}
				break
			}
			times = append(times, time.Since(start).Seconds())
			r.Rows = rows
		}
		if r.OK {
			r.Median = median(times)
		}
		fmt.Fprintf(os.Stderr, "quiver %s %.3fs ok=%v %s\n", name, r.Median, r.OK, r.Error)
		res[name] = r
	}
	return res, vmHWM(cmd.Process.Pid), nil
}

func readQuery(qdir, name string) (string, error) {
	override := filepath.Join(filepath.Dir(qdir), "queries-mysql", name+".sql")
	b, err := os.ReadFile(override)
	if err != nil {
		b, err = os.ReadFile(filepath.Join(qdir, name+".sql"))
	}
	return strings.TrimSuffix(strings.TrimSpace(string(b)), ";"), err
}

func fetch(cl *flightsql.Client, sql string) (int64, error) {
	ctx := context.Background()
	info, err := cl.Execute(ctx, sql)
	if err != nil {
		return 0, err
	}
	var rows int64
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.Ticket)
		if err != nil {
			return 0, err
		}
		for rdr.Next() {
			rows += rdr.RecordBatch().NumRows()
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			return 0, err
		}
	}
	return rows, nil
}

func waitFor(addr string) error {
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(100 * time.Millisecond)
	}
	return fmt.Errorf("quiver did not listen on %s", addr)
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// vmHWM is the peak resident set of a process in MB.
func vmHWM(pid int) float64 {
	return procField(fmt.Sprintf("/proc/%d/status", pid), "VmHWM:") / 1024
}

// procField returns the first number after key in a /proc file (kB there).
func procField(path, key string) float64 {
	fh, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer fh.Close()
	sc := bufio.NewScanner(fh)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key); ok {
			f := strings.Fields(rest)
			if len(f) > 0 {
				v, _ := strconv.ParseFloat(f[0], 64)
				return v
			}
		}
	}
	return 0
}

// runPeers runs peers.py in a venv (created from requirements.txt on first
// use) and merges its results.
func runPeers(data, qdir string, runs int, engines map[string]map[string]result, peaks map[string]float64) error {
	here := "integration/bench"
	venv := os.Getenv("QUIVER_BENCH_VENV")
	if venv == "" {
		home, _ := os.UserHomeDir()
		venv = filepath.Join(home, ".cache", "quiver-bench-venv")
	}
	py := filepath.Join(venv, "bin", "python")
	if _, err := os.Stat(py); err != nil {
		for _, c := range [][]string{
			{"python3", "-m", "venv", venv},
			{py, "-m", "pip", "install", "-q", "-r", filepath.Join(here, "requirements.txt")},
		} {
			cmd := exec.Command(c[0], c[1:]...)
			cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
			if err := cmd.Run(); err != nil {
				return fmt.Errorf("%s: %w", strings.Join(c, " "), err)
			}
		}
	}
	cmd := exec.Command(py, filepath.Join(here, "peers.py"), "--data", data, "--queries", qdir, "--runs", strconv.Itoa(runs))
	cmd.Stderr = os.Stderr
	outb, err := cmd.Output()
	if err != nil {
		return err
	}
	var po peerOutput
	if err := json.Unmarshal(outb, &po); err != nil {
		return fmt.Errorf("peers.py output: %w", err)
	}
	for k, raw := range po {
		if k == "peak_rss_mb" {
			var m map[string]float64
			if err := json.Unmarshal(raw, &m); err != nil {
				return err
			}
			for e, v := range m {
				peaks[e] = v
			}
			continue
		}
		var m map[string]result
		if err := json.Unmarshal(raw, &m); err != nil {
			return fmt.Errorf("peers.py %s: %w", k, err)
		}
		engines[k] = m
	}
	return nil
}

func machine() string {
	cpu := "unknown CPU"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "model name"); ok {
				cpu = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	memGB := procField("/proc/meminfo", "MemTotal:") / (1 << 20)
	return fmt.Sprintf("%s, %d cores, %.1f GiB RAM, %s/%s, %s", cpu, runtime.NumCPU(), memGB, runtime.GOOS, runtime.GOARCH, runtime.Version())
}

func report(data string, runs int, names []string, engines map[string]map[string]result, peaks map[string]float64) string {
	order := []string{"quiver"}
	for _, e := range []string{"duckdb", "datafusion"} {
		if _, ok := engines[e]; ok {
			order = append(order, e)
		}
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "# TPC-H benchmark\n\nGenerated by `make bench` (`go run ./integration/bench`) on %s.\n\n", time.Now().UTC().Format("2006-01-02"))
	fmt.Fprintf(&sb, "- Machine: %s\n- Data: `%s` (Parquet, same files for every engine)\n", machine(), data)
	fmt.Fprintf(&sb, "- Each query runs %d times; the table shows the median wall time in seconds, the full result fetched as Arrow (Quiver: through Flight SQL from a separate server process).\n\n", runs)
	sb.WriteString("| query |")
	for _, e := range order {
		fmt.Fprintf(&sb, " %s (s) |", e)
	}
	for _, e := range order[1:] {
		fmt.Fprintf(&sb, " quiver / %s |", e)
	}
	sb.WriteString("\n|---|")
	sb.WriteString(strings.Repeat("---:|", 2*len(order)-1))
	sb.WriteString("\n")
	logs := map[string][]float64{}
	for _, n := range names {
		fmt.Fprintf(&sb, "| %s |", n)
		allOK := true
		for _, e := range order {
			r := engines[e][n]
			if r.OK {
				fmt.Fprintf(&sb, " %.3f |", r.Median)
			} else {
				allOK = false
				sb.WriteString(" error |")
			}
		}
		q := engines["quiver"][n]
		for _, e := range order[1:] {
			p := engines[e][n]
			if q.OK && p.OK && p.Median > 0 {
				fmt.Fprintf(&sb, " %.2f× |", q.Median/p.Median)
			} else {
				sb.WriteString(" – |")
			}
		}
		sb.WriteString("\n")
		if allOK {
			for _, e := range order {
				logs[e] = append(logs[e], math.Log(math.Max(engines[e][n].Median, 1e-6)))
			}
		}
	}
	sb.WriteString("| **geometric mean** (queries all engines ran) |")
	gm := map[string]float64{}
	for _, e := range order {
		if len(logs[e]) == 0 {
			sb.WriteString(" – |")
			continue
		}
		var s float64
		for _, l := range logs[e] {
			s += l
		}
		gm[e] = math.Exp(s / float64(len(logs[e])))
		fmt.Fprintf(&sb, " %.3f |", gm[e])
	}
	for _, e := range order[1:] {
		if gm[e] > 0 && gm["quiver"] > 0 {
			fmt.Fprintf(&sb, " %.2f× |", gm["quiver"]/gm[e])
		} else {
			sb.WriteString(" – |")
		}
	}
	sb.WriteString("\n\n## Peak memory (RSS)\n\n| engine | peak RSS (MB) |\n|---|---:|\n")
	for _, e := range order {
		fmt.Fprintf(&sb, "| %s | %.0f |\n", e, peaks[e])
	}
	var failed []string
	for _, e := range order {
		for _, n := range names {
			if r := engines[e][n]; !r.OK {
				failed = append(failed, fmt.Sprintf("- %s %s: %s", e, n, firstLine(r.Error)))
			}
		}
	}
	if len(failed) > 0 {
		sb.WriteString("\n## Failures\n\n" + strings.Join(failed, "\n") + "\n")
	}
	return sb.String()
}

func firstLine(s string) string {
	if s == "" {
		return "not run"
	}
	s, _, _ = strings.Cut(s, "\n")
	return s
}
