// Package scan reads table files (Parquet, CSV, in-memory system tables) as
// streams of record batches — with projection, row-group pruning, exact
// filtering and limits — and writes query results to CSV/Parquet files
// (SELECT ... INTO OUTFILE).
package scan

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

// readBufferSize is the buffered-stream read size per column chunk.
const readBufferSize = 1 << 20

// NewParquetScan streams the given splits of a Parquet table: columns are
// table column indices (the projection, in output order), out the output
// schema (the table's types for those columns), filters are applied exactly
// over the output columns, and at most limit rows (-1 = all) are returned.
// Row groups whose statistics rule the filters out are never read.
func NewParquetScan(ctx context.Context, tc *execution.TaskContext, splits []catalog.Split, columns []int, out *arrow.Schema, filters []expr.Expr, limit int64) (execution.Stream, error) {
	if err := checkProjection(columns, out); err != nil {
		return nil, err
	}
	return &parquetScan{
		mem:     tc.Mem(),
		splits:  splits,
		columns: columns,
		out:     out,
		filters: filters,
		preds:   predicatesOf(filters),
		lim:     limiter{left: limit},
	}, nil
}

func checkProjection(columns []int, out *arrow.Schema) error {
	if out == nil || len(columns) != out.NumFields() {
		return qerr.New(qerr.Internal, "scan: %d projected columns for an output schema of %v", len(columns), out)
	}
	return nil
}

type parquetScan struct {
	mem     memory.Allocator
	splits  []catalog.Split
	columns []int
	out     *arrow.Schema
	filters []expr.Expr
	preds   []pred
	lim     limiter

	next   int   // next split to open
	work   []int // row groups of the open file still to read
	split  catalog.Split
	pf     *file.Reader
	fr     *pqarrow.FileReader
	leaves []int // Parquet leaf columns to read
	pick   []int // output column → column of the reader's batches
	rr     pqarrow.RecordReader
	// rowsOnly: no column is needed (COUNT(*)): emit empty-column batches.
	rowsLeft int64
	closed   bool

	rowGroupsRead, rowGroupsPruned int
}

func (s *parquetScan) Schema() *arrow.Schema { return s.out }

func (s *parquetScan) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if s.closed || s.lim.done() {
			s.release()
			return nil, io.EOF
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var raw arrow.RecordBatch
		switch {
		case s.rr != nil:
			if !s.rr.Next() {
				err := s.rr.Err()
				s.rr.Release()
				s.rr = nil
				if err != nil && err != io.EOF {
					return nil, fmt.Errorf("read %s: %w", s.split.File.Path, err)
				}
				continue
			}
			b, err := conform(ctx, s.mem, s.rr.RecordBatch(), s.pick, s.out)
			if err != nil {
				return nil, err
			}
			raw = b
		case s.rowsLeft > 0:
			n := min(s.rowsLeft, execution.BatchSize)
			s.rowsLeft -= n
			raw = array.NewRecordBatch(s.out, nil, n)
		case len(s.work) > 0:
			if err := s.startRowGroup(ctx); err != nil {
				return nil, err
			}
			continue
		case s.pf != nil:
			s.closeFile()
			continue
		case s.next < len(s.splits):
			if err := s.openSplit(s.splits[s.next]); err != nil {
				return nil, err
			}
			s.next++
			continue
		default:
			s.release()
			return nil, io.EOF
		}
		b, err := applyFilters(ctx, s.mem, raw, s.filters)
		if err != nil {
			return nil, err
		}
		if b != nil {
			return s.lim.take(b), nil
		}
	}
}

// openSplit opens a file and lists the row groups of the split that its
// statistics do not rule out.
func (s *parquetScan) openSplit(sp catalog.Split) error {
	props := parquet.NewReaderProperties(s.mem)
	props.BufferedStreamEnabled = true
	props.BufferSize = readBufferSize
	pf, err := file.OpenParquetFile(sp.File.Path, false, file.WithReadProps(props))
	if err != nil {
		return qerr.Wrap(qerr.Internal, err, "open %s", sp.File.Path)
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{Parallel: false, BatchSize: execution.BatchSize}, s.mem)
	if err != nil {
		pf.Close()
		return qerr.Wrap(qerr.Internal, err, "open %s", sp.File.Path)
	}
	s.pf, s.fr, s.split = pf, fr, sp
	if err := s.mapColumns(); err != nil {
		s.closeFile()
		return err
	}
	rgs := sp.RowGroups
	if rgs == nil {
		rgs = make([]int, pf.NumRowGroups())
		for i := range rgs {
			rgs[i] = i
		}
	}
	stats := map[int]catalog.RowGroup{}
	for _, rg := range sp.File.RowGroups {
		stats[rg.Index] = rg
	}
	s.work = s.work[:0]
	for _, rg := range rgs {
		if rg < 0 || rg >= pf.NumRowGroups() {
			s.closeFile()
			return qerr.New(qerr.Internal, "scan: row group %d out of range in %s (%d row groups)", rg, sp.File.Path, pf.NumRowGroups())
		}
		if st, ok := stats[rg]; ok && len(s.preds) > 0 && !rowGroupMayMatch(st, s.columns, s.preds) {
			s.rowGroupsPruned++
			continue
		}
		s.work = append(s.work, rg)
	}
	return nil
}

// mapColumns finds the Parquet leaves of the projected table columns and
// where each output column lands in the reader's batches.
func (s *parquetScan) mapColumns() error {
	fields := s.fr.Manifest.Fields
	s.leaves, s.pick = s.leaves[:0], s.pick[:0]
	pos := map[int]int{} // table column → position in reader batches
	for _, c := range s.columns {
		if c < 0 || c >= len(fields) {
			return qerr.New(qerr.Internal, "scan: column %d out of range in %s (%d columns)", c, s.split.File.Path, len(fields))
		}
		p, ok := pos[c]
		if !ok {
			p = len(pos)
			pos[c] = p
			s.leaves = appendLeaves(s.leaves, fields[c])
		}
		s.pick = append(s.pick, p)
	}
	return nil
}

func appendLeaves(dst []int, f pqarrow.SchemaField) []int {
	if len(f.Children) == 0 {
		return append(dst, f.ColIndex)
	}
	for _, ch := range f.Children {
		dst = appendLeaves(dst, ch)
	}
	return dst
}

func (s *parquetScan) startRowGroup(ctx context.Context) error {
	rg := s.work[0]
	s.work = s.work[1:]
	s.rowGroupsRead++
	if len(s.columns) == 0 {
		s.rowsLeft = s.pf.MetaData().RowGroup(rg).NumRows()
		return nil
	}
	rr, err := s.fr.GetRecordReader(ctx, s.leaves, []int{rg})
	if err != nil {
		return qerr.Wrap(qerr.Internal, err, "read %s row group %d", s.split.File.Path, rg)
	}
	s.rr = rr
	return nil
}

func (s *parquetScan) closeFile() {
	if s.rr != nil {
		s.rr.Release()
		s.rr = nil
	}
	if s.pf != nil {
		s.pf.Close()
		s.pf, s.fr = nil, nil
	}
	s.work = s.work[:0]
	s.rowsLeft = 0
}

func (s *parquetScan) release() {
	s.closeFile()
	s.next = len(s.splits)
}

func (s *parquetScan) Close() error {
	s.release()
	s.closed = true
	return nil
}
