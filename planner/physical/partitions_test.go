package physical

import (
	"testing"

	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/planner/logical"
)

func TestPartitionCount(t *testing.T) {
	for _, c := range []struct {
		name    string
		slots   int
		rows    float64
		perPart int64
		want    int
	}{
		{"SF1 lineitem on one 2-slot node uses both", 2, 6_001_215, DefaultPartitionRows, 2},
		{"SF1 lineitem on 3 nodes of 2 cores: every slot", 6, 6_001_215, DefaultPartitionRows, 6},
		{"SF0.1 lineitem: 600,572 rows make 7 partitions", 16, 600_572, DefaultPartitionRows, 7},
		{"SF0.01 lineitem: one partition", 6, 60_175, DefaultPartitionRows, 1},
		{"exactly two partitions' worth", 8, 200_000, DefaultPartitionRows, 2},
		{"empty input: still one", 6, 0, DefaultPartitionRows, 1},
		{"no slots known: one", 0, 6_001_215, DefaultPartitionRows, 1},
		{"reduction disabled", 6, 10, 0, 6},
		{"small rows per partition (tests)", 6, 60_175, 2000, 6},
		{"huge input never above the slots", 4, 1e15, 1, 4},
	} {
		if got := PartitionCount(c.slots, c.rows, c.perPart); got != c.want {
			t.Errorf("%s: PartitionCount(%d, %.0f, %d) = %d, want %d", c.name, c.slots, c.rows, c.perPart, got, c.want)
		}
	}
}

func TestInputRows(t *testing.T) {
	// The largest scanned table counts, whatever the join shape.
	j := &logical.Join{Left: lscan(dims, 0), Right: lscan(big, 10), Type: logical.InnerJoin}
	if got := InputRows(j); got != 4_000_000 {
		t.Errorf("InputRows(dims ⋈ big) = %.0f, want 4000000", got)
	}
	if got := InputRows(lscan(dims, 0)); got != 100 {
		t.Errorf("InputRows(dims) = %.0f, want 100", got)
	}
	// CSV files without a row count count by size.
	csv := &catalog.Table{Schema: "s", Name: "c", Kind: catalog.BaseTable, Format: catalog.CSV, Columns: dims.Columns,
		Files: []catalog.File{{Path: "a.csv", NumRows: -1, Size: 50_000_000}}, Stats: catalog.Stats{RowCount: -1}}
	if got := InputRows(lscan(csv, 0)); got != 500_000 {
		t.Errorf("InputRows(50 MB CSV) = %.0f, want 500000", got)
	}
	if got := InputRows(&logical.Values{}); got != 0 {
		t.Errorf("InputRows(VALUES) = %.0f, want 0", got)
	}
}
