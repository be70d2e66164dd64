package cluster

import (
	"context"
	"testing"
	"time"
)

// placementQuery is a coordinator-side query over three live 2-core
// members (n1 coordinates), with no task running yet.
func placementQuery() *dquery {
	members := []Node{
		{Name: "n1", State: StateAlive, NodeMeta: NodeMeta{InternalAddr: "a1", Cores: 2}},
		{Name: "n2", State: StateAlive, NodeMeta: NodeMeta{InternalAddr: "a2", Cores: 2}},
		{Name: "n3", State: StateAlive, NodeMeta: NodeMeta{InternalAddr: "a3", Cores: 2}},
	}
	d := &Dist{cfg: DistConfig{NodeName: "n1", Members: func() []Node { return members }}, unreachable: map[string]time.Time{},
		placed: map[string]int{}, loads: map[string]peerLoad{}, work: map[string]*workerQuery{}}
	return &dquery{d: d, lost: map[string]bool{}, outBytes: map[[2]int]int64{}}
}

func TestInputsMostlyOn(t *testing.T) {
	q := placementQuery()
	loc := func(stage, p int, node string, bytes int64) ShuffleLocation {
		q.outBytes[[2]int{stage, p}] = bytes
		return ShuffleLocation{Stage: stage, Producer: p, NodeID: node}
	}
	for _, c := range []struct {
		name   string
		inputs []ShuffleLocation
		want   string
	}{
		{"no shuffle input (a scan)", nil, ""},
		{"every producer on n3", []ShuffleLocation{loc(0, 0, "n3", 100), loc(0, 1, "n3", 50)}, "n3"},
		{"most bytes on n2", []ShuffleLocation{loc(1, 0, "n2", 900), loc(1, 1, "n3", 50), loc(1, 2, "n1", 50)}, "n2"},
		{"spread evenly: no preference", []ShuffleLocation{loc(2, 0, "n1", 10), loc(2, 1, "n2", 10), loc(2, 2, "n3", 10)}, ""},
		{"nothing written: by producer count", []ShuffleLocation{loc(3, 0, "n2", 0), loc(3, 1, "n2", 0), loc(3, 2, "n3", 0)}, "n2"},
	} {
		if got := q.inputsMostlyOn(c.inputs); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// A consumer whose inputs are all on one node runs there while that node
// has a free slot (its cores), then placement falls back to free slots.
func TestPickPrefersInputNode(t *testing.T) {
	q := placementQuery()
	var placed []string
	for i := 0; i < 4; i++ {
		n, ok := q.pick(map[string]bool{}, false, "n3")
		if !ok {
			t.Fatal("no node picked")
		}
		placed = append(placed, n.Name) // pick reserved its slot
	}
	if placed[0] != "n3" || placed[1] != "n3" {
		t.Errorf("first two tasks went to %v, want n3 (holds their input, 2 free slots)", placed[:2])
	}
	for _, n := range placed[2:] {
		if n == "n3" {
			t.Errorf("n3 got a task beyond its 2 slots: %v", placed)
		}
	}
	// Without a preference the least loaded node wins: not n3 (2 running).
	if n, _ := q.pick(map[string]bool{}, false, ""); n.Name == "n3" {
		t.Errorf("no preference: picked the busiest node n3 (%v)", q.d.placed)
	}
	// A preferred node that failed this task (excluded) or is gone is not used.
	q2 := placementQuery()
	if n, _ := q2.pick(map[string]bool{"n3": true}, false, "n3"); n.Name == "n3" {
		t.Error("picked the excluded preferred node")
	}
	q2.lost["n3"] = true
	if n, _ := q2.pick(map[string]bool{}, false, "n3"); n.Name == "n3" {
		t.Error("picked the lost preferred node")
	}
	// The final stage stays on the coordinator whatever its inputs.
	if n, _ := q2.pick(map[string]bool{}, true, "n2"); n.Name != "n1" {
		t.Errorf("final stage placed on %s, want the coordinator n1", n.Name)
	}
}

// Slots are node-wide: a query's placement counts the tasks of this node's
// other queries, its peers' tasks here, and what peers report running.
func TestPickCountsEveryQuerysTasks(t *testing.T) {
	q1 := placementQuery()
	d := q1.d
	a, _ := q1.pick(map[string]bool{}, false, "")
	b, _ := q1.pick(map[string]bool{}, false, "")
	// Another query of this coordinator goes to the node q1 left free.
	q2 := &dquery{d: d, lost: map[string]bool{}, outBytes: map[[2]int]int64{}}
	c, _ := q2.pick(map[string]bool{}, false, "")
	if c.Name == a.Name || c.Name == b.Name {
		t.Errorf("second query's task went to %s, busy with the first's (%s, %s); free node unused", c.Name, a.Name, b.Name)
	}
	for _, n := range []string{a.Name, b.Name, c.Name} {
		d.unplace(n, 0)
	}
	if len(d.placed) != 0 {
		t.Errorf("slots still reserved after every task ended: %v", d.placed)
	}

	// n2 reported 2 tasks of other coordinators (its cores): a task goes
	// elsewhere; and this node runs 2 tasks for peers.
	d.reserve("n2")
	d.unplace("n2", 3) // the replying task + 2 others
	d.work["peer/q"] = &workerQuery{tasks: map[*context.CancelFunc]struct{}{new(context.CancelFunc): {}, new(context.CancelFunc): {}}}
	q3 := &dquery{d: d, lost: map[string]bool{}, outBytes: map[[2]int]int64{}}
	if n, _ := q3.pick(map[string]bool{}, false, ""); n.Name != "n3" {
		t.Errorf("picked %s; n1 runs 2 peer tasks and n2 reported 2 others, n3 is free", n.Name)
	}
	// A report older than loadTTL is not trusted.
	d.loads["n2"] = peerLoad{others: 2, at: time.Now().Add(-2 * loadTTL)}
	if got := d.loadLocked("n2"); got != 0 {
		t.Errorf("stale report counted: load %d", got)
	}
}
