package ops

import (
	"context"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution/expr"
)

// A hash join keeps only the build columns it outputs once built (the key
// columns only while building) when its keys are plain columns and no
// residual filter reads the rest; the answers stay those of the full build
// side, whether the build side comes in one batch or several.
func TestJoinBuildDropsUnreadColumns(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ls := schemaOf(i64, i64)      // probe: k, x
	rs := schemaOf(i64, str, i64) // build: k, s, v
	out4 := schemaOf(i64, i64, i64, str, i64)
	key := func(i int) []expr.Expr { return []expr.Expr{expr.NewColumn(i, "k", i64)} }
	cases := []struct {
		name string
		typ  JoinType
		proj []int
		out  *arrow.Schema
		kept []bool // build columns kept
		want []string
	}{
		{"semi", SemiJoin, nil, ls, []bool{false, false, false}, []string{"1|10", "2|20"}},
		{"anti", AntiJoin, nil, ls, []bool{false, false, false}, []string{"3|30"}},
		{"inner projected", InnerJoin, []int{1, 4}, schemaOf(i64, i64), []bool{false, false, true}, []string{"10|100", "10|101", "20|200"}},
		{"left projected with string", LeftJoin, []int{0, 3}, schemaOf(i64, str), []bool{false, true, false}, []string{"1|a", "1|b", "2|c", "3|(null)"}},
		{"inner unprojected", InnerJoin, nil, out4, []bool{true, true, true}, []string{"1|10|1|a|100", "1|10|1|b|101", "2|20|2|c|200"}},
	}
	for _, split := range []bool{false, true} {
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				left := stream(ls, batch(mem, ls, []any{1, 10}, []any{2, 20}, []any{3, 30}))
				rows := [][]any{{1, "a", 100}, {1, "b", 101}, {2, "c", 200}, {4, "d", 400}}
				var right []arrow.RecordBatch
				if split {
					right = append(right, batch(mem, rs, rows[:2]...), batch(mem, rs, rows[2:]...))
				} else {
					right = append(right, batch(mem, rs, rows...))
				}
				s, err := NewHashJoinNullEq(tctx(mem, 0), left, stream(rs, right...), c.typ, key(0), key(0), nil, nil, false, nil, c.proj, c.out)
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				// The first batch comes after the build; the rest after it.
				first, err := s.Next(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				j := s.(*joinStream)
				for i, k := range c.kept {
					if (j.build[i] != nil) != k {
						t.Errorf("split=%v: build column %d kept=%v, want %v", split, i, j.build[i] != nil, k)
					}
				}
				got := rowsOf(t, stream(c.out, first), false)
				got = append(got, rowsOf(t, s, false)...)
				sort.Strings(got)
				eq(t, got, c.want)
			})
		}
	}
}
