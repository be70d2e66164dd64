package cluster_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quiverdb/quiver/cluster"
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
		re := regexp.MustCompile(`(?m)^\s+node ` + node + `: tasks=[1-9]\d* rows=\d+ written=\d+(\.\d)?[KMG]?i?B read=\S+ task_time=\S+ max_task=\S+`)
		if !re.MatchString(text) {
			t.Errorf("EXPLAIN ANALYZE does not list %s:\n%s", node, text)
		}
	}
	if !regexp.MustCompile(`written=[1-9]`).MatchString(text) {
		t.Errorf("no shuffled bytes reported:\n%s", text)
	}
	if testing.Verbose() {
		t.Log("\n" + text)
	}
}

// A node leaves gracefully while a query runs across the cluster: between
// two stages, while it holds part of the first stage's output, it
// announces it leaves, refuses new tasks (placed elsewhere, not failed),
// lets its running tasks finish, serves its shuffle output until the query
// that reads it ended, and only then leaves. The query completes, right,
// without a failed task attempt (an abrupt exit would fail the fetches).
func TestDistributedGracefulLeave(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	coord, leaver := nodes[0], nodes[2]
	var once sync.Once
	left := make(chan error, 1)
	cluster.SetAfterStage(coord.dist, func(q string, stage int) {
		if len(leaver.dist.Store().Queries()) == 0 {
			return // none of its output yet
		}
		once.Do(func() {
			if err := leaver.ml.AnnounceLeaving(2 * time.Second); err != nil {
				t.Error(err)
			}
			// Placement follows once the coordinator heard it.
			deadline := time.Now().Add(5 * time.Second)
			for time.Now().Before(deadline) {
				heard := false
				for _, m := range coord.ml.All() {
					if m.Name == leaver.name && m.Leaving {
						heard = true
					}
				}
				if heard {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
			go func() {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				err := leaver.dist.Drain(ctx)
				if lerr := leaver.ml.Leave(2 * time.Second); err == nil {
					err = lerr
				}
				leaver.kill()
				left <- err
			}()
			// Hold the query here a while: a node that left at once would
			// be gone (its output lost) by the time the next stage reads.
			until := time.Now().Add(2 * time.Second)
			for time.Now().Before(until) {
				gone := false
				for _, m := range coord.ml.All() {
					if m.Name == leaver.name && !m.State.Live() && m.State != cluster.StateLeaving {
						gone = true
					}
				}
				if gone {
					break
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	})
	checkAnswer(t, coord.eng, "q09")
	cluster.SetAfterStage(coord.dist, nil)
	select {
	case err := <-left:
		if err != nil {
			t.Errorf("graceful leave: %v", err)
		}
	case <-time.After(40 * time.Second):
		t.Fatal("the leaver did not leave")
	}
	_, rows, err := query(t, coord.eng, "SELECT stage, `partition`, attempt, node, `error` FROM system.tasks WHERE state <> 'succeeded'")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Errorf("task attempts that did not succeed: %v", rows)
	}
	// Its output was read where it was: nothing was recomputed.
	_, rows, err = query(t, coord.eng, "SELECT stage, `partition`, attempt, node FROM system.tasks WHERE attempt > 0")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 0 {
		t.Errorf("tasks ran again: %v", rows)
	}
	ran := tasksByNode(t, coord.eng, "")
	if ran[leaver.name] == 0 {
		t.Errorf("the leaver ran no task: %v", ran)
	}
	t.Logf("tasks per node %v", ran)
	// The two others go on.
	checkAnswer(t, coord.eng, "q18")
}
