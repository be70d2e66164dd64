package ops

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
)

// winGen makes rows sorted by (p, x) through the task's allocator: columns
// p (partition, sizes from parts), x (order key, runs of 3 peers), v
// (int64, every 7th NULL), s (string).
type winGen struct {
	mem    memory.Allocator
	parts  []int
	part   int
	row    int // within part
	off    int
	failAt int
	cancel context.CancelFunc
}

var winSchema = schemaOf(i64, i64, i64, str)

func (g *winGen) Schema() *arrow.Schema { return winSchema }
func (g *winGen) Close() error          { return nil }

func (g *winGen) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if g.failAt > 0 && g.off >= g.failAt {
		if g.cancel != nil {
			g.cancel()
			return nil, ctx.Err()
		}
		return nil, errors.New("input broke")
	}
	if g.part >= len(g.parts) {
		return nil, execution.EOF
	}
	b := array.NewRecordBuilder(g.mem, winSchema)
	defer b.Release()
	for n := 0; n < 1000 && g.part < len(g.parts); n++ {
		b.Field(0).(*array.Int64Builder).Append(int64(g.part))
		b.Field(1).(*array.Int64Builder).Append(int64(g.row / 3))
		if g.off%7 == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Int64Builder).Append(int64(g.off*37%101 - 50))
		}
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("s%d", g.off))
		g.off++
		if g.row++; g.row >= g.parts[g.part] {
			g.part, g.row = g.part+1, 0
		}
	}
	return b.NewRecordBatch(), nil
}

// winSpecs is one of each window function and frame kind, all over the
// same PARTITION BY (part) and ORDER BY x.
func winSpecs(part []expr.Expr) []WindowSpec {
	u64, f64 := arrow.PrimitiveTypes.Uint64, arrow.PrimitiveTypes.Float64
	x, v, s := col{1, i64}, col{2, i64}, col{3, str}
	o := []expr.SortKey{{Expr: x}}
	rows := func(sk FrameBoundKind, so int64, ek FrameBoundKind, eo int64) *WindowFrame {
		return &WindowFrame{Rows: true, Start: FrameBound{Kind: sk, Offset: so}, End: FrameBound{Kind: ek, Offset: eo}}
	}
	rng := func(sk FrameBoundKind, so int64, ek FrameBoundKind, eo int64) *WindowFrame {
		return &WindowFrame{Start: FrameBound{Kind: sk, OffsetValue: lit64(so)}, End: FrameBound{Kind: ek, OffsetValue: lit64(eo)}}
	}
	spec := func(f string, t arrow.DataType, fr *WindowFrame, args ...expr.Expr) WindowSpec {
		return WindowSpec{Func: f, Args: args, PartitionBy: part, OrderBy: o, Frame: fr, Type: t}
	}
	return []WindowSpec{
		spec("row_number", u64, nil), spec("rank", u64, nil), spec("dense_rank", u64, nil),
		spec("percent_rank", f64, nil), spec("cume_dist", f64, nil), spec("ntile", u64, nil, lit64(7)),
		spec("lag", str, nil, s), spec("lag", i64, nil, v, lit64(5), lit64(-1)), spec("lead", str, nil, s, lit64(3)), spec("lead", i64, nil, v),
		spec("sum", dec380, nil, v), // running, with peers
		spec("count_star", i64, rows(UnboundedPreceding, 0, UnboundedFollowing, 0)),
		spec("sum", dec380, rows(Preceding, 3, CurrentRow, 0), v),
		spec("max", i64, rows(Preceding, 2, Following, 4), v),
		spec("min", i64, &WindowFrame{Start: FrameBound{Kind: CurrentRow}, End: FrameBound{Kind: CurrentRow}}, v),
		spec("count", i64, rows(UnboundedPreceding, 0, Following, 2), v),
		spec("first_value", str, nil, s), spec("last_value", str, nil, s),
		spec("last_value", i64, rows(UnboundedPreceding, 0, UnboundedFollowing, 0), v),
		spec("nth_value", str, nil, s, lit64(3)),
		spec("nth_value", i64, rows(Preceding, 1, Following, 1), v, lit64(2)),
		spec("first_value", i64, rows(Following, 2, Following, 5), v),
		spec("sum", dec380, rows(CurrentRow, 0, UnboundedFollowing, 0), v),
		spec("max", i64, rows(Preceding, 2, UnboundedFollowing, 0), v),
		spec("count", i64, &WindowFrame{Start: FrameBound{Kind: CurrentRow}, End: FrameBound{Kind: UnboundedFollowing}}, v),
		spec("min", str, rows(Following, 1, UnboundedFollowing, 0), s),
		spec("sum", dec380, rng(Preceding, 2, Following, 1), v),
		spec("count", i64, rng(UnboundedPreceding, 0, Following, 3), v),
		spec("max", i64, rng(Preceding, 5, UnboundedFollowing, 0), v),
		spec("first_value", str, rng(Following, 1, Following, 4), s),
		spec("last_value", i64, rng(Preceding, 7, Preceding, 2), v),
	}
}

func winOut(specs []WindowSpec) *arrow.Schema {
	types := []arrow.DataType{i64, i64, i64, str}
	for _, s := range specs {
		types = append(types, s.Type)
	}
	return schemaOf(types...)
}

// runWindow computes specs over a fresh winGen under limit and returns
// the rows with the spill files written.
func runWindow(t *testing.T, mem memory.Allocator, parts []int, specs []WindowSpec, limit int64) ([]string, int64) {
	t.Helper()
	tc := tctx(mem, limit)
	tc.SpillDir = t.TempDir()
	tc.Metrics = execution.NewMetricsSet()
	op := tc.Operator("window")
	w, err := NewWindow(op, &winGen{mem: op.Mem(), parts: parts}, specs, winOut(specs))
	if err != nil {
		t.Fatal(err)
	}
	got := rowsReleased(t, w)
	w.Close()
	assertNoSpillFiles(t, tc.SpillDir)
	if u := tc.Alloc.Used(); u != 0 {
		t.Fatalf("%d bytes still accounted after Close", u)
	}
	m, _ := tc.Metrics.Get("window")
	return got, m.SpillFiles
}

// TestWindowSpillMatchesInMemory: under a limit far below the big
// partitions every window function over every frame kind the spilled
// evaluation supports gives the in-memory result, with chunks far smaller
// than the partitions (so every carry crosses many chunk edges). Frames to
// UNBOUNDED FOLLOWING stretch every chunk's context to a block end, so the
// other frames also run without them, where their own reach sizes it.
func TestWindowSpillMatchesInMemory(t *testing.T) {
	defer func(r int64) { spillChunkRows = r }(spillChunkRows)
	for _, tc := range []struct {
		name     string
		part     []expr.Expr
		parts    []int
		noSuffix bool
	}{
		{"partitioned", []expr.Expr{col{0, i64}}, []int{3, 12_000, 50, 9_000, 1}, false},
		{"partitions end with batches", []expr.Expr{col{0, i64}}, []int{1000, 9_000, 2_000, 10_000}, false},
		{"one partition", nil, []int{16_000}, false},
		{"one partition without suffix frames", nil, []int{16_000}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			specs := winSpecs(tc.part)
			if tc.noSuffix {
				specs = slices.DeleteFunc(specs, func(f WindowSpec) bool {
					return f.Frame != nil && f.Frame.End.Kind == UnboundedFollowing && f.Frame.Start.Kind != UnboundedPreceding
				})
			}
			spillChunkRows = 0
			want, files := runWindow(t, mem, tc.parts, specs, 0)
			if files != 0 {
				t.Fatalf("unlimited run spilled %d files", files)
			}
			for _, chunk := range []int64{97, 1000} {
				spillChunkRows = chunk
				got, files := runWindow(t, mem, tc.parts, specs, 2<<20)
				if files == 0 {
					t.Fatalf("chunk %d: nothing spilled under 2 MiB", chunk)
				}
				if len(got) != len(want) {
					t.Fatalf("chunk %d: %d rows, want %d", chunk, len(got), len(want))
				}
				for i := range want {
					if got[i] != want[i] {
						t.Fatalf("chunk %d: row %d:\n got %s\nwant %s", chunk, i, got[i], want[i])
					}
				}
			}
		})
	}
}

// TestWindowSpillRefusesVariableOffset: LAG with an offset that is not a
// constant cannot size its chunks' context; a partition over the limit
// fails with ResourceExhausted naming the function.
func TestWindowSpillRefusesVariableOffset(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	specs := []WindowSpec{{Func: "lag", Args: []expr.Expr{col{2, i64}, rowCol(0)}, OrderBy: []expr.SortKey{{Expr: col{1, i64}}}, Type: i64}}
	tc := tctx(mem, 1<<20)
	tc.SpillDir = t.TempDir()
	w, err := NewWindow(tc, &winGen{mem: tc.Mem(), parts: []int{30_000}}, specs, winOut(specs))
	if err != nil {
		t.Fatal(err)
	}
	_, err = execution.Collect(context.Background(), w)
	w.Close()
	if err == nil || !strings.Contains(err.Error(), "LAG") || !strings.Contains(err.Error(), "non-constant offset") || !strings.Contains(err.Error(), "--query-memory-limit") {
		t.Fatalf("err = %v", err)
	}
	assertNoSpillFiles(t, tc.SpillDir)
	if u := tc.Alloc.Used(); u != 0 {
		t.Fatalf("%d bytes still accounted", u)
	}
	// The same under no limit works.
	tc = tctx(mem, 0)
	w, _ = NewWindow(tc, &winGen{mem: tc.Mem(), parts: []int{30_000}}, specs, winOut(specs))
	if got := rowsReleased(t, w); len(got) != 30_000 {
		t.Fatalf("%d rows", len(got))
	}
	w.Close()
}

// TestWindowSpillCleanup: an input error or a cancel while a partition is
// being written, or a Close in the middle of reading a spilled partition,
// leaves no file and no accounted memory.
func TestWindowSpillCleanup(t *testing.T) {
	for _, mode := range []string{"error", "cancel", "early close"} {
		t.Run(mode, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			tc := tctx(mem, 1<<20)
			tc.SpillDir = t.TempDir()
			tc.Metrics = execution.NewMetricsSet()
			op := tc.Operator("window")
			g := &winGen{mem: op.Mem(), parts: []int{40_000}}
			switch mode {
			case "error":
				g.failAt = 30_000
			case "cancel":
				g.failAt, g.cancel = 30_000, cancel
			}
			specs := winSpecs(nil)
			w, err := NewWindow(op, g, specs, winOut(specs))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for {
				b, err := w.Next(ctx)
				if err != nil {
					if mode == "early close" || err == execution.EOF {
						t.Fatalf("after %d rows: %v", n, err)
					}
					break
				}
				n += int(b.NumRows())
				b.Release()
				if mode == "early close" && n >= 5000 {
					break
				}
			}
			if m, _ := tc.Metrics.Get("window"); m.SpillFiles == 0 && mode == "early close" {
				t.Fatal("nothing spilled")
			}
			w.Close()
			assertNoSpillFiles(t, tc.SpillDir)
			if u := tc.Alloc.Used(); u != 0 {
				t.Fatalf("%d bytes still accounted after Close", u)
			}
		})
	}
}

// rowCol is a column reference that fails (not panics) on a batch without
// the column, as expr.Column does: a non-constant argument.
type rowCol int

func (rowCol) DataType() arrow.DataType { return i64 }
func (c rowCol) String() string         { return fmt.Sprintf("#%d", int(c)) }
func (c rowCol) Eval(_ memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	if int(c) >= int(b.NumCols()) {
		return nil, errors.New("no such column")
	}
	a := b.Column(int(c))
	a.Retain()
	return a, nil
}
