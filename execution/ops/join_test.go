package ops

import (
	"context"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
)

func joinOut(typ JoinType) *arrow.Schema {
	switch typ {
	case SemiJoin, AntiJoin:
		return schemaOf(i64, str)
	case MarkJoin:
		return schemaOf(i64, str, arrow.FixedWidthTypes.Boolean)
	}
	return schemaOf(i64, str, i64, str)
}

func TestHashJoinTypes(t *testing.T) {
	ls, rs := schemaOf(i64, str), schemaOf(i64, str)
	left := func(mem memory.Allocator) execution.Stream {
		return stream(ls, batch(mem, ls, []any{1, "l1"}, []any{2, "l2"}, []any{nil, "ln"}),
			batch(mem, ls, []any{3, "l3"}, []any{2, "l2b"}))
	}
	right := func(mem memory.Allocator) execution.Stream {
		return stream(rs, batch(mem, rs, []any{2, "r2"}, []any{2, "r2b"}, []any{4, "r4"}, []any{nil, "rn"}, []any{1, "r1"}))
	}
	cases := []struct {
		typ  JoinType
		na   bool
		want []string
	}{
		{InnerJoin, false, []string{"1|l1|1|r1", "2|l2b|2|r2", "2|l2b|2|r2b", "2|l2|2|r2", "2|l2|2|r2b"}},
		{LeftJoin, false, []string{"(null)|ln|(null)|(null)", "1|l1|1|r1", "2|l2b|2|r2", "2|l2b|2|r2b", "2|l2|2|r2", "2|l2|2|r2b", "3|l3|(null)|(null)"}},
		{RightJoin, false, []string{"(null)|(null)|(null)|rn", "(null)|(null)|4|r4", "1|l1|1|r1", "2|l2b|2|r2", "2|l2b|2|r2b", "2|l2|2|r2", "2|l2|2|r2b"}},
		{FullJoin, false, []string{"(null)|(null)|(null)|rn", "(null)|(null)|4|r4", "(null)|ln|(null)|(null)", "1|l1|1|r1", "2|l2b|2|r2", "2|l2b|2|r2b", "2|l2|2|r2", "2|l2|2|r2b", "3|l3|(null)|(null)"}},
		{SemiJoin, false, []string{"1|l1", "2|l2", "2|l2b"}},
		{AntiJoin, false, []string{"(null)|ln", "3|l3"}},
		{AntiJoin, true, nil}, // the build side has a NULL key: NOT IN is never true
		{MarkJoin, false, []string{"(null)|ln|false", "1|l1|true", "2|l2b|true", "2|l2|true", "3|l3|false"}},
		{MarkJoin, true, []string{"(null)|ln|(null)", "1|l1|true", "2|l2b|true", "2|l2|true", "3|l3|(null)"}},
	}
	for _, c := range cases {
		t.Run(c.typ.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			j, err := NewHashJoin(tctx(mem, 0), left(mem), right(mem), c.typ, []expr.Expr{col{0, i64}}, []expr.Expr{col{0, i64}}, nil, c.na, joinOut(c.typ))
			if err != nil {
				t.Fatal(err)
			}
			eq(t, rowsOf(t, j, true), c.want)
		})
	}
}

func TestHashJoinFilterStringKeysAndSingle(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ls := schemaOf(str, i64)
	l := stream(ls, batch(mem, ls, []any{"a", 5}, []any{"b", 1}, []any{"a", 0}))
	r := stream(ls, batch(mem, ls, []any{"a", 3}, []any{"a", 4}, []any{"b", 2}))
	// residual: left.c1 > right.c1
	j, _ := NewHashJoin(tctx(mem, 0), l, r, LeftJoin, []expr.Expr{col{0, str}}, []expr.Expr{col{0, str}}, gtCol{1, 3}, false, schemaOf(str, i64, str, i64))
	eq(t, rowsOf(t, j, true), []string{"a|0|(null)|(null)", "a|5|a|3", "a|5|a|4", "b|1|(null)|(null)"})

	l = stream(ls, batch(mem, ls, []any{"a", 5}))
	r = stream(ls, batch(mem, ls, []any{"a", 3}, []any{"a", 4}))
	j, _ = NewHashJoin(tctx(mem, 0), l, r, LeftSingleJoin, []expr.Expr{col{0, str}}, []expr.Expr{col{0, str}}, nil, false, schemaOf(str, i64, str, i64))
	if _, err := execution.Collect(context.Background(), j); err == nil || err.Error() != "Subquery returns more than 1 row" {
		t.Fatalf("want more-than-1-row error, got %v", err)
	}
}

func TestNullAwareAntiEmptyBuild(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	ls := schemaOf(i64, str)
	l := stream(ls, batch(mem, ls, []any{nil, "n"}, []any{1, "x"}))
	j, _ := NewHashJoin(tctx(mem, 0), l, stream(ls), AntiJoin, []expr.Expr{col{0, i64}}, []expr.Expr{col{0, i64}}, nil, true, ls)
	eq(t, rowsOf(t, j, true), []string{"(null)|n", "1|x"})
}

// NOT IN on several keys: a probe row is unknown only against a build row
// that no key tells apart; strict keys (correlation) just pick the rows.
func TestNullAwareMultiKey(t *testing.T) {
	s := schemaOf(i64, i64, str)
	keys := []expr.Expr{col{0, i64}, col{1, i64}}
	left := func(mem memory.Allocator) execution.Stream {
		return stream(s, batch(mem, s, []any{1, 1, "in"}, []any{1, 2, "out"}, []any{3, nil, "3n"},
			[]any{nil, 4, "n4"}, []any{5, 5, "55"}, []any{nil, nil, "nn"}))
	}
	right := func(mem memory.Allocator) execution.Stream {
		return stream(s, batch(mem, s, []any{1, 1, "a"}, []any{2, 2, "b"}, []any{3, 3, "c"}, []any{nil, 5, "d"}))
	}
	markOut := schemaOf(i64, i64, str, arrow.FixedWidthTypes.Boolean)
	for _, c := range []struct {
		name   string
		typ    JoinType
		strict []bool
		want   []string
	}{
		{"anti", AntiJoin, nil, []string{"(null)|4|n4", "1|2|out"}},
		{"mark", MarkJoin, nil, []string{"(null)|(null)|nn|(null)", "(null)|4|n4|false", "1|1|in|true", "1|2|out|false", "3|(null)|3n|(null)", "5|5|55|(null)"}},
		// Key 0 selects the rows: (3, NULL) only meets (3, 3), (5, 5) no row,
		// NULL in key 0 selects none.
		{"anti strict", AntiJoin, []bool{true, false}, []string{"(null)|(null)|nn", "(null)|4|n4", "1|2|out", "5|5|55"}},
		{"mark strict", MarkJoin, []bool{true, false}, []string{"(null)|(null)|nn|false", "(null)|4|n4|false", "1|1|in|true", "1|2|out|false", "3|(null)|3n|(null)", "5|5|55|false"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			out := s
			if c.typ == MarkJoin {
				out = markOut
			}
			j, err := NewHashJoinNullEq(tctx(mem, 0), left(mem), right(mem), c.typ, keys, keys, nil, nil, true, c.strict, nil, out)
			if err != nil {
				t.Fatal(err)
			}
			eq(t, rowsOf(t, j, true), c.want)
		})
	}
}

func TestNestedLoopJoin(t *testing.T) {
	ls := schemaOf(i64, str)
	for _, c := range []struct {
		typ  JoinType
		want []string
	}{
		{InnerJoin, []string{"3|c|1|x", "3|c|2|y"}},
		{LeftJoin, []string{"1|a|(null)|(null)", "3|c|1|x", "3|c|2|y"}},
		{RightJoin, []string{"(null)|(null)|5|z", "3|c|1|x", "3|c|2|y"}},
		{SemiJoin, []string{"3|c"}},
		{AntiJoin, []string{"1|a"}},
		{CrossJoin, nil},
	} {
		t.Run(c.typ.String(), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			l := stream(ls, batch(mem, ls, []any{1, "a"}, []any{3, "c"}))
			r := stream(ls, batch(mem, ls, []any{1, "x"}, []any{2, "y"}, []any{5, "z"}))
			var cond expr.Expr = gtCol{0, 2}
			if c.typ == CrossJoin {
				cond = nil
			}
			j, _ := NewNestedLoopJoin(tctx(mem, 0), l, r, c.typ, cond, joinOut(c.typ))
			got := rowsOf(t, j, true)
			if c.typ == CrossJoin {
				if len(got) != 6 {
					t.Fatalf("cross join: %d rows", len(got))
				}
				return
			}
			eq(t, got, c.want)
		})
	}
}

func TestJoinEarlyClose(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64)
	var lb []arrow.RecordBatch
	for k := 0; k < 3; k++ {
		b := newI64(mem)
		for i := 0; i < 10000; i++ {
			b.Append(int64(i % 100))
		}
		a := b.NewArray()
		b.Release()
		lb = append(lb, arrowBatch(s, []arrow.Array{a}, 10000))
		a.Release()
	}
	rb := newI64(mem)
	for i := 0; i < 100; i++ {
		rb.Append(int64(i))
	}
	ra := rb.NewArray()
	rb.Release()
	r := arrowBatch(s, []arrow.Array{ra}, 100)
	ra.Release()
	j, _ := NewHashJoin(tctx(mem, 0), stream(s, lb...), stream(s, r), InnerJoin, []expr.Expr{col{0, i64}}, []expr.Expr{col{0, i64}}, nil, false, schemaOf(i64, i64))
	b, err := j.Next(context.Background())
	if err != nil || b.NumRows() == 0 {
		t.Fatalf("first batch: %v", err)
	}
	b.Release()
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestHashJoinNullEqualKeys(t *testing.T) {
	ls := schemaOf(i64, str)
	for _, c := range []struct {
		name   string
		keys   int
		nullEq []bool
		want   []string
	}{
		{"int <=>", 1, []bool{true}, []string{"(null)|ln|(null)|rn", "2|l2|2|r2"}},
		{"int =", 1, []bool{false}, []string{"2|l2|2|r2"}},
		// Two keys take the serialized-key path.
		{"two keys <=>", 2, []bool{true, true}, []string{"(null)|ln|(null)|rn", "2|l2|2|r2"}},
		{"two keys <=> and =", 2, []bool{true, false}, []string{"2|l2|2|r2"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			l := stream(ls, batch(mem, ls, []any{nil, "ln"}, []any{2, "l2"}, []any{3, "l3"}))
			r := stream(ls, batch(mem, ls, []any{2, "r2"}, []any{nil, "rn"}))
			lk, rk := []expr.Expr{col{0, i64}}, []expr.Expr{col{0, i64}}
			if c.keys == 2 {
				lk, rk = append(lk, col{0, i64}), append(rk, col{0, i64})
			}
			j, err := NewHashJoinNullEq(tctx(mem, 0), l, r, InnerJoin, lk, rk, c.nullEq, nil, false, nil, nil, schemaOf(i64, str, i64, str))
			if err != nil {
				t.Fatal(err)
			}
			eq(t, rowsOf(t, j, true), c.want)
		})
	}
}

// A projection folded into the join gives the same rows as the full join
// with the unselected columns dropped, for every emitting join type, with
// and without a residual filter (which reads a column not in the output).
func TestHashJoinProjection(t *testing.T) {
	ls := schemaOf(str, i64)
	left := func(mem memory.Allocator) execution.Stream {
		return stream(ls, batch(mem, ls, []any{"a", 5}, []any{"b", 1}, []any{nil, 7}),
			batch(mem, ls, []any{"a", 0}, []any{"c", 2}))
	}
	right := func(mem memory.Allocator) execution.Stream {
		return stream(ls, batch(mem, ls, []any{"a", 3}, []any{"a", 4}, []any{"b", 2}, []any{"d", 1}, []any{nil, 9}))
	}
	pick := func(rows []string, cols []int) []string {
		out := make([]string, len(rows))
		for i, r := range rows {
			f := strings.Split(r, "|")
			var p []string
			for _, c := range cols {
				p = append(p, f[c])
			}
			out[i] = strings.Join(p, "|")
		}
		sort.Strings(out)
		return out
	}
	keys := []expr.Expr{col{0, str}}
	for _, typ := range []JoinType{InnerJoin, LeftJoin, RightJoin, FullJoin} {
		for _, filter := range []expr.Expr{nil, gtCol{1, 3}} {
			for _, proj := range [][]int{{1, 3}, {3}, {0, 1}} {
				mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
				full, err := NewHashJoin(tctx(mem, 0), left(mem), right(mem), typ, keys, keys, filter, false, schemaOf(str, i64, str, i64))
				if err != nil {
					t.Fatal(err)
				}
				want := pick(rowsOf(t, full, true), proj)
				types := []arrow.DataType{str, i64, str, i64}
				var out []arrow.DataType
				for _, c := range proj {
					out = append(out, types[c])
				}
				j, err := NewHashJoinNullEq(tctx(mem, 0), left(mem), right(mem), typ, keys, keys, nil, filter, false, nil, proj, schemaOf(out...))
				if err != nil {
					t.Fatal(err)
				}
				got := rowsOf(t, j, true)
				if len(want) == 0 {
					t.Fatalf("%v %v: the full join returned nothing to compare", typ, proj)
				}
				eq(t, got, want)
				mem.AssertSize(t, 0)
			}
		}
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	l, r := left(mem), right(mem)
	if _, err := NewHashJoinNullEq(tctx(mem, 0), l, r, SemiJoin, keys, keys, nil, nil, false, nil, []int{1}, schemaOf(str)); err == nil {
		t.Fatal("a semi join took a projection")
	}
	l.Close()
	r.Close()
}
