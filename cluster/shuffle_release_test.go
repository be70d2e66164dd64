package cluster_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/quiverdb/quiver/cluster"
)

// A stage's shuffle output is dropped on every node once the stages that
// read it succeeded, before the query ends (memory and spill files go
// early); the answers stay right, also when a node dies after outputs
// were dropped (lineage recomputes from further upstream).
func TestDistributedReleasesConsumedStages(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{shuffleMemory: 1})
	var mu sync.Mutex
	seen := map[int]bool{} // stages seen holding output in an earlier hook call
	released := map[int]bool{}
	cluster.SetAfterStage(nodes[0].dist, func(q string, stage int) {
		mu.Lock()
		defer mu.Unlock()
		held := map[int]bool{}
		for _, n := range nodes {
			for s := range n.dist.Store().HeldStages(q) {
				held[s] = true
			}
		}
		for s := range seen {
			if !held[s] {
				released[s] = true
			}
		}
		for s := range held {
			seen[s] = true
		}
	})
	checkAnswer(t, nodes[0].eng, "q09")
	cluster.SetAfterStage(nodes[0].dist, nil)
	if len(seen) < 3 {
		t.Fatalf("q09 held the output of %d stages: the test checks nothing", len(seen))
	}
	if len(released) == 0 {
		t.Errorf("no stage's output was dropped before the query ended (stages seen %v)", seen)
	}
	waitNoShuffleFiles(t, nodes)

	// A node dies late (after early stages' outputs were dropped): the
	// answer is still right.
	victim := nodes[2]
	var once sync.Once
	var after atomic.Int32
	cluster.SetAfterStage(nodes[0].dist, func(q string, stage int) {
		if after.Add(1) < 4 {
			return
		}
		once.Do(victim.kill)
	})
	checkAnswer(t, nodes[0].eng, "q09")
	cluster.SetAfterStage(nodes[0].dist, nil)
	if n := after.Load(); n < 4 {
		t.Fatalf("q09 ran %d producer stages, the node was never killed", n)
	}
}
