package cluster_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quiverdb/quiver/cluster"
)

// Two coordinators share the nodes' slots: while node1's query holds two
// tasks running on node3 (its 2 cores), a query sent to node2 puts fewer
// of its first stage's tasks on node3 than on node1, instead of spreading
// them evenly (placement by the query's own tasks only).
func TestDistributedTwoCoordinatorsSpread(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	release := make(chan struct{})
	var mu sync.Mutex
	held := map[string]int{}
	for _, n := range nodes[2:] {
		cluster.SetWorkerHook(n.dist, func(q string, stage, p int) {
			if !strings.HasPrefix(q, "node1/") {
				return
			}
			mu.Lock()
			held[n.name]++
			mu.Unlock()
			<-release
		})
	}
	const sql1 = `SELECT l_returnflag, SUM(l_quantity) FROM lineitem GROUP BY l_returnflag ORDER BY 1`
	const sql2 = `SELECT o_orderstatus, COUNT(*) FROM orders GROUP BY o_orderstatus ORDER BY 1`
	done1 := make(chan error, 1)
	go func() {
		_, _, err := query(t, nodes[0].eng, sql1)
		done1 <- err
	}()
	defer func() {
		select {
		case <-release:
		default:
			close(release)
		}
	}()
	deadline := time.Now().Add(30 * time.Second)
	for {
		mu.Lock()
		ok := held["node3"] >= 2
		mu.Unlock()
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("node1's query does not hold two tasks on node3: %v", held)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if _, _, err := query(t, nodes[1].eng, sql2); err != nil {
		t.Fatal(err)
	}
	close(release)
	if err := <-done1; err != nil {
		t.Fatal(err)
	}
	by := tasksByNode(t, nodes[1].eng, "AND stage = 0")
	t.Logf("node1's query held %v; node2's query stage 0 tasks per node: %v", held, by)
	if by["node1"] <= by["node3"] {
		t.Errorf("node2's query did not avoid node3, busy with node1's query: %v", by)
	}
}
