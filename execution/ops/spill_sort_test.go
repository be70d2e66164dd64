package ops

import (
	"context"
	"errors"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

// genStream makes batches on demand through the task's allocator (as a
// scan does, so they count against the query limit while held): columns
// id int64 (unique), k int64 (few values, NULLs), s string (NULLs, empty,
// prefixes of each other), f float64 (NULLs, NaN, -0).
type genStream struct {
	mem     memory.Allocator
	schema  *arrow.Schema
	rows    int
	off     int
	seed    int64
	failAt  int    // > 0: fail with an error when off reaches it
	onBatch func() // called before each batch (cancel tests)
}

func newGen(mem memory.Allocator, rows int) *genStream {
	return &genStream{mem: mem, rows: rows, seed: 1, schema: arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: i64}, {Name: "k", Type: i64, Nullable: true},
		{Name: "s", Type: str, Nullable: true}, {Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	}, nil)}
}

func (g *genStream) Schema() *arrow.Schema { return g.schema }
func (g *genStream) Close() error          { return nil }

func (g *genStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if g.failAt > 0 && g.off >= g.failAt {
		return nil, errors.New("input broke")
	}
	if g.off >= g.rows {
		return nil, execution.EOF
	}
	if g.onBatch != nil {
		g.onBatch()
	}
	n := min(execution.BatchSize, g.rows-g.off)
	b := array.NewRecordBuilder(g.mem, g.schema)
	defer b.Release()
	r := rand.New(rand.NewSource(g.seed + int64(g.off)))
	words := []string{"", "a", "ab", "abc", "b", "ba", "zz", "x\x00y", "x"}
	for i := g.off; i < g.off+n; i++ {
		b.Field(0).(*array.Int64Builder).Append(int64(i))
		if r.Intn(10) == 0 {
			b.Field(1).AppendNull()
		} else {
			b.Field(1).(*array.Int64Builder).Append(int64(r.Intn(50) - 25))
		}
		if r.Intn(12) == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.StringBuilder).Append(words[r.Intn(len(words))] + strings.Repeat("q", r.Intn(20)))
		}
		switch r.Intn(20) {
		case 0:
			b.Field(3).AppendNull()
		case 1:
			b.Field(3).(*array.Float64Builder).Append(math.NaN())
		case 2:
			b.Field(3).(*array.Float64Builder).Append(math.Copysign(0, -1))
		default:
			b.Field(3).(*array.Float64Builder).Append(float64(r.Intn(1000)-500) / 8)
		}
	}
	g.off += n
	return b.NewRecordBatch(), nil
}

// sortAll runs NewSort over a fresh generator under limit and returns its
// rows rendered, with the spill files the sort wrote.
func sortAll(t *testing.T, mem memory.Allocator, rows int, limit int64, keys []expr.SortKey) ([]string, int64) {
	t.Helper()
	tc := tctx(mem, limit)
	tc.SpillDir = t.TempDir()
	tc.Metrics = execution.NewMetricsSet()
	op := tc.Operator("sort")
	s := NewSort(op, newGen(op.Mem(), rows), keys, -1)
	got := rowsReleased(t, s)
	s.Close()
	assertNoSpillFiles(t, tc.SpillDir)
	m, _ := tc.Metrics.Get("sort")
	if m.SpillFiles > 0 && m.SpilledBytes <= 0 {
		t.Fatalf("%d spill files of %d bytes", m.SpillFiles, m.SpilledBytes)
	}
	if u := tc.Alloc.Used(); u != 0 {
		t.Fatalf("%d bytes still accounted after Close", u)
	}
	return got, m.SpillFiles
}

// rowsReleased renders the rows of s, releasing each batch before pulling
// the next (as a client does; rowsOf would hold all of them in the budget).
func rowsReleased(t *testing.T, s execution.Stream) []string {
	t.Helper()
	var out []string
	for {
		b, err := s.Next(context.Background())
		if err == execution.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		for r := 0; r < int(b.NumRows()); r++ {
			parts := make([]string, b.NumCols())
			for c := range parts {
				parts[c] = b.Column(c).ValueStr(r)
			}
			out = append(out, strings.Join(parts, "|"))
		}
		b.Release()
	}
}

func assertNoSpillFiles(t *testing.T, dir string) {
	t.Helper()
	var left []string
	filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		// spill.lock serializes making spill directories: it stays.
		if err == nil && p != dir && p != filepath.Join(dir, "spill") && p != filepath.Join(dir, "spill.lock") {
			left = append(left, p)
		}
		return nil
	})
	if len(left) > 0 {
		t.Fatalf("spill files left behind: %v", left)
	}
}

// TestExternalSortMatchesInMemory: under a limit far below the input the
// sort spills several runs and merges them to the in-memory sort's order.
// With the unique id as the last key the order is total, so the rows must
// be identical; without it, the key columns must be in the same order and
// the rows the same multiset.
func TestExternalSortMatchesInMemory(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const rows = 120_000
	id, k, s, f := col{0, i64}, col{1, i64}, col{2, str}, col{3, arrow.PrimitiveTypes.Float64}
	cases := []struct {
		name  string
		keys  []expr.SortKey
		total bool
	}{
		{"int asc nulls first, id", []expr.SortKey{{Expr: k, NullsFirst: true}, {Expr: id}}, true},
		{"string desc nulls last, float", []expr.SortKey{{Expr: s, Desc: true}, {Expr: f, NullsFirst: true}}, false},
		{"float desc nulls first, string, id desc", []expr.SortKey{{Expr: f, Desc: true, NullsFirst: true}, {Expr: s}, {Expr: id, Desc: true}}, true},
		{"string asc nulls first", []expr.SortKey{{Expr: s, NullsFirst: true}}, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, spilled := sortAll(t, mem, rows, 0, c.keys)
			if spilled != 0 {
				t.Fatalf("unlimited sort spilled %d files", spilled)
			}
			got, spilled := sortAll(t, mem, rows, 3<<20, c.keys)
			if spilled < 3 {
				t.Fatalf("spilled %d files under the limit, want several runs", spilled)
			}
			if len(got) != rows {
				t.Fatalf("%d rows, want %d", len(got), rows)
			}
			if c.total {
				eq(t, got, want)
				return
			}
			keyCols := func(rs []string) []string {
				out := make([]string, len(rs))
				for i, r := range rs {
					p := strings.Split(r, "|")
					var ks []string
					for _, key := range c.keys {
						v := p[key.Expr.(col).i]
						if v == "-0" { // equal to 0: ties may come in either order
							v = "0"
						}
						ks = append(ks, v)
					}
					out[i] = strings.Join(ks, "|")
				}
				return out
			}
			eq(t, keyCols(got), keyCols(want))
			slices.Sort(got)
			slices.Sort(want)
			eq(t, got, want)
		})
	}
}

// TestExternalSortCleanup: spill files go when the sort ends by an input
// error or a cancel, and the memory it held is returned.
func TestExternalSortCleanup(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	keys := []expr.SortKey{{Expr: col{2, str}}}
	for _, mode := range []string{"error", "cancel"} {
		t.Run(mode, func(t *testing.T) {
			tc := tctx(mem, 3<<20)
			tc.SpillDir = t.TempDir()
			g := newGen(tc.Mem(), 200_000)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			spillDir := filepath.Join(tc.SpillDir, "spill")
			files := func() int {
				n := 0
				filepath.WalkDir(spillDir, func(_ string, d os.DirEntry, err error) error {
					if err == nil && !d.IsDir() {
						n++
					}
					return nil
				})
				return n
			}
			sawFiles := 0
			g.onBatch = func() {
				sawFiles = max(sawFiles, files())
				if mode == "cancel" && g.off >= 150_000 {
					cancel()
				}
			}
			if mode == "error" {
				g.failAt = 150_000
			}
			s := NewSort(tc, g, keys, -1)
			_, err := s.Next(ctx)
			if err == nil {
				t.Fatal("sort succeeded over a broken input")
			}
			if mode == "cancel" && !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want the cancel", err)
			}
			if sawFiles == 0 {
				t.Fatal("the sort wrote no spill file before the end: the test does not exercise cleanup")
			}
			s.Close()
			assertNoSpillFiles(t, tc.SpillDir)
			if u := tc.Alloc.Used(); u != 0 {
				t.Fatalf("%d bytes still accounted", u)
			}
		})
	}
}

// TestSortLimitStillBinds: an input whose single batch cannot be sorted
// within the limit fails with ResourceExhausted (spilling has a floor).
func TestSortLimitStillBinds(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tc := tctx(mem, 64<<10)
	tc.SpillDir = t.TempDir()
	s := execution.Instrument(NewSort(tc, newGen(tc.Mem(), 50_000), []expr.SortKey{{Expr: col{2, str}}}, -1), nil, nil, tc.Alloc)
	_, err := s.Next(context.Background())
	if qerr.KindOf(err) != qerr.ResourceExhausted {
		t.Fatalf("err = %v, want ResourceExhausted", err)
	}
	s.Close()
	assertNoSpillFiles(t, tc.SpillDir)
}

func TestEncodeSortKeysOrder(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	g := newGen(mem, 3000)
	b, err := g.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer b.Release()
	for _, desc := range []bool{false, true} {
		for _, nf := range []bool{false, true} {
			for c := 1; c < 4; c++ {
				a := b.Column(c)
				keys := execution.EncodeSortKeys(mem, []arrow.Array{a}, []bool{desc}, []bool{nf})
				cmp := execution.NewComparator(a, desc, nf)
				for i := 0; i < 500; i++ {
					for j := 0; j < 40; j++ {
						want := cmp(i, j)
						got := strings.Compare(string(keys.Value(i)), string(keys.Value(j)))
						if sign(got) != sign(want) {
							keys.Release()
							t.Fatalf("col %d desc=%v nullsFirst=%v rows %s vs %s: encoded %d, comparator %d", c, desc, nf, a.ValueStr(i), a.ValueStr(j), got, want)
						}
					}
				}
				keys.Release()
			}
		}
	}
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

// TestJoinBuildLimitError: a join that cannot spill (nested loop) whose
// build side does not fit the limit fails with ResourceExhausted naming
// the join and the flag. (Hash joins spill: join_spill_test.go.)
// (No leak check: the limit panics inside the input's array builder, whose
// partial buffers are lost as in any query that fails so; the engine
// settles them.)
func TestJoinBuildLimitError(t *testing.T) {
	tc := tctx(memory.NewGoAllocator(), 2<<20)
	left, right := newGen(tc.Mem(), 10), newGen(tc.Mem(), 100_000)
	out := arrow.NewSchema(append(slices.Clone(left.Schema().Fields()), right.Schema().Fields()...), nil)
	j, err := NewNestedLoopJoin(tc, left, right, InnerJoin, nil, out)
	if err != nil {
		t.Fatal(err)
	}
	s := execution.Instrument(j, nil, nil, tc.Alloc)
	_, err = s.Next(context.Background())
	s.Close()
	if qerr.KindOf(err) != qerr.ResourceExhausted || !strings.Contains(err.Error(), "join: its build side") || !strings.Contains(err.Error(), "--query-memory-limit") {
		t.Fatalf("err = %v, want ResourceExhausted naming the join build side", err)
	}
}
