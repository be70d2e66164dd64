package cluster_test

import (
	"context"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/integration/tpch"
)

// A coordinator restarted under the same name and addresses before gossip
// noticed its death (failure detection is off here): its peers see the new
// instance, cancel the tasks they were running for the old one (which wait
// for a slot, so only the restart can end them), free the old query's
// shuffle files, and refuse the old instance's late tasks.
func TestDistributedCoordinatorRestartSameName(t *testing.T) {
	o := clusterOpts{shuffleMemory: 1, tune: func(c *memberlist.Config) { c.ProbeInterval = time.Hour }}
	nodes := startCluster(t, 3, o)
	coord, peers := nodes[0], nodes[1:]
	old := coord.ml.Local()

	// Run q18 on node1 until its first producer stages are done (their
	// output spilled on the peers), then let it go on while the peers'
	// slots are taken: the next stage's tasks sent there wait.
	var once sync.Once
	paused, resume := make(chan struct{}), make(chan struct{})
	cluster.SetAfterStage(coord.dist, func(q string, stage int) {
		if shuffleFiles(t, peers) == 0 {
			return // this stage's output is all on node1
		}
		once.Do(func() { close(paused) })
		<-resume
	})
	sql, err := tpch.ReadQuery(tpchDir, "q18")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ended := make(chan error, 1)
	go func() {
		res, err := coord.eng.Execute(ctx, coord.eng.NewSession(), sql, nil)
		if err == nil {
			for {
				b, err2 := res.Stream.Next(ctx)
				if err2 != nil {
					break
				}
				b.Release()
			}
			res.Stream.Close()
		}
		ended <- err
	}()
	select {
	case <-paused:
	case err := <-ended:
		t.Fatalf("the query ended (%v) before the peers held output of it", err)
	case <-time.After(time.Minute):
		t.Fatal("no producer stage ended")
	}
	for _, p := range peers {
		release := cluster.HoldSlots(p.eng.Scheduler())
		defer release()
	}
	close(resume)
	running := func() int64 { return peers[0].dist.RunningTasks() + peers[1].dist.RunningTasks() }
	waitUntil(t, "tasks of node1 waiting on the peers", time.Minute, func() bool { return running() > 0 })

	// Crash and restart node1: its old process stays silent (its gossip
	// and service stop; its calls to the peers stay open).
	coord.srv.Stop(0)
	coord.ml.Close()
	var lis net.Listener
	waitUntil(t, "node1's internal port to be free", 10*time.Second, func() bool {
		lis, err = net.Listen("tcp", old.InternalAddr) // the old server closes it in the background
		return err == nil
	})
	restarted := startTestNode(t, old.Name, lis, old.InternalAddr, old.GossipAddr, []string{peers[0].ml.Local().GossipAddr}, o)
	if restarted.ml.Local().Instance == old.Instance {
		t.Fatal("same instance id after a restart")
	}

	waitUntil(t, "the peers to cancel the old instance's tasks", 30*time.Second, func() bool { return running() == 0 })
	waitUntil(t, "the peers to free the old instance's shuffle files", 30*time.Second, func() bool { return shuffleFiles(t, peers) == 0 })
	for _, p := range peers {
		for _, m := range p.ml.All() {
			if m.Name == old.Name && (m.State != cluster.StateAlive || m.Instance != restarted.ml.Local().Instance) {
				t.Errorf("%s sees %s %s instance %s", p.name, m.Name, m.State, m.Instance)
			}
		}
	}

	// A late task of the old instance is refused; the new one's are not.
	for _, inst := range []cluster.Node{old, restarted.ml.Local()} {
		body, err := cluster.EncodeTask(&cluster.TaskSpec{QueryID: old.Name + "/q-late", Fragment: []byte{1},
			CoordinatorNode: old.Name, CoordinatorInstance: inst.Instance, CoordinatorStarted: inst.Started})
		if err != nil {
			t.Fatal(err)
		}
		reply, err := peers[0].dist.HandleAction(context.Background(), cluster.ActionRunTask, body)
		if err != nil {
			t.Fatal(err)
		}
		gone := strings.Contains(string(reply), "is gone") || strings.Contains(string(reply), "was replaced")
		if gone != (inst.Instance == old.Instance) {
			t.Errorf("task of instance %s (old: %s): reply %q", inst.Instance, old.Instance, reply)
		}
	}

	coord.kill()
	select {
	case <-ended:
	case <-time.After(time.Minute):
		t.Fatal("the old instance's query did not end")
	}
}

func waitUntil(t *testing.T, what string, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
