package ops

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
)

// mapStep returns a step that maps every work row v to f(v), dropping
// rows where f reports false.
func mapStep(mem memory.Allocator, s *arrow.Schema, f func(int64) (int64, bool)) RecursiveStep {
	return func(ctx context.Context, work []arrow.RecordBatch) (execution.Stream, error) {
		var rows [][]any
		for _, b := range work {
			c := b.Column(0).(interface{ Value(int) int64 })
			for i := 0; i < int(b.NumRows()); i++ {
				if v, ok := f(c.Value(i)); ok {
					rows = append(rows, []any{int(v)})
				}
			}
			b.Release()
		}
		if len(rows) == 0 {
			return stream(s), nil
		}
		return stream(s, batch(mem, s, rows...)), nil
	}
}

func TestRecursive(t *testing.T) {
	s := schemaOf(i64)
	for _, tc := range []struct {
		name     string
		anchor   [][]any
		distinct bool
		f        func(int64) (int64, bool)
		want     string
		err      string
	}{
		{name: "count to 5", anchor: [][]any{{1}}, f: func(v int64) (int64, bool) { return v + 1, v < 5 }, want: "1 2 3 4 5"},
		{name: "two anchor rows", anchor: [][]any{{1}, {10}}, f: func(v int64) (int64, bool) { return v + 1, v%10 < 2 }, want: "1 10 2 11 12"},
		{name: "cycle with UNION ALL hits the depth limit", anchor: [][]any{{0}}, f: func(v int64) (int64, bool) { return (v + 1) % 3, true },
			err: "Recursive query aborted after 1001 iterations"},
		{name: "cycle with UNION DISTINCT stops", anchor: [][]any{{0}, {0}}, distinct: true, f: func(v int64) (int64, bool) { return (v + 1) % 3, true }, want: "0 1 2"},
		{name: "exactly the depth limit", anchor: [][]any{{1}}, f: func(v int64) (int64, bool) { return v + 1, v < MaxRecursionDepth }, want: ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			r := NewRecursive(tctx(mem, 0), stream(s, batch(mem, s, tc.anchor...)), mapStep(mem, s, tc.f), tc.distinct, s)
			defer r.Close()
			bs, err := execution.Collect(context.Background(), r)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			n := 0
			for _, b := range bs {
				for i := 0; i < int(b.NumRows()); i++ {
					got = append(got, b.Column(0).ValueStr(i))
				}
				n += int(b.NumRows())
				b.Release()
			}
			if tc.want == "" { // the depth-limit case: all 1000 rows
				if n != MaxRecursionDepth {
					t.Fatalf("got %d rows, want %d", n, MaxRecursionDepth)
				}
				return
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Fatalf("got %s, want %s", g, tc.want)
			}
		})
	}
}
