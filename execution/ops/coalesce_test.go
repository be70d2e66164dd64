package ops

import (
	"context"
	"strconv"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
)

func TestCoalesceConcatenatesSmallBatches(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64, str)
	// Sizes: three runs of small batches, a big batch passing through, a tail.
	sizes := []int{3000, 3000, 2000, 3000, 6000, execution.BatchSize + 5, 10, 20}
	var in []arrow.RecordBatch
	next := 0
	for _, n := range sizes {
		rows := make([][]any, n)
		for i := range rows {
			rows[i] = []any{next, strconv.Itoa(next)}
			next++
		}
		in = append(in, batch(mem, s, rows...))
	}
	st := NewCoalesce(tctx(mem, 0), stream(s, in...))
	defer st.Close()
	var got []int
	want := 0
	for {
		b, err := st.Next(context.Background())
		if err == execution.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, int(b.NumRows()))
		for r := 0; r < int(b.NumRows()); r++ {
			if k, v := b.Column(0).ValueStr(r), b.Column(1).ValueStr(r); k != strconv.Itoa(want) || v != k {
				t.Fatalf("row %d: got %s|%s", want, k, v)
			}
			want++
		}
		b.Release()
	}
	if want != next {
		t.Fatalf("read %d rows, want %d", want, next)
	}
	// 3000+3000+2000 fit; 3000 does not fit with 6000; the big batch passes.
	exp := []int{8000, 3000, 6000, execution.BatchSize + 5, 30}
	if len(got) != len(exp) {
		t.Fatalf("batch sizes %v, want %v", got, exp)
	}
	for i := range exp {
		if got[i] != exp[i] {
			t.Fatalf("batch sizes %v, want %v", got, exp)
		}
	}
}

func TestCoalesceCloseReleasesReadAhead(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(i64)
	big := make([][]any, execution.BatchSize)
	for i := range big {
		big[i] = []any{i}
	}
	st := NewCoalesce(tctx(mem, 0), stream(s, batch(mem, s, []any{1}), batch(mem, s, big...), batch(mem, s, []any{2})))
	b, err := st.Next(context.Background())
	if err != nil || b.NumRows() != 1 {
		t.Fatalf("first batch: %v", err)
	}
	b.Release()
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
}
