package cluster_test

import (
	"context"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/engine"
)

// stageInputs parses the "Stage N partitions=P inputs=[...]" lines of
// EXPLAIN: stage → its input stages.
func stageInputs(t *testing.T, eng *engine.Engine, sql string) map[int][]int {
	t.Helper()
	_, rows, err := query(t, eng, "EXPLAIN "+sql)
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`^Stage (\d+) partitions=\d+ inputs=\[([\d ]*)\]`)
	out := map[int][]int{}
	for _, r := range rows {
		m := re.FindStringSubmatch(r[0])
		if m == nil {
			continue
		}
		id, _ := strconv.Atoi(m[1])
		out[id] = nil
		for _, f := range strings.Fields(m[2]) {
			in, _ := strconv.Atoi(f)
			out[id] = append(out[id], in)
		}
	}
	return out
}

// independentStages returns two producer stages neither of which feeds
// the other.
func independentStages(g map[int][]int) (int, int, bool) {
	var feeds func(a, b int) bool // a is (transitively) an input of b
	feeds = func(a, b int) bool {
		for _, in := range g[b] {
			if in == a || feeds(a, in) {
				return true
			}
		}
		return false
	}
	final := len(g) - 1
	for a := 0; a < final; a++ {
		for b := a + 1; b < final; b++ {
			if !feeds(a, b) && !feeds(b, a) {
				return a, b, true
			}
		}
	}
	return 0, 0, false
}

// The stages of a query form a DAG: the two sides of a join, each behind
// its own exchange, run at the same time. The first task of each side
// waits (up to 30 s) for the other side to start: run one stage after the
// other and side B only starts once side A has ended, which the event order
// shows. The answer matches a single node's.
func TestDistributedIndependentStagesOverlap(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	const sql = `SELECT o_orderpriority, COUNT(*) AS n, SUM(q) AS qty
		FROM (SELECT l_orderkey AS k, SUM(l_quantity) AS q FROM lineitem GROUP BY l_orderkey) a
		JOIN orders ON o_orderkey = a.k
		WHERE o_orderstatus = 'F'
		GROUP BY o_orderpriority ORDER BY o_orderpriority`
	g := stageInputs(t, nodes[0].eng, sql)
	a, b, ok := independentStages(g)
	if !ok {
		t.Fatalf("the plan has no independent stages: %v", g)
	}
	t.Logf("stage inputs %v: stages %d and %d are independent", g, a, b)

	type event struct {
		stage int
		start bool
	}
	var mu sync.Mutex
	var events []event
	first := map[int]chan struct{}{a: make(chan struct{}), b: make(chan struct{})}
	var waited []int
	cluster.SetTaskHook(nodes[0].dist, func(q string, stage, p int, start bool) {
		mu.Lock()
		events = append(events, event{stage, start})
		ch, watched := first[stage]
		isFirst := false
		if watched && start {
			select {
			case <-ch:
			default:
				close(ch)
				isFirst = true
			}
		}
		mu.Unlock()
		if isFirst {
			other := first[a+b-stage]
			select {
			case <-other:
			case <-time.After(30 * time.Second):
				mu.Lock()
				waited = append(waited, stage)
				mu.Unlock()
			}
		}
	})
	_, got, err := query(t, nodes[0].eng, sql)
	cluster.SetTaskHook(nodes[0].dist, nil)
	if err != nil {
		t.Fatal(err)
	}

	mu.Lock()
	defer mu.Unlock()
	firstStart := func(s int) int {
		for i, e := range events {
			if e.stage == s && e.start {
				return i
			}
		}
		return -1
	}
	lastEnd := func(s int) int {
		n := -1
		for i, e := range events {
			if e.stage == s && !e.start {
				n = i
			}
		}
		return n
	}
	if firstStart(a) < 0 || firstStart(b) < 0 {
		t.Fatalf("stages %d and %d did not both run tasks here: %v", a, b, events)
	}
	if firstStart(a) > lastEnd(b) || firstStart(b) > lastEnd(a) {
		t.Errorf("independent stages %d and %d did not overlap (stage inputs %v; first start/last end %d/%d and %d/%d; gave up waiting in %v)",
			a, b, g, firstStart(a), lastEnd(a), firstStart(b), lastEnd(b), waited)
	}

	// Same answer as one node without distribution.
	single, err := engine.New(context.Background(), engine.Config{DataDir: splitData(t), WorkDir: t.TempDir(), DefaultSchema: "tpch", Parallelism: 1}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	_, want, err := query(t, single, sql)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(want) == 0 {
		t.Errorf("3 nodes: %v\n1 node: %v", got, want)
	}
	_, states, err := query(t, nodes[0].eng, "SELECT stage_states FROM system.queries ORDER BY started DESC LIMIT 1")
	if err != nil || len(states) != 1 {
		t.Fatalf("system.queries: %v %v", states, err)
	}
	for _, s := range strings.Fields(states[0][0]) {
		if !strings.HasSuffix(s, ":succeeded") {
			t.Errorf("stage states of a succeeded query: %q", states[0][0])
			break
		}
	}
}
