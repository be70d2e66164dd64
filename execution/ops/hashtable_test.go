package ops

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
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

// insertAll over several chunks gives every row the group insert gives it
// in one call (NULLs included, int and byte keys), leaves the same groups
// findable, keeps no per-row scratch, and sizes the table for the groups,
// not the rows, when keys repeat.
func TestGroupTableInsertAll(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const n = 3*insertChunk + 123
	// Four rows per key in runs, as lineitem per order; every 1000th NULL.
	ib := array.NewInt64Builder(mem)
	sb := array.NewStringBuilder(mem)
	for i := 0; i < n; i++ {
		if i%1000 == 999 {
			ib.AppendNull()
			sb.AppendNull()
			continue
		}
		ib.Append(int64(i / 4))
		sb.Append(fmt.Sprintf("k%d", i/4))
	}
	ia, sa := ib.NewArray(), sb.NewArray()
	ib.Release()
	sb.Release()
	defer ia.Release()
	defer sa.Release()
	for _, tc := range []struct {
		name   string
		intKey bool
		keys   []arrow.Array
	}{{"int", true, []arrow.Array{ia}}, {"bytes", false, []arrow.Array{sa}}, {"two columns", false, []arrow.Array{ia, sa}}} {
		t.Run(tc.name, func(t *testing.T) {
			whole := newGroupTable(tc.intKey, n)
			want := make([]uint32, n)
			whole.insert(tc.keys, n, want, nil)
			chunked := newGroupTable(tc.intKey, insertChunk)
			got := make([]uint32, n)
			chunked.insertAll(tc.keys, n, got)
			if chunked.n != whole.n {
				t.Fatalf("%d groups in chunks, %d in one insert", chunked.n, whole.n)
			}
			for i := range got {
				if got[i] != want[i] { // both number groups in order of first row
					t.Fatalf("row %d: group %d in chunks, %d in one insert", i, got[i], want[i])
				}
			}
			if chunked.hbuf != nil || chunked.ibuf != nil || chunked.kbuf != nil {
				t.Fatal("insertAll kept its per-row scratch")
			}
			if 2*chunked.n > chunked.size() || chunked.size() > 4*chunked.n {
				t.Fatalf("%d slots for %d groups of %d rows: want 2-4 slots per group", chunked.size(), chunked.n, n)
			}
			found := make([]uint32, n)
			chunked.find(tc.keys, []bool{true, true}, n, found)
			for i := range found {
				if found[i] != got[i]+1 {
					t.Fatalf("find row %d: %d, want group %d + 1", i, found[i], got[i])
				}
			}
		})
	}
}

// groupsEstimate finds the number of keys a uniform sample was drawn from
// (within 10%), all rows for a sample without repeats, and never more
// than the rows.
func TestGroupsEstimate(t *testing.T) {
	const m, n = 1 << 16, 1 << 22
	if got := groupsEstimate(m, m, n); got != n {
		t.Errorf("no repeats: %d groups, want all %d rows", got, n)
	}
	if got := groupsEstimate(m-1, m, n); got > n {
		t.Errorf("one repeat: %d groups, more than the %d rows", got, n)
	}
	rng := rand.New(rand.NewPCG(7, 7))
	for _, keys := range []int{1000, 30_000, 100_000, 1_000_000} {
		seen := map[int]bool{}
		for range m {
			seen[rng.IntN(keys)] = true
		}
		got := groupsEstimate(len(seen), m, n)
		if float64(got) < 0.9*float64(keys) || float64(got) > 1.1*float64(keys) {
			t.Errorf("%d distinct of %d draws from %d keys: estimated %d", len(seen), m, keys, got)
		}
	}
}
