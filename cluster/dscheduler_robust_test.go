package cluster_test

import (
	"regexp"
	"strings"
	"testing"

	"github.com/quiverdb/quiver/integration/tpch"
)

// A worker's internal service goes away while gossip still reports it
// alive (its membership keeps running): the first refused connection takes
// it out of placement, so only the tasks already in flight are sent there,
// and the following queries do not try it at all during the cooldown.
func TestDistributedUnreachableNodeLeavesPlacement(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	coord, victim := nodes[0], nodes[2]
	checkAnswer(t, coord.eng, "q03")
	if coord.dist.TasksSent(victim.name) == 0 {
		t.Fatalf("no task was sent to %s before its service stopped", victim.name)
	}
	victim.srv.Stop(0) // gossip goes on: nobody declares it dead
	before := coord.dist.TasksSent(victim.name)
	for i := 0; i < 3; i++ {
		for _, q := range []string{"q03", "q05", "q09", "q10", "q18"} {
			checkAnswer(t, coord.eng, q)
		}
	}
	after := coord.dist.TasksSent(victim.name) - before
	// At most the tasks in flight when the first refusal came back: the
	// query's task budget is the cluster's cores (3 nodes × 2).
	if after > 6 {
		t.Errorf("%d tasks sent to the unreachable %s after its service stopped", after, victim.name)
	}
	t.Logf("tasks sent to %s after its service stopped: %d", victim.name, after)
	for _, m := range coord.ml.Members() {
		if m.Name == victim.name && !m.State.Live() {
			t.Logf("note: gossip declared %s %v", victim.name, m.State)
		}
	}
	// The other worker still takes tasks.
	if n := coord.dist.TasksSent(nodes[1].name); n == 0 {
		t.Errorf("no task sent to %s", nodes[1].name)
	}
}

// EXPLAIN ANALYZE of a distributed query lists, per stage, every node that
// ran its tasks with their rows, shuffled bytes and time; the nodes are the
// ones system.tasks names.
func TestDistributedExplainAnalyze(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	coord := nodes[0]
	sql, err := tpch.ReadQuery(tpchDir, "q03")
	if err != nil {
		t.Fatal(err)
	}
	_, rows, err := query(t, coord.eng, "EXPLAIN ANALYZE "+sql)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range rows {
		lines = append(lines, r[0])
	}
	text := strings.Join(lines, "\n")
	ran := tasksByNode(t, coord.eng, "")
	if len(ran) != 3 {
		t.Fatalf("tasks ran on %v, want all 3 nodes", ran)
	}
	for node := range ran {
		re := regexp.MustCompile(`(?m)^\s+node ` + node + `: tasks=[1-9]\d* rows=\d+ shuffled=\d+(\.\d)?[KMG]?i?B task_time=\S+ max_task=\S+`)
		if !re.MatchString(text) {
			t.Errorf("EXPLAIN ANALYZE does not list %s:\n%s", node, text)
		}
	}
	if !regexp.MustCompile(`shuffled=[1-9]`).MatchString(text) {
		t.Errorf("no shuffled bytes reported:\n%s", text)
	}
	if testing.Verbose() {
		t.Log("\n" + text)
	}
}
