package integration

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quiverdb/quiver/integration/tpch"
)

// splitRowGroups copies the TPC-H SF0.01 tables into dst/tpch rewritten
// with row groups of rowGroup rows: a scan has one partition per row
// group, so with the stock files (one row group each) every plan is a
// single stage and nothing is distributed.
func splitRowGroups(t *testing.T, dst string, rowGroup int64) {
	t.Helper()
	if err := tpch.SplitRowGroups(filepath.Join(sf001, "tpch"), filepath.Join(dst, "tpch"), rowGroup); err != nil {
		t.Fatal(err)
	}
}

// tasksPerNode counts the succeeded tasks of the queries p coordinated, by
// node, from system.tasks.
func tasksPerNode(t *testing.T, p *clusterProc) map[string]int {
	t.Helper()
	out := map[string]int{}
	for _, r := range queryRows(t, p.process, "SELECT node, COUNT(*) FROM system.tasks WHERE state = 'succeeded' GROUP BY node") {
		var n int
		fmt.Sscan(r[1], &n)
		out[r[0]] = n
	}
	return out
}

// TestClusterDistributedProcesses: three real `quiver serve` processes
// (cluster secret file, --join) over TPC-H SF0.01 with small row groups.
// All 22 queries sent to node 2 through Flight SQL give the reference
// answers, and system.tasks shows that all three nodes ran tasks. Then
// node 3 is SIGKILLed while node 1 runs q18 in a loop: every query that
// completes is right, and the ones in flight at the kill complete
// (failed tasks retried elsewhere, lost shuffle output recomputed).
func TestClusterDistributedProcesses(t *testing.T) {
	bin := buildQuiver(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	splitRowGroups(t, data, 2000)
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("dist-cluster-secret-for-tests\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := func(name string) []string {
		return []string{"--data", data, "--default-schema", "tpch", "--cluster-secret-file", secret,
			"--parallelism", "4", "--partition-rows", "1000", "--work-dir", filepath.Join(dir, "work-"+name), "--shuffle-memory", "64MiB",
			"--shuffle-compression", "lz4", "--log-level", "warn"}
	}
	n1 := startClusterNode(t, bin, "n1", common("n1")...)
	n2 := startClusterNode(t, bin, "n2", append(common("n2"), "--join", n1.gossip)...)
	n3 := startClusterNode(t, bin, "n3", append(common("n3"), "--join", n1.gossip)...)
	nodes := []*clusterProc{n1, n2, n3}
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range nodes {
		for {
			got := joinRows(queryRows(t, n.process, "SELECT node_name, state FROM system.nodes ORDER BY node_name"))
			if got == "n1|alive\nn2|alive\nn3|alive" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("system.nodes on %s: %q\n%s", n.name, got, n.stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	const answers = "tpch/answers/sf0.01"
	cl := dial(t, n2.addr)
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		t.Run(name, func(t *testing.T) {
			header, got := runQuery(t, cl, readQuery(t, name))
			msg, err := tpch.Check(answers, name, header, got)
			if err != nil {
				t.Fatal(err)
			}
			if msg != "" {
				t.Fatalf("3 nodes, coordinator n2: %s", msg)
			}
		})
	}
	cl.Close()
	perNode := tasksPerNode(t, n2)
	for _, n := range nodes {
		if perNode[n.name] == 0 {
			t.Errorf("no task of n2's queries ran on %s: %v", n.name, perNode)
		}
	}
	t.Logf("tasks per node of the 22 queries: %v", perNode)
	if t.Failed() {
		t.Fatalf("n2 output:\n%s", n2.stderr.String())
	}

	// SIGKILL n3 while n1 runs q18 in a loop (two clients).
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
		return tpch.Check(answers, "q18", []string{"c_name", "c_custkey", "o_orderkey", "o_orderdate", "o_totalprice", "sum(l_quantity)"}, rows)
	})
	time.Sleep(1500 * time.Millisecond)
	killAt := time.Now()
	n3.stop(t, syscall.SIGKILL)
	loop.waitAfter(killAt, 40*time.Second)
	_, spanning, afterKill := loop.finish(t, "q18", "kill", killAt)
	t.Logf("n1's tasks by node and state, attempts > 0 marked retried: %s", joinRows(queryRows(t, n1.process,
		"SELECT node, state, attempt > 0 AS retried, COUNT(*) FROM system.tasks GROUP BY node, state, attempt > 0 ORDER BY 1, 2, 3")))
	// The kill was felt: tasks sent to n3 failed and were redone elsewhere.
	if got := joinRows(queryRows(t, n1.process, "SELECT COUNT(*) FROM system.tasks WHERE attempt > 0 AND state = 'succeeded' AND node <> 'n3'")); got == "0" {
		t.Errorf("no task was retried after n3 was killed")
	}
	if spanning+afterKill == 0 {
		t.Errorf("no q18 completed after n3 was killed")
	}
	// A query after the kill is still distributed over the survivors.
	rows := queryRows(t, n1.process, "SELECT COUNT(*) FROM lineitem l JOIN orders o ON l.l_orderkey = o.o_orderkey")
	if got := joinRows(rows); got != "60175" {
		t.Errorf("join count after the kill: %s", got)
	}
	if t.Failed() {
		t.Logf("n1 output:\n%s", n1.stderr.String())
	}
}
