package cluster_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/quiverdb/quiver/cluster"
)

// A task that reaches a worker after gossip declared its coordinator dead
// (sent just before the crash, delivered late) is refused: nothing would
// ever release its output there.
func TestDistributedLateTaskOfDeadCoordinatorRefused(t *testing.T) {
	nodes := startCluster(t, 2, clusterOpts{})
	nodes[0].kill()
	worker := nodes[1]
	deadline := time.Now().Add(20 * time.Second)
	for len(worker.ml.Members()) != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("%s still sees %d members", worker.name, len(worker.ml.Members()))
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The membership event reaches the scheduler on the event goroutine.
	var reply []byte
	var err error
	for {
		body, eerr := cluster.EncodeTask(&cluster.TaskSpec{QueryID: nodes[0].name + "/q1-1", Stage: 0, Partition: 0,
			Fragment: []byte{1}, CoordinatorNode: nodes[0].name})
		if eerr != nil {
			t.Fatal(eerr)
		}
		reply, err = worker.dist.HandleAction(context.Background(), cluster.ActionRunTask, body)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(reply), "coordinator "+nodes[0].name+" is gone") || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if !strings.Contains(string(reply), "coordinator "+nodes[0].name+" is gone") {
		t.Fatalf("late task of a dead coordinator: reply %q", reply)
	}
	if n := worker.dist.RunningTasks(); n != 0 {
		t.Errorf("%d tasks running", n)
	}
}
