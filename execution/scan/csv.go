package scan

import (
	"context"
	stdcsv "encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/csv"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

// NewCSVScan streams CSV files (header row, ',' separated, empty field or
// \N = NULL) like NewParquetScan: projection, exact filters, limit. The
// projected columns are parsed as their out types; others are not converted.
func NewCSVScan(ctx context.Context, tc *execution.TaskContext, splits []catalog.Split, columns []int, out *arrow.Schema, filters []expr.Expr, limit int64) (execution.Stream, error) {
	if err := checkProjection(columns, out); err != nil {
		return nil, err
	}
	return &csvScan{mem: tc.Mem(), splits: splits, columns: columns, out: out, filters: filters, lim: limiter{left: limit}}, nil
}

type csvScan struct {
	mem     memory.Allocator
	splits  []catalog.Split
	columns []int
	out     *arrow.Schema
	filters []expr.Expr
	lim     limiter

	next     int
	f        *os.File
	r        *csv.Reader
	path     string
	rowsLeft int64 // no projected column: rows of the open file to emit
	closed   bool
}

func (s *csvScan) Schema() *arrow.Schema { return s.out }

func (s *csvScan) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if s.closed || s.lim.done() {
			s.closeFile()
			return nil, io.EOF
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var raw arrow.RecordBatch
		switch {
		case s.r != nil:
			if !s.r.Next() {
				err := s.r.Err()
				s.closeFile()
				if err != nil && !errors.Is(err, io.EOF) {
					return nil, qerr.Wrap(qerr.InvalidArgument, err, "read CSV file %s", s.path)
				}
				continue
			}
			b, err := conform(ctx, s.mem, s.r.RecordBatch(), s.columns, s.out)
			if err != nil {
				return nil, err
			}
			raw = b
		case s.rowsLeft > 0:
			n := min(s.rowsLeft, execution.BatchSize)
			s.rowsLeft -= n
			raw = array.NewRecordBatch(s.out, nil, n)
		case s.next < len(s.splits):
			if err := s.openFile(s.splits[s.next].File.Path); err != nil {
				return nil, err
			}
			s.next++
			continue
		default:
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

// openFile reads the header to learn the column count, then starts an
// Arrow CSV reader that parses projected columns as their output types.
func (s *csvScan) openFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return qerr.Wrap(qerr.Internal, err, "open %s", path)
	}
	hr := stdcsv.NewReader(f)
	header, err := hr.Read()
	if err != nil {
		f.Close()
		return qerr.Wrap(qerr.InvalidArgument, err, "read CSV header of %s", path)
	}
	if len(s.columns) == 0 {
		// Only the row count is needed.
		n, err := countRows(hr)
		f.Close()
		if err != nil {
			return qerr.Wrap(qerr.InvalidArgument, err, "read CSV file %s", path)
		}
		s.rowsLeft = n
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return qerr.Wrap(qerr.Internal, err, "read %s", path)
	}
	fields := make([]arrow.Field, len(header))
	for i, h := range header {
		fields[i] = arrow.Field{Name: h, Type: arrow.BinaryTypes.String, Nullable: true}
	}
	for i, c := range s.columns {
		if c < 0 || c >= len(fields) {
			f.Close()
			return qerr.New(qerr.Internal, "scan: column %d out of range in %s (%d columns)", c, path, len(fields))
		}
		fields[c].Type = s.out.Field(i).Type
	}
	s.f, s.path = f, path
	s.r = csv.NewReader(f, arrow.NewSchema(fields, nil),
		csv.WithHeader(true),
		csv.WithNullReader(true, catalog.CSVNullValues...),
		csv.WithChunk(execution.BatchSize),
		csv.WithAllocator(s.mem))
	return nil
}

func countRows(r *stdcsv.Reader) (int64, error) {
	r.ReuseRecord = true
	var n int64
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, err
		}
		n++
	}
}

func (s *csvScan) closeFile() {
	if s.r != nil {
		s.r.Release()
		s.r = nil
	}
	if s.f != nil {
		s.f.Close()
		s.f = nil
	}
}

func (s *csvScan) Close() error {
	s.closeFile()
	s.closed = true
	return nil
}

// NewMemoryScan streams the rows of a system table (Table.Rows), projected.
func NewMemoryScan(ctx context.Context, t *catalog.Table, columns []int, out *arrow.Schema) (execution.Stream, error) {
	if err := checkProjection(columns, out); err != nil {
		return nil, err
	}
	if t.Rows == nil {
		return nil, qerr.New(qerr.Internal, "table %s.%s has no row source", t.Schema, t.Name)
	}
	batches, err := t.Rows(ctx)
	if err != nil {
		return nil, fmt.Errorf("read %s.%s: %w", t.Schema, t.Name, err)
	}
	return &memoryScan{batches: batches, columns: columns, out: out}, nil
}

type memoryScan struct {
	batches []arrow.RecordBatch
	columns []int
	out     *arrow.Schema
}

func (s *memoryScan) Schema() *arrow.Schema { return s.out }

func (s *memoryScan) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for len(s.batches) > 0 {
		b := s.batches[0]
		s.batches = s.batches[1:]
		if b.NumRows() == 0 {
			b.Release()
			continue
		}
		for _, c := range s.columns {
			if c < 0 || c >= int(b.NumCols()) {
				b.Release()
				return nil, qerr.New(qerr.Internal, "scan: column %d out of range (%d columns)", c, b.NumCols())
			}
		}
		out, err := conform(ctx, memory.DefaultAllocator, b, s.columns, s.out)
		b.Release()
		return out, err
	}
	return nil, io.EOF
}

func (s *memoryScan) Close() error {
	for _, b := range s.batches {
		b.Release()
	}
	s.batches = nil
	return nil
}
