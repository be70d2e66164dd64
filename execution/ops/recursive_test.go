package ops

import (
	"context"
	"errors"
	"fmt"
	"github.com/apache/arrow-go/v18/arrow/array"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
)

// mapStep returns a step that maps every work row v to f(v), dropping
// rows where f reports false.
func mapStep(mem memory.Allocator, s *arrow.Schema, f func(int64) (int64, bool)) RecursiveStep {
	return func(ctx context.Context, w *WorkRows) (execution.Stream, error) {
		in, err := w.Open(s)
		if err != nil {
			return nil, err
		}
		work, err := drain(ctx, in)
		in.Close()
		w.Release()
		if err != nil {
			return nil, err
		}
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
			r := NewRecursive(tctx(mem, 0), "t", stream(s, batch(mem, s, tc.anchor...)), mapStep(mem, s, tc.f), tc.distinct, s)
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

// bumpStream maps work rows (k, d, s) to (k, d+1, s) while d < 3, batch by
// batch through mem (as a projection in the recursive plan would).
type bumpStream struct {
	mem  memory.Allocator
	in   execution.Stream
	work *WorkRows
}

func (b *bumpStream) Schema() *arrow.Schema { return b.in.Schema() }
func (b *bumpStream) Close() error {
	err := b.in.Close()
	b.work.Release()
	return err
}
func (b *bumpStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		in, err := b.in.Next(ctx)
		if err != nil {
			return nil, err
		}
		k, d, s := in.Column(0).(*array.Int64), in.Column(1).(*array.Int64), in.Column(2).(*array.String)
		rb := array.NewRecordBuilder(b.mem, in.Schema())
		for i := 0; i < int(in.NumRows()); i++ {
			if d.Value(i) < 3 {
				rb.Field(0).(*array.Int64Builder).Append(k.Value(i))
				rb.Field(1).(*array.Int64Builder).Append(d.Value(i) + 1)
				rb.Field(2).(*array.StringBuilder).Append(s.Value(i))
			}
		}
		in.Release()
		out := rb.NewRecordBatch()
		rb.Release()
		if out.NumRows() > 0 {
			return out, nil
		}
		out.Release()
	}
}

// recursiveRun runs the CTE (anchor: rows k = 0..anchor-1, d = 0, a
// 40-byte s; step: d+1 while d < 3) under limit and returns the row count,
// sum of k*10+d, and the spill files written.
func recursiveRun(t *testing.T, mem memory.Allocator, anchor int, distinct bool, limit int64) (int64, int64, int64, error) {
	return recursiveRunCtx(t, context.Background(), mem, anchor, distinct, limit, -1)
}

// recursiveRunCtx is recursiveRun under ctx that closes the CTE after
// stopAfter rows (< 0: at the end).
func recursiveRunCtx(t *testing.T, ctx context.Context, mem memory.Allocator, anchor int, distinct bool, limit int64, stopAfter int64) (int64, int64, int64, error) {
	t.Helper()
	s := schemaOf(i64, i64, str)
	tc := tctx(mem, limit)
	tc.SpillDir = t.TempDir()
	tc.Metrics = execution.NewMetricsSet()
	op := tc.Operator("cte")
	off := 0
	anchors := &funcStream{s: s, next: func() (arrow.RecordBatch, error) {
		if off >= anchor {
			return nil, execution.EOF
		}
		var rows [][]any
		for ; len(rows) < 4096 && off < anchor; off++ {
			rows = append(rows, []any{off, 0, fmt.Sprintf("%040d", off)})
		}
		return batch(op.Mem(), s, rows...), nil
	}}
	step := func(ctx context.Context, w *WorkRows) (execution.Stream, error) {
		in, err := w.Open(s)
		if err != nil {
			return nil, err
		}
		return &bumpStream{mem: op.Mem(), in: in, work: w}, nil
	}
	r := NewRecursive(op, "t", anchors, step, distinct, s)
	var rows, sum int64
	var err error
	for {
		var b arrow.RecordBatch
		if stopAfter >= 0 && rows >= stopAfter {
			break
		}
		if b, err = r.Next(ctx); err != nil {
			break
		}
		k, d := b.Column(0).(*array.Int64), b.Column(1).(*array.Int64)
		for i := 0; i < int(b.NumRows()); i++ {
			sum += k.Value(i)*10 + d.Value(i)
		}
		rows += b.NumRows()
		b.Release()
	}
	r.Close()
	if err == execution.EOF {
		err = nil
	}
	assertNoSpillFiles(t, tc.SpillDir)
	if u := tc.Alloc.Used(); u != 0 {
		t.Fatalf("%d bytes still accounted after Close", u)
	}
	m, _ := tc.Metrics.Get("cte")
	return rows, sum, m.SpillFiles, err
}

// TestRecursiveSpill: 200k rows (four iterations of 50k) under a 2 MiB
// limit: each iteration's rows go to a spill file the next reads, and the
// result is the unlimited run's; UNION DISTINCT's seen set over the limit
// fails naming the CTE.
func TestRecursiveSpill(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	wantRows, wantSum, files, err := recursiveRun(t, mem, 50_000, false, 0)
	if err != nil || files != 0 || wantRows != 200_000 {
		t.Fatalf("unlimited: %d rows, %d files, %v", wantRows, files, err)
	}
	rows, sum, files, err := recursiveRun(t, mem, 50_000, false, 2<<20)
	if err != nil {
		t.Fatal(err)
	}
	if rows != wantRows || sum != wantSum {
		t.Fatalf("limited: %d rows sum %d, want %d, %d", rows, sum, wantRows, wantSum)
	}
	if files < 3 {
		t.Fatalf("%d spill files, want one per iteration", files)
	}
	_, _, _, err = recursiveRun(t, mem, 50_000, true, 2<<20)
	if err == nil || !strings.Contains(err.Error(), "recursive CTE t:") || !strings.Contains(err.Error(), "UNION ALL") {
		t.Fatalf("distinct over the limit: %v", err)
	}
	rows, sum, _, err = recursiveRun(t, mem, 50_000, true, 0)
	if err != nil || rows != wantRows || sum != wantSum {
		t.Fatalf("distinct unlimited: %d rows sum %d, %v", rows, sum, err)
	}
}

// funcStream streams what next returns.
type funcStream struct {
	s    *arrow.Schema
	next func() (arrow.RecordBatch, error)
}

func (f *funcStream) Schema() *arrow.Schema                           { return f.s }
func (f *funcStream) Next(context.Context) (arrow.RecordBatch, error) { return f.next() }
func (f *funcStream) Close() error                                    { return nil }

// TestRecursiveSpillCleanup: a CTE closed in the middle of an iteration
// whose work table is in a spill file, or canceled there, leaves no file
// and no accounted memory.
func TestRecursiveSpillCleanup(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	rows, _, files, err := recursiveRunCtx(t, context.Background(), mem, 50_000, false, 2<<20, 120_000)
	if err != nil || rows < 120_000 || files == 0 {
		t.Fatalf("early close: %d rows, %d files, %v", rows, files, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	// Canceled 30 batches in: in the second iteration, its work in a file.
	rows, _, _, err = recursiveRunCtx(t, &cancelAfter{Context: ctx, cancel: cancel, after: 30, n: &n}, mem, 50_000, false, 2<<20, -1)
	if !errors.Is(err, context.Canceled) || rows < 50_000 {
		t.Fatalf("canceled run: %d rows, %v", rows, err)
	}
}

// cancelAfter is a context canceled once Err has been asked after times.
type cancelAfter struct {
	context.Context
	cancel context.CancelFunc
	after  int
	n      *int
}

func (c *cancelAfter) Err() error {
	if *c.n++; *c.n == c.after {
		c.cancel()
	}
	return c.Context.Err()
}
