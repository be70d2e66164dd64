package catalog

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// TableKind is what SHOW FULL TABLES / information_schema report.
type TableKind int

const (
	BaseTable   TableKind = iota // files under the data dir
	View                         // stored SQL text
	SystemTable                  // information_schema.*, system.*: rows made on demand
)

func (k TableKind) String() string {
	switch k {
	case View:
		return "VIEW"
	case SystemTable:
		return "SYSTEM VIEW"
	}
	return "BASE TABLE"
}

// Format of a base table's files.
type Format string

const (
	Parquet Format = "parquet"
	CSV     Format = "csv"
)

// Table is an immutable snapshot of one table's metadata. A scan plans
// against the snapshot it bound to; a concurrent INSERT adds files to a new
// snapshot and never changes the files listed here.
type Table struct {
	Schema  string // database (schema) name
	Name    string
	Kind    TableKind
	Columns *arrow.Schema

	// BaseTable
	Format Format
	Files  []File
	CSV    CSVOptions

	// View
	ViewSQL string

	// SystemTable: produces all rows (small tables only).
	Rows func(ctx context.Context) ([]arrow.RecordBatch, error)

	Stats Stats
}

// File is one data file of a base table.
type File struct {
	Path      string
	Size      int64
	NumRows   int64      // -1 when unknown (CSV)
	RowGroups []RowGroup // Parquet only
}

// RowGroup carries Parquet row-group statistics for pruning and splits.
type RowGroup struct {
	Index   int
	NumRows int64
	// Per table column (same order as Table.Columns); nil entries mean no stats.
	ColumnStats []*ColumnStats
}

// ColumnStats are min/max/null-count statistics in the column's Arrow type.
type ColumnStats struct {
	Min, Max  scalar.Scalar // nil when unknown
	NullCount int64         // -1 when unknown
}

// Stats are table-level statistics for the optimizer (join order, broadcast).
type Stats struct {
	RowCount int64 // -1 when unknown
	Bytes    int64 // on-disk size, -1 when unknown
}

// CSVOptions describe how to read a CSV table.
type CSVOptions struct {
	Delimiter rune // default ','
	Header    bool
}

// Split is a unit of scan work: one file, optionally restricted to some of
// its row groups (nil = all). Scan partitions are lists of splits.
type Split struct {
	File      File
	RowGroups []int
}
