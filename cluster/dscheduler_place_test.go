package cluster

import (
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
