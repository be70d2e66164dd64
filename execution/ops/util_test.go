package ops

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution/expr"
)

// TestGatherAllIdentity: an in-order gather of every row shares the input
// columns; any other index list copies.
func TestGatherAllIdentity(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64, str)
	b := batch(mem, s, []any{1, "a"}, []any{2, "b"}, []any{3, "c"})
	defer b.Release()
	for _, c := range []struct {
		idx    []int32
		shared bool
	}{{[]int32{0, 1, 2}, true}, {[]int32{0, 2, 1}, false}, {[]int32{0, 1}, false}, {[]int32{0, 1, 2, -1}, false}} {
		out, err := gatherAll(mem, b.Columns(), c.idx)
		if err != nil {
			t.Fatal(err)
		}
		if shared := out[0].Data() == b.Column(0).Data(); shared != c.shared {
			t.Errorf("idx %v: shared = %v, want %v", c.idx, shared, c.shared)
		}
		if out[1].Len() != len(c.idx) {
			t.Errorf("idx %v: %d rows", c.idx, out[1].Len())
		}
		releaseAll(out)
	}
}

// TestHashJoinOneMatchPerRow: every probe row matches exactly one build row
// (the foreign-key case that shares the probe columns).
func TestHashJoinOneMatchPerRow(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64, str)
	l := stream(s, batch(mem, s, []any{2, "x"}, []any{1, "y"}, []any{2, "z"}))
	r := stream(s, batch(mem, s, []any{1, "one"}, []any{2, "two"}, []any{3, "three"}))
	j, err := NewHashJoin(tctx(mem, 0), l, r, InnerJoin, []expr.Expr{col{0, i64}}, []expr.Expr{col{0, i64}}, nil, false, schemaOf(i64, str, i64, str))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, rowsOf(t, j, false), []string{"2|x|2|two", "1|y|1|one", "2|z|2|two"})
}
