package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quiverdb/quiver/integration/tpch"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// heavyJoin keeps every node busy for a while in its join stage (a
// many-to-many join on the supplier key, counted), after short scan stages;
// heavyJoinCheck computes its answer another way (cheap).
const (
	heavyJoin      = "SELECT COUNT(*) FROM lineitem a JOIN lineitem b ON a.l_suppkey % 25 = b.l_suppkey % 25"
	heavyJoinCheck = "SELECT SUM(c * c) FROM (SELECT l_suppkey % 25 AS k, COUNT(*) AS c FROM lineitem GROUP BY l_suppkey % 25) x"
)

// faultCluster starts real `quiver serve` processes named names over data
// (the first is the gossip seed) and waits until every one sees them all
// alive.
type faultCluster struct {
	bin, dir, data, secret string
}

func (c *faultCluster) args(name string, extra ...string) []string {
	return append([]string{"--data", c.data, "--default-schema", "tpch", "--cluster-secret-file", c.secret,
		"--parallelism", "4", "--partition-rows", "1000", "--work-dir", filepath.Join(c.dir, "work-"+name), "--shuffle-compression", "lz4", "--log-level", "warn"}, extra...)
}

func (c *faultCluster) start(t *testing.T, seed *clusterProc, name string, extra ...string) *clusterProc {
	t.Helper()
	if seed != nil {
		extra = append(extra, "--join", seed.gossip)
	}
	return startClusterNode(t, c.bin, name, c.args(name, extra...)...)
}

// waitMembers waits until n lists exactly want ("n1|alive\nn2|alive...").
func waitMembers(t *testing.T, n *clusterProc, want string) {
	t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for {
		got := joinRows(queryRows(t, n.process, "SELECT node_name, state FROM system.nodes ORDER BY node_name"))
		if got == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("system.nodes on %s: %q, want %q\n%s", n.name, got, want, n.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (c *faultCluster) three(t *testing.T, extra ...string) []*clusterProc {
	t.Helper()
	n1 := c.start(t, nil, "n1", extra...)
	n2 := c.start(t, n1, "n2", extra...)
	n3 := c.start(t, n1, "n3", extra...)
	nodes := []*clusterProc{n1, n2, n3}
	for _, n := range nodes {
		waitMembers(t, n, "n1|alive\nn2|alive\nn3|alive")
	}
	return nodes
}

// shuffleFilesOf counts the shuffle files node name has in its work dir
// (its directory lock aside).
func (c *faultCluster) shuffleFilesOf(name string) int {
	n := 0
	filepath.WalkDir(filepath.Join(c.dir, "work-"+name), func(path string, e os.DirEntry, err error) error {
		if err == nil && !e.IsDir() && !strings.HasSuffix(path, ".lock") {
			n++
		}
		return nil
	})
	return n
}

// asyncQuery runs sql on n in the background; the result arrives on the
// returned channel.
type queryOutcome struct {
	rows [][]string
	err  error
	at   time.Time
}

func asyncQuery(t *testing.T, n *clusterProc, sql string) <-chan queryOutcome {
	cl := dial(t, n.addr)
	ch := make(chan queryOutcome, 1)
	go func() {
		defer cl.Close()
		rows, err := fetchAll(cl, sql)
		ch <- queryOutcome{rows: rows, err: err, at: time.Now()}
	}()
	return ch
}

// runUntil runs sql on n, again each time it ends, until cond holds while
// a run is in flight (limit at most); it returns that run's outcome channel,
// or nil.
func runUntil(t *testing.T, n *clusterProc, sql string, limit time.Duration, cond func() bool) <-chan queryOutcome {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		res := asyncQuery(t, n, sql)
		for time.Now().Before(deadline) {
			if cond() {
				return res
			}
			select {
			case r := <-res:
				if r.err != nil {
					t.Fatalf("%s: %v", sql, r.err)
				}
				res = nil
			case <-time.After(100 * time.Millisecond):
			}
			if res == nil {
				break
			}
		}
	}
	return nil
}

// waitFor polls cond every 100 ms until it holds or limit passed.
func waitFor(limit time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(100 * time.Millisecond)
	}
	return true
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// TestClusterFaults: fault tolerance with real `quiver serve` processes
// over TPC-H SF0.01 rewritten with small row groups (so plans have
// several stages and spread over the nodes).
func TestClusterFaults(t *testing.T) {
	bin := buildQuiver(t)
	dir := t.TempDir()
	c := &faultCluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), secret: filepath.Join(dir, "secret")}
	splitRowGroups(t, c.data, 2000)
	if err := os.WriteFile(c.secret, []byte("faults-cluster-secret-for-tests\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// The coordinator of a running query is SIGKILLed: its client gets
	// Unavailable at once (no hang), and the survivors drop the query's
	// work: no task of theirs keeps running and the shuffle output they
	// held (spilled files, with a tiny memory budget) is removed once
	// gossip declares the coordinator dead.
	t.Run("CoordinatorDeath", func(t *testing.T) {
		c.dir = filepath.Join(dir, "death")
		nodes := c.three(t, "--shuffle-memory", "1KiB")
		n1, n2, n3 := nodes[0], nodes[1], nodes[2]
		busy := func() bool {
			rows := queryRows(t, n2.process, "SELECT COALESCE(SUM(running_tasks), 0) FROM system.nodes WHERE node_name IN ('n2', 'n3')")
			return atoi(rows[0][0]) > 0 && c.shuffleFilesOf("n2")+c.shuffleFilesOf("n3") > 0
		}
		res := runUntil(t, n1, heavyJoin, 60*time.Second, busy)
		if res == nil {
			t.Fatalf("n2/n3 never ran n1's tasks with spilled shuffle output; tasks:\n%s",
				joinRows(queryRows(t, n1.process, "SELECT stage, node, state, rows, bytes, elapsed_ms FROM system.tasks ORDER BY stage, node")))
		}
		t.Logf("before the kill: running tasks on n2+n3, shuffle files n2=%d n3=%d", c.shuffleFilesOf("n2"), c.shuffleFilesOf("n3"))
		killAt := time.Now()
		n1.stop(t, syscall.SIGKILL)
		select {
		case r := <-res:
			if r.err == nil {
				t.Fatalf("the query survived its coordinator: %v", r.rows)
			}
			if status.Code(r.err) != codes.Unavailable {
				t.Errorf("client error %v, want Unavailable", r.err)
			}
			t.Logf("client error after %v: %v", r.at.Sub(killAt).Round(time.Millisecond), r.err)
		case <-time.After(60 * time.Second):
			t.Fatal("the client still waits 60 s after its coordinator died")
		}
		freed := func() bool {
			rows := queryRows(t, n2.process, "SELECT COALESCE(SUM(running_tasks), 0) FROM system.nodes WHERE node_name IN ('n2', 'n3') AND state = 'alive'")
			return atoi(rows[0][0]) == 0 && c.shuffleFilesOf("n2")+c.shuffleFilesOf("n3") == 0
		}
		if !waitFor(45*time.Second, freed) {
			t.Errorf("45 s after n1 died: %s running tasks; shuffle files n2=%d n3=%d",
				joinRows(queryRows(t, n2.process, "SELECT node_name, running_tasks FROM system.nodes")), c.shuffleFilesOf("n2"), c.shuffleFilesOf("n3"))
		} else {
			t.Logf("survivors freed n1's work %v after the kill", time.Since(killAt).Round(time.Second))
		}
		waitMembers(t, n2, "n1|dead\nn2|alive\nn3|alive")
		// The survivors still run distributed queries.
		if got := joinRows(queryRows(t, n2.process, "SELECT COUNT(*) FROM lineitem l JOIN orders o ON l.l_orderkey = o.o_orderkey")); got != "60175" {
			t.Errorf("join count on the survivors: %s", got)
		}
		_ = n3
	})

	// The node holding finished shuffle output is SIGKILLed while the
	// stage that reads it runs: the output is recomputed elsewhere and the
	// answer is right; system.tasks shows the rerun.
	t.Run("OutputHolderKilled", func(t *testing.T) {
		c.dir = filepath.Join(dir, "holder")
		nodes := c.three(t)
		n1, n3 := nodes[0], nodes[2]
		want := joinRows(queryRows(t, n1.process, heavyJoinCheck))
		// n3 finished a task (its output is there) and runs another.
		const onN3 = "SELECT t.state, COUNT(*) FROM system.tasks t JOIN system.queries q ON t.query_id = q.query_id " +
			"WHERE q.state = 'running' AND t.node = 'n3' GROUP BY t.state"
		ready := func() bool {
			m := map[string]int{}
			for _, r := range queryRows(t, n1.process, onN3) {
				m[r[0]] = atoi(r[1])
			}
			return m["succeeded"] > 0 && m["running"] > 0
		}
		res := runUntil(t, n1, heavyJoin, 60*time.Second, ready)
		if res == nil {
			t.Fatal("n3 never held finished output while running another task of the query")
		}
		n3.stop(t, syscall.SIGKILL)
		var r queryOutcome
		select {
		case r = <-res:
		case <-time.After(90 * time.Second):
			t.Fatal("the query did not end 90 s after n3 was killed")
		}
		if r.err != nil {
			t.Fatalf("query failed after n3 was killed: %v\n%s", r.err, n1.stderr.String())
		}
		if got := joinRows(r.rows); got != want {
			t.Errorf("answer %s, want %s", got, want)
		}
		// A task that had succeeded on n3 ran again, and succeeded, elsewhere.
		rerun := joinRows(queryRows(t, n1.process, "SELECT COUNT(*) FROM system.tasks a JOIN system.tasks b "+
			"ON a.query_id = b.query_id AND a.stage = b.stage AND a.`partition` = b.`partition` "+
			"WHERE a.node = 'n3' AND a.state = 'succeeded' AND b.node <> 'n3' AND b.attempt > a.attempt AND b.state = 'succeeded'"))
		if atoi(rerun) == 0 {
			t.Errorf("no output n3 had produced was recomputed elsewhere:\n%s", joinRows(queryRows(t, n1.process,
				"SELECT stage, `partition`, attempt, node, state FROM system.tasks ORDER BY stage, `partition`, attempt")))
		}
		t.Logf("tasks n3 had finished that were recomputed elsewhere: %s", rerun)
	})

	// EXPLAIN ANALYZE on 3 processes shows operator metrics from the nodes
	// that ran the tasks; then a worker is stopped with SIGTERM while n1
	// runs q18 in a loop: no query fails.
	t.Run("ExplainAnalyzeAndGracefulStop", func(t *testing.T) {
		c.dir = filepath.Join(dir, "graceful")
		nodes := c.three(t)
		n1, n3 := nodes[0], nodes[2]

		text := joinRows(queryRows(t, n1.process, "EXPLAIN ANALYZE SELECT o_orderpriority, COUNT(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey GROUP BY o_orderpriority"))
		scanned, remote := scanRowsByNode(text)
		if scanned != 60175+15000 {
			t.Errorf("scan rows over all nodes: %d, want %d (lineitem + orders)\n%s", scanned, 60175+15000, text)
		}
		if remote == 0 {
			t.Errorf("no node other than n1 reported operator rows\n%s", text)
		}

		sql := readQuery(t, "q18")
		var clients []*flightsql.Client
		for range 2 {
			cl := dial(t, n1.addr)
			defer cl.Close()
			clients = append(clients, cl)
		}
		loop := startQueryLoop(clients, func(cl *flightsql.Client) (string, error) {
			rows, err := fetchAll(cl, sql)
			if err != nil {
				return "", err
			}
			return tpch.Check("tpch/answers/sf0.01", "q18", []string{"c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice", "sum(l_quantity)"}, rows)
		})
		time.Sleep(2 * time.Second)
		stopAt := time.Now()
		n3.stop(t, syscall.SIGTERM)
		t.Logf("n3 stopped in %v", time.Since(stopAt).Round(time.Millisecond))
		loop.waitAfter(stopAt, 40*time.Second)
		_, across, after := loop.finish(t, "q18", "SIGTERM", stopAt)
		if across+after == 0 {
			t.Errorf("no q18 completed after n3 was stopped")
		}
		if tasksPerNode(t, nodes[0])["n3"] == 0 {
			t.Errorf("n3 ran no task before it stopped")
		}
		waitMembers(t, n1, "n1|alive\nn2|alive\nn3|left")
	})

	// A node that joins while n1 runs q18 in a loop gets tasks of the
	// queries that start after it joined.
	t.Run("JoinMidway", func(t *testing.T) {
		c.dir = filepath.Join(dir, "join")
		n1 := c.start(t, nil, "n1")
		n2 := c.start(t, n1, "n2")
		waitMembers(t, n1, "n1|alive\nn2|alive")
		sql := readQuery(t, "q18")
		cl := dial(t, n1.addr)
		defer cl.Close()
		loop := startQueryLoop([]*flightsql.Client{cl}, func(cl *flightsql.Client) (string, error) {
			rows, err := fetchAll(cl, sql)
			if err != nil {
				return "", err
			}
			return tpch.Check("tpch/answers/sf0.01", "q18", []string{"c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice", "sum(l_quantity)"}, rows)
		})
		time.Sleep(time.Second)
		n3 := c.start(t, n1, "n3")
		waitMembers(t, n1, "n1|alive\nn2|alive\nn3|alive")
		joinedAt := time.Now()
		loop.waitAfter(joinedAt, 40*time.Second)
		_, _, after := loop.finish(t, "q18", "join", joinedAt)
		if after == 0 {
			t.Fatal("no q18 started after n3 joined")
		}
		if got := tasksPerNode(t, n1); got["n3"] == 0 {
			t.Errorf("n3 got no task after joining: %v", got)
		}
		_ = n2
		_ = n3
	})
}

var (
	analyzeNodeLine = regexp.MustCompile(`^\s+node (\S+): tasks=`)
	analyzeScanLine = regexp.MustCompile(`^\s+Scan .*\[rows=(\d+) `)
)

// scanRowsByNode sums the Scan operators' rows of EXPLAIN ANALYZE text over
// every node (all), and those reported under nodes other than n1 (remote).
func scanRowsByNode(text string) (all, remote int) {
	node := ""
	for _, line := range strings.Split(text, "\n") {
		if m := analyzeNodeLine.FindStringSubmatch(line); m != nil {
			node = m[1]
			continue
		}
		if m := analyzeScanLine.FindStringSubmatch(line); m != nil && node != "" {
			all += atoi(m[1])
			if node != "n1" {
				remote += atoi(m[1])
			}
		}
	}
	return all, remote
}
