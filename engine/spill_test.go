package engine

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSpillUnderMemoryLimit: with a small --query-memory-limit, a full
// ORDER BY over lineitem, a GROUP BY l_orderkey with COUNT(DISTINCT) and a
// DISTINCT spill to the work dir and return what the unlimited run returns
// (each fails with ResourceExhausted when the operator does not spill);
// EXPLAIN ANALYZE shows the spill, and no spill file is left.
func TestSpillUnderMemoryLimit(t *testing.T) {
	unlimited, s := tpchEngine(t)
	work := t.TempDir()
	limited := limitedTPCHEngine(t, work, 16<<20)
	ls := limited.NewSession()
	for _, q := range spillQueries {
		t.Run(q.name, func(t *testing.T) {
			want := run(t, unlimited, s, q.sql)
			if len(want) < 10_000 {
				t.Fatalf("%d rows: too few to need spilling", len(want))
			}
			got := run(t, limited, ls, q.sql)
			if !q.ordered {
				slices.Sort(want)
				slices.Sort(got)
			}
			if len(got) != len(want) {
				t.Fatalf("limited run: %d rows, unlimited %d", len(got), len(want))
			}
			for i := range got {
				if got[i] != want[i] {
					t.Fatalf("row %d: limited %q, unlimited %q", i, got[i], want[i])
				}
			}
			plan := strings.Join(run(t, limited, ls, "EXPLAIN ANALYZE "+q.sql), "\n")
			if !strings.Contains(plan, q.op) || !strings.Contains(plan, " spilled ") {
				t.Fatalf("EXPLAIN ANALYZE shows no %s spill:\n%s", q.op, plan)
			}
			if m := limited.MemoryInUse(); m != 0 {
				t.Fatalf("%d bytes in use after the query", m)
			}
			assertEmptySpillDir(t, work)
		})
	}
	if l := limited.MemoryLost(); l != 0 {
		t.Fatalf("queries lost %d bytes", l)
	}
}

var spillQueries = []struct {
	name, sql, op string
	ordered       bool
}{
	{"order by", "SELECT * FROM lineitem ORDER BY l_comment DESC, l_shipdate, l_orderkey, l_linenumber", "Sort", true},
	{"group by", "SELECT l_orderkey, sum(l_extendedprice), count(DISTINCT l_partkey), avg(l_quantity), max(l_comment), count(*) FROM lineitem GROUP BY l_orderkey", "HashAggregate", false},
	{"distinct", "SELECT DISTINCT l_comment, l_orderkey FROM lineitem", "HashAggregate", false},
}

func assertEmptySpillDir(t *testing.T, work string) {
	t.Helper()
	ents, err := os.ReadDir(filepath.Join(work, "spill"))
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if len(ents) > 0 {
		t.Fatalf("spill files left in %s: %v", work, ents)
	}
}
