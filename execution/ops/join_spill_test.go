package ops

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
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

// joinGen makes join input on demand through the task's allocator:
// k int64 (NULLs, duplicates, a hot key), k2 int64 (k mod 3, NULLs),
// v int64 (for residual filters), s string (payload).
type joinGen struct {
	mem       memory.Allocator
	rows, off int
	seed      int64
	keys      int     // k is drawn from [0, keys)
	hot       float64 // share of rows with k = 7
	nulls     float64 // share of rows with a NULL k (and of NULL k2)
	unique    bool    // k = row number (no duplicates, no hot key)
	failAt    int     // > 0: fail when off reaches it
	onBatch   func()
}

var joinGenSchema = schemaOf(i64, i64, i64, str)

func (g *joinGen) Schema() *arrow.Schema { return joinGenSchema }
func (g *joinGen) Close() error          { return nil }

func (g *joinGen) Next(ctx context.Context) (arrow.RecordBatch, error) {
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
	b := array.NewRecordBuilder(g.mem, joinGenSchema)
	defer b.Release()
	r := rand.New(rand.NewSource(g.seed*1_000_003 + int64(g.off)))
	k, k2 := b.Field(0).(*array.Int64Builder), b.Field(1).(*array.Int64Builder)
	for i := g.off; i < g.off+n; i++ {
		var key int64
		switch x := r.Float64(); {
		case x < g.nulls:
			k.AppendNull()
			key = int64(r.Intn(3))
		case g.unique:
			key = int64(i)
			k.Append(key)
		case x < g.nulls+g.hot:
			key = 7
			k.Append(key)
		default:
			key = int64(r.Intn(g.keys))
			k.Append(key)
		}
		if r.Float64() < g.nulls {
			k2.AppendNull()
		} else {
			k2.Append(key % 3)
		}
		b.Field(2).(*array.Int64Builder).Append(int64(r.Intn(100)))
		b.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("r%d.%d", g.seed, i))
	}
	g.off += n
	return b.NewRecordBatch(), nil
}

type spillJoinCase struct {
	name     string
	typ      JoinType
	na       bool
	filter   expr.Expr
	keys     []int // key columns (same on both sides); nil = k
	nullEq   []bool
	strict   []bool
	proj     []int
	build    func(*joinGen)
	wantNone bool // the answer is empty (NOT IN with a NULL in the build)
	// deep makes the build side big enough that its partitions do not
	// fit either and are partitioned again.
	deep bool
}

func (c spillJoinCase) out() *arrow.Schema {
	switch c.typ {
	case SemiJoin, AntiJoin:
		return joinGenSchema
	case MarkJoin:
		return arrow.NewSchema(append(slices.Clone(joinGenSchema.Fields()), arrow.Field{Name: "mark", Type: arrow.FixedWidthTypes.Boolean, Nullable: true}), nil)
	}
	fields := append(slices.Clone(joinGenSchema.Fields()), joinGenSchema.Fields()...)
	if c.proj == nil {
		return arrow.NewSchema(fields, nil)
	}
	var pf []arrow.Field
	for _, i := range c.proj {
		pf = append(pf, fields[i])
	}
	return arrow.NewSchema(pf, nil)
}

// runSpillJoin joins a probe and a build generator under limit (0 = none)
// and returns the rendered rows (sorted) and the spill files written;
// it fails the test when a file or an accounted byte is left after Close.
func runSpillJoin(t *testing.T, c spillJoinCase, limit int64) ([]string, int64, error) {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tc := tctx(mem, limit)
	tc.SpillDir = t.TempDir()
	tc.Metrics = execution.NewMetricsSet()
	op := tc.Operator("join")
	probe := &joinGen{mem: op.Mem(), rows: 20_000, seed: 1, keys: 30_000, hot: 0.0005, nulls: 0.05}
	build := &joinGen{mem: op.Mem(), rows: 60_000, seed: 2, keys: 30_000, hot: 0.06, nulls: 0.05}
	if c.deep {
		build.rows, build.keys = 150_000, 75_000
	}
	if c.build != nil {
		c.build(build)
	}
	var lk, rk []expr.Expr
	keys := c.keys
	if keys == nil {
		keys = []int{0}
	}
	for _, k := range keys {
		lk = append(lk, col{k, i64})
		rk = append(rk, col{k, i64})
	}
	j, err := NewHashJoinNullEq(op, probe, build, c.typ, lk, rk, c.nullEq, c.filter, c.na, c.strict, c.proj, c.out())
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for err == nil {
		var b arrow.RecordBatch
		if b, err = j.Next(context.Background()); err == nil {
			got = append(got, renderRows(b)...)
			b.Release()
		}
	}
	if err == execution.EOF {
		err = nil
	}
	j.Close()
	assertNoSpillFiles(t, tc.SpillDir)
	if u := tc.Alloc.Used(); u != 0 {
		t.Fatalf("%d bytes still accounted after Close", u)
	}
	m, _ := tc.Metrics.Get("join")
	if m.SpillFiles > 0 && m.SpilledBytes <= 0 {
		t.Fatalf("%d spill files of %d bytes", m.SpillFiles, m.SpilledBytes)
	}
	slices.Sort(got)
	return got, m.SpillFiles, err
}

func renderRows(b arrow.RecordBatch) []string {
	var out []string
	for r := 0; r < int(b.NumRows()); r++ {
		parts := make([]string, b.NumCols())
		for c := range parts {
			parts[c] = b.Column(c).ValueStr(r)
		}
		out = append(out, strings.Join(parts, "|"))
	}
	return out
}

// joinSpillLimit forces the 60k-row build side into partitions, and those
// of a 150k-row one into more.
const joinSpillLimit = 2 << 20

// TestGraceHashJoinMatchesInMemory: under a limit far below the build side
// every join type returns what the in-memory join returns, after spilling
// to several partitions and re-partitioning at least one of them.
func TestGraceHashJoinMatchesInMemory(t *testing.T) {
	noNulls := func(g *joinGen) { g.nulls = 0 }
	cases := []spillJoinCase{
		{name: "inner", typ: InnerJoin, deep: true},
		{name: "inner filter", typ: InnerJoin, filter: gtCol{2, 6}},
		{name: "inner projection", typ: InnerJoin, proj: []int{1, 3, 7}},
		{name: "left", typ: LeftJoin},
		{name: "left filter", typ: LeftJoin, filter: gtCol{2, 6}},
		{name: "right", typ: RightJoin},
		{name: "full", typ: FullJoin},
		{name: "full filter projection", typ: FullJoin, filter: gtCol{2, 6}, proj: []int{0, 4, 7}, deep: true},
		{name: "semi", typ: SemiJoin},
		{name: "semi filter", typ: SemiJoin, filter: gtCol{2, 6}},
		{name: "semi null-equal", typ: SemiJoin, keys: []int{0, 1}, nullEq: []bool{true, true}},
		{name: "anti", typ: AntiJoin},
		{name: "anti filter", typ: AntiJoin, filter: gtCol{2, 6}, deep: true},
		{name: "mark", typ: MarkJoin},
		{name: "two keys", typ: LeftJoin, keys: []int{0, 1}},
		{name: "not in without build nulls", typ: AntiJoin, na: true, build: noNulls},
		{name: "not in mark without build nulls", typ: MarkJoin, na: true, build: noNulls},
		{name: "not in mark", typ: MarkJoin, na: true, deep: true},
		{name: "not in", typ: AntiJoin, na: true, wantNone: true},
		{name: "not in correlated", typ: AntiJoin, na: true, keys: []int{0, 1}, strict: []bool{true, false}},
		{name: "not in correlated mark", typ: MarkJoin, na: true, keys: []int{0, 1}, strict: []bool{true, false}},
		{name: "left single", typ: LeftSingleJoin, build: func(g *joinGen) { g.unique = true }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, files, err := runSpillJoin(t, c, 0)
			if err != nil || files != 0 {
				t.Fatalf("in memory: %v, %d spill files", err, files)
			}
			if c.wantNone != (len(want) == 0) {
				t.Fatalf("in memory: %d rows", len(want))
			}
			got, files, err := runSpillJoin(t, c, joinSpillLimit)
			if err != nil {
				t.Fatal(err)
			}
			// One level writes at most 2*16+1 files: more means a
			// partition was partitioned again.
			if files <= 2*joinSpillPartitions+1 && c.deep {
				t.Fatalf("%d spill files: no re-partition", files)
			}
			if files == 0 {
				t.Fatal("no spill")
			}
			if len(got) != len(want) {
				t.Fatalf("%d rows, in memory %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("row %d: %q, in memory %q", i, got[i], want[i])
				}
			}
		})
	}
}

// TestGraceHashJoinSingleRowError: a scalar subquery join whose build side
// has two rows for a probe key still fails when spilled.
func TestGraceHashJoinSingleRowError(t *testing.T) {
	_, files, err := runSpillJoin(t, spillJoinCase{typ: LeftSingleJoin}, joinSpillLimit)
	if files == 0 || err == nil || !strings.Contains(err.Error(), "Subquery returns more than 1 row") {
		t.Fatalf("err = %v after %d spill files, want more than 1 row", err, files)
	}
}

// TestGraceHashJoinOneHotKey: a partition that cannot split (one key in
// every build row) ends in a clear ResourceExhausted, leaving no file.
func TestGraceHashJoinOneHotKey(t *testing.T) {
	_, files, err := runSpillJoin(t, spillJoinCase{typ: InnerJoin, build: func(g *joinGen) { g.hot, g.nulls = 1, 0 }}, joinSpillLimit)
	if files == 0 || qerr.KindOf(err) != qerr.ResourceExhausted || !strings.Contains(err.Error(), "one join key") ||
		!strings.Contains(err.Error(), "--query-memory-limit") {
		t.Fatalf("err = %v after %d spill files, want ResourceExhausted about one join key", err, files)
	}
}

// TestGraceHashJoinCleanup: spill files are gone and memory returned after
// an input error (build side, probe side), a cancel and an early Close.
func TestGraceHashJoinCleanup(t *testing.T) {
	for _, c := range []string{"build error", "probe error", "cancel", "early close"} {
		t.Run(c, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			tc := tctx(mem, joinSpillLimit)
			tc.SpillDir = t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			probe := &joinGen{mem: mem, rows: 20_000, seed: 1, keys: 30_000}
			build := &joinGen{mem: mem, rows: 60_000, seed: 2, keys: 30_000}
			switch c {
			case "build error":
				build.failAt = 50_000
			case "probe error":
				probe.failAt = 16_000
			case "cancel":
				probe.onBatch = func() {
					if probe.off >= 16_000 {
						cancel()
					}
				}
			}
			j, err := NewHashJoin(tc, probe, build, FullJoin, []expr.Expr{col{0, i64}}, []expr.Expr{col{0, i64}}, nil, false, spillJoinCase{typ: FullJoin}.out())
			if err != nil {
				t.Fatal(err)
			}
			b, err := j.Next(ctx)
			if c == "early close" {
				if err != nil {
					t.Fatal(err)
				}
				b.Release()
				if j.(*joinStream).spill == nil {
					t.Fatal("did not spill")
				}
			} else if err == nil {
				b.Release()
				t.Fatal("no error")
			}
			j.Close()
			assertNoSpillFiles(t, tc.SpillDir)
			if u := tc.Alloc.Used(); u != 0 {
				t.Fatalf("%d bytes still accounted after Close", u)
			}
		})
	}
}
