package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/quiverdb/quiver/qerr"
)

// TestWindowAndRecursiveUnderMemoryLimit: under a 12 MiB
// --query-memory-limit, window functions over lineitem whose partitions
// (the whole table for an ORDER BY without PARTITION BY) do not fit spill
// and return the unlimited run's rows, EXPLAIN ANALYZE shows the Window
// spill; under 4 MiB a recursive CTE of 200k rows spills its work table
// and UNION DISTINCT over the limit fails naming the CTE; no file or
// memory is left.
func TestWindowAndRecursiveUnderMemoryLimit(t *testing.T) {
	ctx := context.Background()
	unlimited, s := tpchEngine(t)
	work := t.TempDir()
	engines := map[int64]*Engine{}
	limited := func(limit int64) *Engine {
		if e := engines[limit]; e != nil {
			return e
		}
		e := limitedTPCHEngine(t, work, limit)
		engines[limit] = e
		return e
	}
	// Three window specifications stack three sorts; below 12 MiB the
	// sorts' own runs and merges do not fit beside each other (ORDER BY
	// over an ORDER BY fails the same way, no window needed).
	for _, q := range []struct {
		name, sql, op string
		limit         int64
	}{
		// The brief's query, with the ORDER BYs made total so that both
		// runs number tied rows alike.
		{"window", `SELECT l_orderkey, l_linenumber, ROW_NUMBER() OVER (ORDER BY l_extendedprice, l_orderkey, l_linenumber),
			SUM(l_quantity) OVER (PARTITION BY l_suppkey ORDER BY l_orderkey, l_linenumber ROWS BETWEEN 3 PRECEDING AND CURRENT ROW),
			LAG(l_comment) OVER (ORDER BY l_orderkey, l_linenumber) FROM lineitem`, "Window", 12 << 20},
		{"window ranks and running", `SELECT l_orderkey, l_linenumber, RANK() OVER w, DENSE_RANK() OVER w, CUME_DIST() OVER w, NTILE(7) OVER w,
			SUM(l_extendedprice) OVER w, COUNT(*) OVER (), FIRST_VALUE(l_comment) OVER w, LAST_VALUE(l_comment) OVER w,
			LEAD(l_partkey, 2) OVER w FROM lineitem WINDOW w AS (ORDER BY l_shipdate, l_orderkey, l_linenumber)`, "Window", 8 << 20},
		// 200k rows (5 iterations of 40k): summed in the CTE's own task,
		// so nothing but the CTE holds its rows.
		{"recursive", `WITH RECURSIVE t(k, d, c) AS (SELECT l_orderkey, 0, l_comment FROM lineitem WHERE l_orderkey <= 40000
			UNION ALL SELECT k, d + 1, c FROM t WHERE d < 4) SELECT count(*), sum(k), sum(d), sum(length(c)), max(c) FROM t`, "RecursiveCTE", 4 << 20},
	} {
		t.Run(q.name, func(t *testing.T) {
			want := run(t, unlimited, s, q.sql)
			if len(want) < 50_000 && q.op != "RecursiveCTE" {
				t.Fatalf("%d rows: too few to need spilling", len(want))
			}
			e := limited(q.limit)
			ls := e.NewSession()
			got := run(t, e, ls, q.sql)
			slices.Sort(want)
			slices.Sort(got)
			if len(got) != len(want) {
				t.Fatalf("limited run: %d rows, unlimited %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("row %d: limited %q, unlimited %q", i, got[i], want[i])
				}
			}
			plan := strings.Join(run(t, e, ls, "EXPLAIN ANALYZE "+q.sql), "\n")
			spilled := false
			for _, line := range strings.Split(plan, "\n") {
				spilled = spilled || strings.Contains(line, q.op) && strings.Contains(line, " spilled ")
			}
			if !spilled {
				t.Fatalf("EXPLAIN ANALYZE shows no %s spill:\n%s", q.op, plan)
			}
			if m := e.MemoryInUse(); m != 0 {
				t.Fatalf("%d bytes in use after the query", m)
			}
			assertEmptySpillDir(t, work)
		})
	}
	t.Run("the brief's query as written", func(t *testing.T) {
		// Ties in its ORDER BYs number rows differently from run to run:
		// the rows' keys and count must still match.
		const q = `SELECT l_orderkey, ROW_NUMBER() OVER (ORDER BY l_extendedprice), SUM(l_quantity) OVER (PARTITION BY l_suppkey ORDER BY l_orderkey ROWS BETWEEN 3 PRECEDING AND CURRENT ROW), LAG(l_comment) OVER (ORDER BY l_orderkey, l_linenumber) FROM lineitem`
		want := run(t, unlimited, s, "SELECT l_orderkey FROM lineitem")
		e := limited(12 << 20)
		got := run(t, e, e.NewSession(), q)
		for i := range got {
			got[i] = got[i][:strings.IndexByte(got[i], '|')]
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("%d rows, want %d", len(got), len(want))
		}
	})
	t.Run("recursive distinct over the limit", func(t *testing.T) {
		limited := limited(4 << 20)
		res, err := limited.Execute(ctx, limited.NewSession(), `WITH RECURSIVE big(k, d, c) AS (SELECT l_orderkey, 0, l_comment FROM lineitem
			UNION SELECT k, d + 1, c FROM big WHERE d < 4) SELECT count(*) FROM big`, nil)
		if err == nil {
			_, err = drain(ctx, res.Stream)
		}
		if qerr.KindOf(err) != qerr.ResourceExhausted || !strings.Contains(err.Error(), "recursive CTE big") || !strings.Contains(err.Error(), "--query-memory-limit") {
			t.Fatalf("err = %v", err)
		}
		if m := limited.MemoryInUse(); m != 0 {
			t.Fatalf("%d bytes in use after the query", m)
		}
		assertEmptySpillDir(t, work)
	})
	for _, e := range engines {
		if l := e.MemoryLost(); l != 0 {
			t.Fatalf("queries lost %d bytes", l)
		}
	}
}
