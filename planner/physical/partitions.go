package physical

import (
	"math"

	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/planner/logical"
)

// DefaultPartitionRows is the input rows per partition `quiver serve` aims
// for: below slots × this, a query uses fewer partitions than slots (a
// task per ~100k rows keeps the per-task and shuffle overhead small next to
// the work).
const DefaultPartitionRows = 100_000

// csvRowBytes converts a CSV file's size to rows when its row count is
// unknown (a TPC-H lineitem line is about 120 bytes).
const csvRowBytes = 100

// PartitionCount is the number of partitions of a query's scans and hash
// exchanges: one per task slot of the nodes that run it (slots: the
// node's --parallelism alone, the summed cores of the live members in a
// cluster), fewer when the largest input has under rowsPerPartition rows
// per slot; never fewer than 1. rowsPerPartition <= 0 always uses every
// slot.
func PartitionCount(slots int, inputRows float64, rowsPerPartition int64) int {
	n := max(slots, 1)
	if rowsPerPartition <= 0 || math.IsNaN(inputRows) {
		return n
	}
	want := math.Ceil(inputRows / float64(rowsPerPartition))
	if want >= float64(n) {
		return n
	}
	return max(int(want), 1)
}

// InputRows is the row count of the largest base table a plan scans, from
// the catalog's statistics (Parquet metadata): the size the partition count
// is chosen from. Filters are not applied, as the scan reads every row
// group they do not prune.
func InputRows(n logical.Node) float64 {
	var rows float64
	var walk func(n logical.Node)
	walk = func(n logical.Node) {
		if s, ok := n.(*logical.Scan); ok && s.Table != nil && s.Table.Kind == catalog.BaseTable {
			rows = math.Max(rows, scanRows(s.Table))
		}
		for _, c := range n.Children() {
			walk(c)
		}
	}
	walk(n)
	return rows
}

// scanRows is t's row count; files without one count by size.
func scanRows(t *catalog.Table) float64 {
	if t.Stats.RowCount > 0 {
		return float64(t.Stats.RowCount)
	}
	var n float64
	for _, f := range t.Files {
		if f.NumRows >= 0 && t.Format != catalog.CSV {
			n += float64(f.NumRows)
			continue
		}
		n += float64(f.Size) / csvRowBytes
	}
	return n
}
