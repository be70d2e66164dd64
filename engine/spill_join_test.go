package engine

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/quiverdb/quiver/integration/tpch"
)

// TestTPCHUnderMemoryLimit: every TPC-H query at SF 0.01 returns under an
// 8 MiB query memory limit what it returns without one (sorts,
// aggregates and hash joins spill), q21's joins spill (EXPLAIN ANALYZE
// shows it), and no memory or spill file is left.
func TestTPCHUnderMemoryLimit(t *testing.T) {
	unlimited, s := tpchEngine(t)
	work := t.TempDir()
	limited := limitedTPCHEngine(t, work, 4<<20)
	ls := limited.NewSession()
	dir := filepath.Join("..", "integration", "tpch")
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		sql, err := tpch.ReadQuery(dir, name)
		if err != nil {
			t.Fatal(err)
		}
		t.Run(name, func(t *testing.T) {
			want := run(t, unlimited, s, sql)
			got := run(t, limited, ls, sql)
			// Ties of ORDER BY may come in another order.
			slices.Sort(want)
			slices.Sort(got)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("limited run:\n%s\nunlimited:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
			if name == "q21" {
				plan := run(t, limited, ls, "EXPLAIN ANALYZE "+sql)
				spilled := false
				for _, l := range plan {
					spilled = spilled || strings.Contains(l, "Join") && strings.Contains(l, " spilled ")
				}
				if !spilled {
					t.Fatalf("EXPLAIN ANALYZE shows no join spill:\n%s", strings.Join(plan, "\n"))
				}
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
