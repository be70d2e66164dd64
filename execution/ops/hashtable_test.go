package ops

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Runs of one key (and NULLs inside them) get the same ids from insert and
// find as scattered keys do; a run skips the probe, so this checks the
// shortcut never hands out a stale id.
func TestGroupTableKeyRuns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	build := []any{5, 5, nil, 5, 7, 7, 5, nil, 9, 9, 9}
	probe := []any{5, nil, 5, 6, 6, 7, nil, 7, 9, 5, 5}
	arr := func(vals []any) arrow.Array {
		b := newI64(mem)
		defer b.Release()
		for _, v := range vals {
			if v == nil {
				b.AppendNull()
			} else {
				b.Append(int64(v.(int)))
			}
		}
		return b.NewArray()
	}
	ba, pa := arr(build), arr(probe)
	defer ba.Release()
	defer pa.Release()
	tab := newGroupTable(true, 0)
	ids := make([]uint32, len(build))
	tab.insert([]arrow.Array{ba}, len(build), ids, nil)
	group := map[any]uint32{}
	for i, v := range build {
		if g, ok := group[v]; ok && g != ids[i] {
			t.Fatalf("insert: row %d (%v) got group %d, earlier rows got %d", i, v, ids[i], g)
		}
		group[v] = ids[i]
	}
	if len(group) != 4 || tab.n != 4 {
		t.Fatalf("insert: %d groups (table %d), want 4", len(group), tab.n)
	}
	for _, nullEq := range [][]bool{nil, {true}} {
		found := make([]uint32, len(probe))
		tab.find([]arrow.Array{pa}, nullEq, len(probe), found)
		for i, v := range probe {
			want := uint32(0)
			if g, ok := group[v]; ok && (v != nil || nullEq != nil) {
				want = g + 1
			}
			if found[i] != want {
				t.Fatalf("find nullEq=%v: row %d (%v) got %d, want %d", nullEq, i, v, found[i], want)
			}
		}
	}
}
