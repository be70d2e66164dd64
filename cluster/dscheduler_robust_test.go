package cluster_test

import (
	"testing"
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
