package ops

import (
	"context"
	"errors"
	"fmt"
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
)

// aggGen makes rows on demand through the task's allocator: k int64 (groups
// values spread over the whole input, some NULL), s string (k's residue
// mod 7 as text), v int64 (repeats within a group, some NULL).
type aggGen struct {
	mem          memory.Allocator
	rows, groups int
	run          int // rows of one key in a row (1: a group's rows spread over the input)
	off          int
	failAt       int                // > 0: the input fails there
	cancel       context.CancelFunc // with failAt: cancel instead of failing
}

var aggGenSchema = schemaOf(i64, str, i64)

func (g *aggGen) Schema() *arrow.Schema { return aggGenSchema }
func (g *aggGen) Close() error          { return nil }

func (g *aggGen) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if g.failAt > 0 && g.off >= g.failAt {
		if g.cancel == nil {
			return nil, errors.New("input broke")
		}
		g.cancel()
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if g.off >= g.rows {
		return nil, execution.EOF
	}
	n := min(execution.BatchSize, g.rows-g.off)
	b := array.NewRecordBuilder(g.mem, aggGenSchema)
	defer b.Release()
	for i := g.off; i < g.off+n; i++ {
		k := i / max(g.run, 1) * 7919 % g.groups
		if k%9973 == 5 {
			b.Field(0).AppendNull()
		} else {
			b.Field(0).(*array.Int64Builder).Append(int64(k))
		}
		b.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("s%d", k%7))
		if i%13 == 0 {
			b.Field(2).AppendNull()
		} else {
			b.Field(2).(*array.Int64Builder).Append(int64(i % 5))
		}
	}
	g.off += n
	return b.NewRecordBatch(), nil
}

func spillAggSpecs() []AggSpec {
	v, s := col{2, i64}, col{1, str}
	return []AggSpec{
		{Func: "count_star", Type: i64},
		{Func: "count", Args: []expr.Expr{v}, Type: i64},
		{Func: "sum", Args: []expr.Expr{v}, Type: dec380},
		{Func: "avg", Args: []expr.Expr{v}, Type: dec384},
		{Func: "min", Args: []expr.Expr{v}, Type: i64},
		{Func: "max", Args: []expr.Expr{s}, Type: str},
		{Func: "count", Args: []expr.Expr{v}, Distinct: true, Type: i64},
		{Func: "sum", Args: []expr.Expr{v}, Distinct: true, Type: dec380},
		{Func: "group_concat", Args: []expr.Expr{s}, Separator: ",", OrderBy: []expr.SortKey{{Expr: v, Desc: true}}, Type: str},
	}
}

// aggregate runs rows of aggGen through the aggregate(s) under limit and
// returns the sorted rows and the spill files written.
func aggregate(t *testing.T, mem memory.Allocator, limit int64, rows, groups, run int, keys []expr.Expr, aggs []AggSpec, twoPhase bool) ([]string, int64) {
	t.Helper()
	tc := tctx(mem, limit)
	tc.SpillDir = t.TempDir()
	tc.Metrics = execution.NewMetricsSet()
	op := tc.Operator("agg")
	var keyTypes []arrow.DataType
	var finalKeys []expr.Expr
	for i, k := range keys {
		keyTypes = append(keyTypes, k.DataType())
		finalKeys = append(finalKeys, col{i, k.DataType()})
	}
	in := execution.Stream(&aggGen{mem: op.Mem(), rows: rows, groups: groups, run: run})
	mode := AggSingle
	if twoPhase {
		p, err := NewHashAggregate(op, in, AggPartial, keys, aggs, outSchema(keyTypes, aggs, true))
		if err != nil {
			t.Fatal(err)
		}
		in, keys, mode = p, finalKeys, AggFinal
	}
	h, err := NewHashAggregate(op, in, mode, keys, aggs, outSchema(keyTypes, aggs, false))
	if err != nil {
		t.Fatal(err)
	}
	got, err := rowsOrErr(h)
	h.Close()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	assertNoSpillFiles(t, tc.SpillDir)
	if u := tc.Alloc.Used(); u != 0 {
		t.Fatalf("%d bytes still accounted after Close", u)
	}
	m, _ := tc.Metrics.Get("agg")
	return got, m.SpillFiles
}

// TestSpillingAggregateMatchesInMemory: ~100k groups under a limit far
// below what the table needs: the aggregate spills and its groups equal
// the unlimited run's, for every aggregate kind (DISTINCT and GROUP_CONCAT
// included), integer and multi-column keys, one and two phases.
func TestSpillingAggregateMatchesInMemory(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	const rows, groups = 300_000, 100_000
	k, s := col{0, i64}, col{1, str}
	all := spillAggSpecs()
	splittable := all[:6]
	cases := []struct {
		name     string
		run      int
		keys     []expr.Expr
		aggs     []AggSpec
		twoPhase bool
	}{
		{"int key", 1, []expr.Expr{k}, splittable, false},
		{"two keys", 1, []expr.Expr{s, k}, splittable, false},
		// DISTINCT and GROUP_CONCAT grow with their groups' rows: the
		// table frozen at the first spill holds still if its groups' rows
		// come together (as lineitem's by l_orderkey).
		{"int key, every aggregate", 3, []expr.Expr{k}, all, false},
		{"two keys, every aggregate", 3, []expr.Expr{s, k}, all, false},
		{"int key, partial and final", 1, []expr.Expr{k}, splittable, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want, spilled := aggregate(t, mem, 0, rows, groups, c.run, c.keys, c.aggs, c.twoPhase)
			if spilled != 0 {
				t.Fatalf("unlimited aggregate spilled %d files", spilled)
			}
			if len(want) < groups*9/10 {
				t.Fatalf("%d groups, want about %d", len(want), groups)
			}
			got, spilled := aggregate(t, mem, 12<<20, rows, groups, c.run, c.keys, c.aggs, c.twoPhase)
			if spilled == 0 {
				t.Fatal("no spill under the limit: the test does not exercise spilling")
			}
			eq(t, got, want)
		})
	}
}

// rowsOrErr renders the rows of s like rowsReleased, returning its error.
func rowsOrErr(s execution.Stream) (out []string, err error) {
	s = execution.Instrument(s, nil, nil, nil) // the limit panics: an error
	for {
		b, err := s.Next(context.Background())
		if err == execution.EOF {
			return out, nil
		}
		if err != nil {
			return nil, err
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

// TestSpillingAggregateCleanup: an aggregate that has spilled and then
// ends by an input error or a cancel leaves no file once closed.
func TestSpillingAggregateCleanup(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, mode := range []string{"error", "cancel"} {
		t.Run(mode, func(t *testing.T) {
			tc := tctx(mem, 12<<20)
			tc.SpillDir = t.TempDir()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			g := &aggGen{mem: tc.Mem(), rows: 300_000, groups: 100_000, run: 1, failAt: 280_000}
			if mode == "cancel" {
				g.cancel = cancel
			}
			aggs := spillAggSpecs()[:6]
			h, err := NewHashAggregate(tc, g, AggSingle, []expr.Expr{col{0, i64}}, aggs, outSchema([]arrow.DataType{i64}, aggs, false))
			if err != nil {
				t.Fatal(err)
			}
			_, err = h.Next(ctx)
			if err == nil || (mode == "cancel") != errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v", err)
			}
			files := 0
			filepath.WalkDir(tc.SpillDir, func(_ string, d os.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					files++
				}
				return nil
			})
			if files == 0 {
				t.Fatal("no spill file before the failure: the test does not exercise cleanup")
			}
			h.Close()
			assertNoSpillFiles(t, tc.SpillDir)
			if u := tc.Alloc.Used(); u != 0 {
				t.Fatalf("%d bytes still accounted", u)
			}
		})
	}
}
