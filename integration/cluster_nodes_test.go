package integration

import (
	"os"
	"path/filepath"
	"regexp"
	"syscall"
	"testing"
	"time"
)

// TestClusterNodesLoad: system.nodes on three real `quiver serve`
// processes shows every live node's instance, start time and load (asked
// over the internal ping); memory shows while a heavy query runs; a node
// restarted under its name is a new instance; system.worker_tasks keeps
// the tasks a node ran for a peer's queries.
func TestClusterNodesLoad(t *testing.T) {
	bin := buildQuiver(t)
	dir := t.TempDir()
	c := &faultCluster{bin: bin, dir: dir, data: filepath.Join(dir, "data"), secret: filepath.Join(dir, "secret")}
	splitRowGroups(t, c.data, 2000)
	if err := os.WriteFile(c.secret, []byte("nodes-cluster-secret-for-tests\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	nodes := c.three(t, "--shuffle-memory", "1KiB")
	n1, n2, n3 := nodes[0], nodes[1], nodes[2]

	// Every node lists every live node with all the columns known.
	const cols = "node_name, instance, started, uptime_ms, query_memory_bytes, coordinating_queries, shuffle_memory_bytes, shuffle_spilled_bytes, running_tasks"
	instances := map[string]string{}
	hex16 := regexp.MustCompile(`^[0-9a-f]{16}$`)
	for _, n := range nodes {
		rows := queryRows(t, n.process, "SELECT "+cols+" FROM system.nodes WHERE state = 'alive' ORDER BY node_name")
		if len(rows) != 3 {
			t.Fatalf("%s lists %d alive nodes", n.name, len(rows))
		}
		nulls := queryRows(t, n.process, "SELECT COUNT(*) FROM system.nodes WHERE state = 'alive' AND (instance IS NULL OR started IS NULL OR uptime_ms IS NULL "+
			"OR query_memory_bytes IS NULL OR coordinating_queries IS NULL OR shuffle_memory_bytes IS NULL OR shuffle_spilled_bytes IS NULL OR running_tasks IS NULL)")
		if nulls[0][0] != "0" {
			t.Fatalf("%s: %s alive nodes with NULLs:\n%s", n.name, nulls[0][0], joinRows(rows))
		}
		for _, r := range rows {
			if !hex16.MatchString(r[1]) || atoi(r[3]) < 0 {
				t.Errorf("%s sees %v", n.name, r)
			}
			if prev, ok := instances[r[0]]; ok && prev != r[1] {
				t.Errorf("%s: instance %s, another node sees %s", r[0], r[1], prev)
			}
			instances[r[0]] = r[1]
		}
	}
	if len(instances) != 3 || instances["n1"] == instances["n2"] || instances["n2"] == instances["n3"] || instances["n1"] == instances["n3"] {
		t.Fatalf("instances %v", instances)
	}

	// While n1 runs a heavy query, n2 sees it coordinating one query, and
	// some node's queries hold memory and some node spilled shuffle output.
	var sawMem, sawSpill, sawCoord bool
	res := runUntil(t, n1, heavyJoin, 90*time.Second, func() bool {
		for _, r := range queryRows(t, n2.process, "SELECT node_name, query_memory_bytes, coordinating_queries, shuffle_spilled_bytes FROM system.nodes WHERE state = 'alive'") {
			sawMem = sawMem || atoi(r[1]) > 0
			sawCoord = sawCoord || r[0] == "n1" && atoi(r[2]) == 1
			sawSpill = sawSpill || atoi(r[3]) > 0
		}
		return sawMem && sawSpill && sawCoord
	})
	if res == nil {
		t.Fatalf("never seen during the query: memory %v, spilled shuffle %v, n1 coordinating %v", sawMem, sawSpill, sawCoord)
	}
	if r := <-res; r.err != nil {
		t.Fatal(r.err)
	}
	// Afterwards nothing is held (the query's output is freed everywhere).
	idle := func() bool {
		rows := queryRows(t, n2.process, "SELECT SUM(query_memory_bytes), SUM(coordinating_queries), SUM(shuffle_memory_bytes), SUM(shuffle_spilled_bytes) FROM system.nodes WHERE state = 'alive'")
		return joinRows(rows) == "0|0|0|0"
	}
	if !waitFor(30*time.Second, idle) {
		t.Errorf("load after the query: %s", joinRows(queryRows(t, n2.process, "SELECT "+cols+" FROM system.nodes")))
	}

	// The workers kept the tasks they ran for n1.
	worker := queryRows(t, n2.process, "SELECT COUNT(*), SUM(CASE WHEN state = 'succeeded' THEN 1 ELSE 0 END) FROM system.worker_tasks WHERE coordinator = 'n1'")
	worker3 := queryRows(t, n3.process, "SELECT COUNT(*) FROM system.worker_tasks WHERE coordinator = 'n1'")
	if atoi(worker[0][0])+atoi(worker3[0][0]) == 0 || atoi(worker[0][1]) > atoi(worker[0][0]) {
		t.Errorf("worker tasks for n1: n2 %v, n3 %v", worker, worker3)
	}

	// n3 restarted under its name: a new instance, started later.
	n3.stop(t, syscall.SIGKILL)
	n3b := c.start(t, n1, "n3", "--cluster-listen", n3.internal, "--gossip-listen", n3.gossip)
	newer := func() bool {
		rows := queryRows(t, n1.process, "SELECT instance, state FROM system.nodes WHERE node_name = 'n3'")
		return len(rows) == 1 && rows[0][1] == "alive" && rows[0][0] != instances["n3"] && hex16.MatchString(rows[0][0])
	}
	if !waitFor(40*time.Second, newer) {
		t.Fatalf("n1 sees n3 as %s (old instance %s)\n%s", joinRows(queryRows(t, n1.process, "SELECT instance, state FROM system.nodes WHERE node_name = 'n3'")),
			instances["n3"], n3b.stderr.String())
	}

	// n1, coordinating a heavy query whose spilled shuffle output n2 and n3
	// hold, is SIGKILLed and restarted at once on its ports. The new
	// process answers gossip probes, so n2 and n3 may never see n1 dead:
	// they drop the old instance's work because they see the new instance.
	busy := func() bool {
		rows := queryRows(t, n2.process, "SELECT COALESCE(SUM(running_tasks), 0) FROM system.nodes WHERE node_name IN ('n2', 'n3')")
		return atoi(rows[0][0]) > 0 && c.shuffleFilesOf("n2")+c.shuffleFilesOf("n3") > 0
	}
	res = runUntil(t, n1, heavyJoin, 60*time.Second, busy)
	if res == nil {
		t.Fatal("n2/n3 never ran n1's tasks with spilled shuffle output")
	}
	n1.stop(t, syscall.SIGKILL)
	if r := <-res; r.err == nil {
		t.Fatal("the query survived its coordinator")
	}
	n1b := c.start(t, n2, "n1", "--cluster-listen", n1.internal, "--gossip-listen", n1.gossip)
	freed := func() bool {
		rows := queryRows(t, n2.process, "SELECT COALESCE(SUM(running_tasks), 0) FROM system.nodes WHERE node_name IN ('n2', 'n3') AND state = 'alive'")
		back := queryRows(t, n2.process, "SELECT instance FROM system.nodes WHERE node_name = 'n1' AND state = 'alive'")
		return atoi(rows[0][0]) == 0 && c.shuffleFilesOf("n2")+c.shuffleFilesOf("n3") == 0 && len(back) == 1 && back[0][0] != instances["n1"]
	}
	if !waitFor(45*time.Second, freed) {
		t.Fatalf("after n1's restart: nodes %s, shuffle files n2=%d n3=%d\n%s", joinRows(queryRows(t, n2.process, "SELECT "+cols+" FROM system.nodes")),
			c.shuffleFilesOf("n2"), c.shuffleFilesOf("n3"), n1b.stderr.String())
	}
}

// A single `quiver serve` lists itself with its instance and its queries'
// memory (no peers: no tasks for others, no shuffle output), memory that
// shows while a heavy query runs.
func TestSingleNodeLoad(t *testing.T) {
	bin := buildQuiver(t)
	solo := &clusterProc{process: startQuiver(t, bin, "--data", sf001, "--default-schema", "tpch"), name: "solo"}
	rows := queryRows(t, solo.process, "SELECT instance, started, uptime_ms, query_memory_bytes, coordinating_queries, shuffle_memory_bytes, shuffle_spilled_bytes FROM system.nodes")
	if len(rows) != 1 || !regexp.MustCompile(`^[0-9a-f]{16}$`).MatchString(rows[0][0]) || joinRows([][]string{rows[0][4:]}) != "0|0|0" {
		t.Fatalf("system.nodes: %v", rows)
	}
	sawMem := false
	res := runUntil(t, solo, heavyJoin, 90*time.Second, func() bool {
		sawMem = atoi(queryRows(t, solo.process, "SELECT query_memory_bytes FROM system.nodes")[0][0]) > 0
		return sawMem
	})
	if res == nil {
		t.Fatal("no query memory seen while a heavy query ran")
	}
	if r := <-res; r.err != nil {
		t.Fatal(r.err)
	}
}
