package cluster_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/engine"
)

// On one node too the stages form a DAG: the two sides of a join, each
// behind its own exchange, run at the same time. The first task of each
// side waits (up to 30 s) for the other side to start; run one stage after
// the other and the event order shows side B starting after side A ended.
func TestSchedulerIndependentStagesOverlap(t *testing.T) {
	eng, err := engine.New(context.Background(), engine.Config{DataDir: splitData(t), WorkDir: t.TempDir(), DefaultSchema: "tpch", Parallelism: partitions}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	const sql = `SELECT o_orderpriority, COUNT(*) AS n, SUM(q) AS qty
		FROM (SELECT l_orderkey AS k, SUM(l_quantity) AS q FROM lineitem GROUP BY l_orderkey) a
		JOIN orders ON o_orderkey = a.k
		WHERE o_orderstatus = 'F'
		GROUP BY o_orderpriority ORDER BY o_orderpriority`
	g := stageInputs(t, eng, sql)
	a, b, ok := independentStages(g)
	if !ok {
		t.Fatalf("the plan has no independent stages: %v", g)
	}
	type event struct {
		stage int
		start bool
	}
	var mu sync.Mutex
	var events []event
	first := map[int]chan struct{}{a: make(chan struct{}), b: make(chan struct{})}
	cluster.SetSchedulerTaskHook(eng.Scheduler(), func(stage, p int, start bool) {
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
			select {
			case <-first[a+b-stage]:
			case <-time.After(30 * time.Second):
			}
		}
	})
	_, got, err := query(t, eng, sql)
	cluster.SetSchedulerTaskHook(eng.Scheduler(), nil)
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	firstStart, lastEnd := map[int]int{a: -1, b: -1}, map[int]int{}
	for i, e := range events {
		if e.start && firstStart[e.stage] < 0 {
			firstStart[e.stage] = i
		}
		if !e.start {
			lastEnd[e.stage] = i
		}
	}
	if firstStart[a] < 0 || firstStart[b] < 0 {
		t.Fatalf("stages %d and %d did not both run: %v", a, b, events)
	}
	if firstStart[a] > lastEnd[b] || firstStart[b] > lastEnd[a] {
		t.Errorf("independent stages %d and %d did not overlap (stage inputs %v, events %v)", a, b, g, events)
	}

	// Same answer as with one slot (stages then effectively take turns).
	one, err := engine.New(context.Background(), engine.Config{DataDir: splitData(t), WorkDir: t.TempDir(), DefaultSchema: "tpch", Parallelism: 1}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer one.Close()
	_, want, err := query(t, one, sql)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != fmt.Sprint(want) || len(want) == 0 {
		t.Errorf("%d slots: %v\n1 slot: %v", partitions, got, want)
	}
	if m := eng.MemoryInUse(); m != 0 {
		t.Errorf("engine holds %d bytes after the query", m)
	}
}
