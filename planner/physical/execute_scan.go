package physical

import (
	"context"

	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/scan"
	"github.com/quiverdb/quiver/qerr"
)

// Execute reads the splits of one partition; a partition without splits
// (more partitions than splits) is an empty stream.
func (n *Scan) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	tc = tc.Operator(n)
	var splits []catalog.Split
	if partition >= 0 && partition < len(n.Splits) {
		splits = n.Splits[partition]
	}
	var s execution.Stream
	var err error
	switch n.Table.Format {
	case catalog.Parquet:
		s, err = scan.NewParquetScan(ctx, tc, splits, n.Columns, n.Out, n.Filters, n.Limit)
	case catalog.CSV:
		s, err = scan.NewCSVScan(ctx, tc, splits, n.Columns, n.Out, n.Filters, n.Limit)
	default:
		return nil, qerr.New(qerr.Internal, "scan: table %s.%s has unknown format %q", n.Table.Schema, n.Table.Name, n.Table.Format)
	}
	if err != nil {
		return nil, err
	}
	return instrumentScan(s, n, tc), nil
}

// Execute reads a system table's rows; only partition 0 has any.
func (n *MemoryScan) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	tc = tc.Operator(n)
	if partition != 0 {
		return instrumentScan(execution.NewEmptyStream(n.Out), n, tc), nil
	}
	s, err := scan.NewMemoryScan(ctx, n.Table, n.Columns, n.Out)
	if err != nil {
		return nil, err
	}
	return instrumentScan(s, n, tc), nil
}

func instrumentScan(s execution.Stream, key any, tc *execution.TaskContext) execution.Stream {
	if tc == nil {
		return execution.Instrument(s, key, nil, nil)
	}
	return execution.InstrumentLogged(s, key, tc.Metrics, tc.Alloc, tc.Log)
}
