package ops

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
)

func TestFilterProjectLimit(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64, i64)
	in := stream(s, batch(mem, s, []any{5, 1}, []any{0, 1}, []any{nil, 1}, []any{7, 2}),
		batch(mem, s, []any{0, 9}), batch(mem, s, []any{3, 2}, []any{4, 3}))
	tc := tctx(mem, 0)
	f := NewFilter(tc, in, gtCol{0, 1})
	p := NewProject(tc, f, []expr.Expr{col{1, i64}, col{0, i64}}, schemaOf(i64, i64))
	l := NewLimit(p, 1, 2)
	eq(t, rowsOf(t, l, false), []string{"2|7", "2|3"})
}

func TestSortAndTopN(t *testing.T) {
	s := schemaOf(i64, str)
	mk := func(mem memory.Allocator) execution.Stream {
		return stream(s, batch(mem, s, []any{3, "c"}, []any{nil, "n"}, []any{1, "a"}),
			batch(mem, s, []any{2, "b"}, []any{3, "a"}))
	}
	cases := []struct {
		keys  []expr.SortKey
		fetch int64
		want  []string
	}{
		{[]expr.SortKey{{Expr: col{0, i64}, NullsFirst: true}, {Expr: col{1, str}}}, -1, []string{"(null)|n", "1|a", "2|b", "3|a", "3|c"}},
		{[]expr.SortKey{{Expr: col{0, i64}, Desc: true}, {Expr: col{1, str}, Desc: true}}, -1, []string{"3|c", "3|a", "2|b", "1|a", "(null)|n"}},
		{[]expr.SortKey{{Expr: col{1, str}}, {Expr: col{0, i64}, Desc: true}}, 2, []string{"3|a", "1|a"}},
		{[]expr.SortKey{{Expr: col{0, i64}}}, 0, nil},
	}
	for i, c := range cases {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			eq(t, rowsOf(t, NewSort(tctx(mem, 0), mk(mem), c.keys, c.fetch), false), c.want)
		})
	}
}

func TestTopNLargeInputBounded(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64)
	var bs []arrow.RecordBatch
	for k := 0; k < 10; k++ {
		b := newI64(mem)
		for i := 0; i < 5000; i++ {
			b.Append(int64((k*5000 + i) * 7919 % 50000))
		}
		a := b.NewArray()
		b.Release()
		bs = append(bs, arrowBatch(s, []arrow.Array{a}, 5000))
		a.Release()
	}
	got := rowsOf(t, NewSort(tctx(mem, 0), stream(s, bs...), []expr.SortKey{{Expr: col{0, i64}, Desc: true}}, 3), false)
	eq(t, got, []string{"49999", "49998", "49997"})
}

func TestEarlyCloseReleases(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64, i64)
	tc := tctx(mem, 0)
	in := stream(s, batch(mem, s, []any{1, 2}), batch(mem, s, []any{3, 4}), batch(mem, s, []any{5, 6}))
	st := NewSort(tc, NewFilter(tc, in, gtCol{1, 0}), []expr.SortKey{{Expr: col{0, i64}}}, -1)
	b, err := st.Next(context.Background())
	if err != nil || b.NumRows() != 3 {
		t.Fatalf("sort: %v", err)
	}
	b.Release()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
}

type memShuffle struct {
	parts  map[int][]arrow.RecordBatch
	closed bool
}

func (m *memShuffle) Writer(context.Context, int, int) (execution.ShuffleWriter, error) {
	return m, nil
}
func (m *memShuffle) Read(context.Context, int, int) (execution.Stream, error) { return nil, nil }
func (m *memShuffle) Put(p int, b arrow.RecordBatch) error {
	b.Retain()
	m.parts[p] = append(m.parts[p], b)
	return nil
}
func (m *memShuffle) Close() error { m.closed = true; return nil }
func (m *memShuffle) Abort()       {}

func TestShuffleWriteRoutesByKey(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64, str)
	sh := &memShuffle{parts: map[int][]arrow.RecordBatch{}}
	tc := tctx(mem, 0)
	tc.Shuffle = sh
	in := stream(s, batch(mem, s, []any{1, "a"}, []any{2, "b"}, []any{1, "c"}, []any{nil, "d"}, []any{3, "e"}),
		batch(mem, s, []any{2, "f"}, []any{nil, "g"}))
	w := NewShuffleWrite(tc, in, 1, 0, []expr.Expr{col{0, i64}}, 4)
	if rows := rowsOf(t, w, false); len(rows) != 0 || !sh.closed {
		t.Fatalf("shuffle write emitted %v, closed=%v", rows, sh.closed)
	}
	where := map[string]int{}
	total := 0
	for p, bs := range sh.parts {
		for _, b := range bs {
			for r := 0; r < int(b.NumRows()); r++ {
				k := b.Column(0).ValueStr(r)
				if q, ok := where[k]; ok && q != p {
					t.Errorf("key %s in partitions %d and %d", k, q, p)
				}
				where[k] = p
				total++
			}
			b.Release()
		}
	}
	if total != 7 {
		t.Fatalf("routed %d rows, want 7", total)
	}
}
