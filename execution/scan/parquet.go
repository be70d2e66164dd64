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
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
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
	fields []int // distinct table columns read, in first-use order
	pick   []int // output column → index in fields

	// The open row group: rgLeft rows still to emit (batches without
	// columns when none is needed, as for COUNT(*)); srcs says where each
	// of fields comes from.
	rgLeft int64
	rr     pqarrow.RecordReader
	srcs   []colSource
	cols   []arrow.Array
	closed bool

	rowGroupsRead, rowGroupsPruned int
}

// colSource is a column of the open row group: read by a direct reader
// (decimalReader, binaryReader, fixedReader), or column pq of the pqarrow
// batches.
type colSource struct {
	pq  int
	dec columnReader
}

type columnReader interface {
	read(n int) (arrow.Array, error)
	close()
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
		case s.rgLeft > 0:
			b, err := s.readBatch(ctx)
			if err != nil {
				return nil, err
			}
			raw = b
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

// mapColumns lists the distinct table columns to read and where each
// output column comes from.
func (s *parquetScan) mapColumns() error {
	nf := len(s.fr.Manifest.Fields)
	s.fields, s.pick = s.fields[:0], s.pick[:0]
	pos := map[int]int{} // table column → index in fields
	for _, c := range s.columns {
		if c < 0 || c >= nf {
			return qerr.New(qerr.Internal, "scan: column %d out of range in %s (%d columns)", c, s.split.File.Path, nf)
		}
		p, ok := pos[c]
		if !ok {
			p = len(s.fields)
			pos[c] = p
			s.fields = append(s.fields, c)
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

// startRowGroup opens a reader per column of the next row group: flat
// decimal, string and fixed-width columns through direct readers, the rest
// through one pqarrow record reader.
func (s *parquetScan) startRowGroup(ctx context.Context) error {
	rg := s.work[0]
	s.work = s.work[1:]
	s.rowGroupsRead++
	rgr := s.pf.RowGroup(rg)
	s.rgLeft = rgr.NumRows()
	if len(s.fields) == 0 || s.rgLeft <= 0 {
		s.rgLeft = max(s.rgLeft, 0)
		return nil
	}
	fields := s.fr.Manifest.Fields
	pschema := s.pf.MetaData().Schema
	var leaves []int
	npq := 0 // columns of the pqarrow batches
	for _, c := range s.fields {
		f := fields[c]
		if dec, err := s.directSource(rgr, pschema, f); err != nil {
			s.closeRowGroup()
			return qerr.Wrap(qerr.Internal, err, "read %s row group %d", s.split.File.Path, rg)
		} else if dec != nil {
			s.srcs = append(s.srcs, colSource{pq: -1, dec: dec})
			continue
		}
		s.srcs = append(s.srcs, colSource{pq: npq})
		npq++
		leaves = appendLeaves(leaves, f)
	}
	if len(leaves) > 0 {
		rr, err := s.fr.GetRecordReader(ctx, leaves, []int{rg})
		if err != nil {
			s.closeRowGroup()
			return qerr.Wrap(qerr.Internal, err, "read %s row group %d", s.split.File.Path, rg)
		}
		s.rr = rr
	}
	return nil
}

// directSource returns a direct reader for f in this row group when one
// decodes it into the type pqarrow gives (nil otherwise).
func (s *parquetScan) directSource(rgr *file.RowGroupReader, pschema *schema.Schema, f pqarrow.SchemaField) (columnReader, error) {
	if len(f.Children) != 0 || f.ColIndex < 0 || f.ColIndex >= pschema.NumColumns() {
		return nil, nil
	}
	cc, err := rgr.MetaData().ColumnChunk(f.ColIndex)
	if err != nil {
		return nil, err
	}
	descr := pschema.Column(f.ColIndex)
	var open func(file.PageReader) columnReader
	if dec, ok := decimalType(descr, cc); ok && arrow.TypeEqual(dec, f.Field.Type) {
		open = func(p file.PageReader) columnReader { return newDecimalReader(s.mem, p, descr, dec) }
	} else if binaryChunk(descr, cc, f.Field.Type) {
		open = func(p file.PageReader) columnReader { return newBinaryReader(s.mem, p, descr, f.Field.Type) }
	} else if fixedChunk(descr, cc, f.Field.Type) {
		open = func(p file.PageReader) columnReader { return newFixedReader(s.mem, p, descr, f.Field.Type) }
	} else {
		return nil, nil
	}
	pages, err := rgr.GetColumnPageReader(f.ColIndex)
	if err != nil {
		return nil, err
	}
	return open(pages), nil
}

// readBatch reads the next batch of the open row group.
func (s *parquetScan) readBatch(ctx context.Context) (arrow.RecordBatch, error) {
	n := min(s.rgLeft, execution.BatchSize)
	var pb arrow.RecordBatch
	if s.rr != nil {
		if !s.rr.Next() {
			err := s.rr.Err()
			if err == nil || err == io.EOF {
				err = fmt.Errorf("row group ended %d rows early", s.rgLeft)
			}
			s.closeRowGroup()
			return nil, fmt.Errorf("read %s: %w", s.split.File.Path, err)
		}
		pb = s.rr.RecordBatch()
		if pb.NumRows() < 1 || pb.NumRows() > s.rgLeft {
			s.closeRowGroup()
			return nil, qerr.New(qerr.Internal, "read %s: batch of %d rows with %d left in the row group", s.split.File.Path, pb.NumRows(), s.rgLeft)
		}
		n = pb.NumRows()
	}
	s.cols = s.cols[:0]
	for _, src := range s.srcs {
		if src.dec == nil {
			s.cols = append(s.cols, pb.Column(src.pq))
			continue
		}
		a, err := src.dec.read(int(n))
		if err != nil {
			releaseDirect(s.cols, s.srcs)
			s.closeRowGroup()
			return nil, qerr.Wrap(qerr.Internal, err, "read %s", s.split.File.Path)
		}
		s.cols = append(s.cols, a)
	}
	b, err := conformCols(ctx, s.mem, s.cols, n, s.pick, s.out)
	releaseDirect(s.cols, s.srcs)
	if err != nil {
		s.closeRowGroup()
		return nil, err
	}
	s.rgLeft -= n
	if s.rgLeft == 0 {
		s.closeRowGroup()
	}
	return b, nil
}

// releaseDirect releases the arrays of cols read by direct readers (the
// others belong to the pqarrow batch).
func releaseDirect(cols []arrow.Array, srcs []colSource) {
	for i, c := range cols {
		if srcs[i].dec != nil {
			c.Release()
		}
	}
}

func (s *parquetScan) closeRowGroup() {
	if s.rr != nil {
		s.rr.Release()
		s.rr = nil
	}
	for _, c := range s.srcs {
		if c.dec != nil {
			c.dec.close()
		}
	}
	s.srcs = s.srcs[:0]
	s.rgLeft = 0
}

func (s *parquetScan) closeFile() {
	s.closeRowGroup()
	if s.pf != nil {
		s.pf.Close()
		s.pf, s.fr = nil, nil
	}
	s.work = s.work[:0]
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
