package scan

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// CSVWriteOptions are the FIELDS/LINES clauses of SELECT ... INTO OUTFILE.
// Empty terminators mean MySQL's defaults: fields end with a tab, lines
// with a newline; the escape character is always '\'.
type CSVWriteOptions struct {
	FieldsTerm string
	Enclosed   string // one character or empty
	LinesTerm  string
	// OptionallyEnclosed encloses only string values (FIELDS OPTIONALLY ENCLOSED BY).
	OptionallyEnclosed bool
}

// WriteCSV writes every batch of s to a new file at path in MySQL's
// INTO OUTFILE format (no header, NULL as \N) and returns the rows written.
// The file appears atomically; an existing file is never overwritten. s is
// read to the end but not closed.
func WriteCSV(ctx context.Context, s execution.Stream, path string, opts CSVWriteOptions) (int64, error) {
	if opts.FieldsTerm == "" {
		opts.FieldsTerm = "\t"
	}
	if opts.LinesTerm == "" {
		opts.LinesTerm = "\n"
	}
	return writeAtomically(path, func(f *os.File) (int64, error) {
		w := bufio.NewWriterSize(f, 1<<20)
		var rows int64
		var buf []byte
		for {
			b, err := s.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				return rows, err
			}
			fmts := make([]valueFormatter, b.NumCols())
			for i, c := range b.Columns() {
				if fmts[i], err = formatterFor(c); err != nil {
					b.Release()
					return rows, err
				}
			}
			for r := 0; r < int(b.NumRows()); r++ {
				buf = buf[:0]
				for i, c := range b.Columns() {
					if i > 0 {
						buf = append(buf, opts.FieldsTerm...)
					}
					if fmts[i] == nil || c.IsNull(r) {
						buf = append(buf, `\N`...)
						continue
					}
					enclose := opts.Enclosed != "" && (!opts.OptionallyEnclosed || isStringType(c.DataType()))
					if enclose {
						buf = append(buf, opts.Enclosed...)
					}
					start := len(buf)
					buf = fmts[i](buf, r)
					buf = escapeField(buf, start, opts)
					if enclose {
						buf = append(buf, opts.Enclosed...)
					}
				}
				buf = append(buf, opts.LinesTerm...)
				if _, err := w.Write(buf); err != nil {
					b.Release()
					return rows, err
				}
			}
			rows += b.NumRows()
			b.Release()
		}
		return rows, w.Flush()
	})
}

// escapeField escapes, in buf[start:], the escape character, NUL and the
// first characters of the terminators and the enclosure (MySQL's rules).
func escapeField(buf []byte, start int, opts CSVWriteOptions) []byte {
	special := func(c byte) bool {
		return c == '\\' || c == 0 || c == opts.FieldsTerm[0] || c == opts.LinesTerm[0] ||
			(opts.Enclosed != "" && c == opts.Enclosed[0])
	}
	need := false
	for _, c := range buf[start:] {
		if special(c) {
			need = true
			break
		}
	}
	if !need {
		return buf
	}
	field := append([]byte(nil), buf[start:]...)
	buf = buf[:start]
	for _, c := range field {
		switch {
		case c == 0:
			buf = append(buf, '\\', '0')
		case special(c):
			buf = append(buf, '\\', c)
		default:
			buf = append(buf, c)
		}
	}
	return buf
}

func isStringType(dt arrow.DataType) bool {
	switch dt.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY, arrow.DATE32, arrow.TIMESTAMP:
		return true
	}
	return false
}

// valueFormatter appends the text of row i (not NULL) of one column.
type valueFormatter func(buf []byte, i int) []byte

// formatterFor picks the MySQL text form of a column's values once per
// batch; nil for a NULL-typed column.
func formatterFor(c arrow.Array) (valueFormatter, error) {
	switch a := c.(type) {
	case *array.Null:
		// No bitmap, so IsNull is false: a nil formatter marks every row NULL.
		return nil, nil
	case *array.Boolean:
		return func(b []byte, i int) []byte {
			if a.Value(i) {
				return append(b, '1')
			}
			return append(b, '0')
		}, nil
	case *array.Int8:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(a.Value(i)), 10) }, nil
	case *array.Int16:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(a.Value(i)), 10) }, nil
	case *array.Int32:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, int64(a.Value(i)), 10) }, nil
	case *array.Int64:
		return func(b []byte, i int) []byte { return strconv.AppendInt(b, a.Value(i), 10) }, nil
	case *array.Uint8:
		return func(b []byte, i int) []byte { return strconv.AppendUint(b, uint64(a.Value(i)), 10) }, nil
	case *array.Uint16:
		return func(b []byte, i int) []byte { return strconv.AppendUint(b, uint64(a.Value(i)), 10) }, nil
	case *array.Uint32:
		return func(b []byte, i int) []byte { return strconv.AppendUint(b, uint64(a.Value(i)), 10) }, nil
	case *array.Uint64:
		return func(b []byte, i int) []byte { return strconv.AppendUint(b, a.Value(i), 10) }, nil
	case *array.Float32:
		return func(b []byte, i int) []byte { return appendFloat(b, float64(a.Value(i)), 32) }, nil
	case *array.Float64:
		return func(b []byte, i int) []byte { return appendFloat(b, a.Value(i), 64) }, nil
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		return func(b []byte, i int) []byte { return append(b, a.Value(i).ToString(scale)...) }, nil
	case *array.String:
		return func(b []byte, i int) []byte { return append(b, a.Value(i)...) }, nil
	case *array.LargeString:
		return func(b []byte, i int) []byte { return append(b, a.Value(i)...) }, nil
	case *array.Binary:
		return func(b []byte, i int) []byte { return append(b, a.Value(i)...) }, nil
	case *array.LargeBinary:
		return func(b []byte, i int) []byte { return append(b, a.Value(i)...) }, nil
	case *array.Date32:
		return func(b []byte, i int) []byte { return a.Value(i).ToTime().AppendFormat(b, "2006-01-02") }, nil
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return func(b []byte, i int) []byte { return appendDatetime(b, a.Value(i).ToTime(unit)) }, nil
	case *array.Time64:
		unit := a.DataType().(*arrow.Time64Type).Unit
		return func(b []byte, i int) []byte { return appendDuration(b, time.Duration(a.Value(i))*unit.Multiplier()) }, nil
	}
	return nil, qerr.New(qerr.Unimplemented, "INTO OUTFILE: cannot write a column of type %s", c.DataType())
}

func appendFloat(b []byte, f float64, bits int) []byte {
	switch {
	case math.IsInf(f, 1):
		return append(b, "inf"...)
	case math.IsInf(f, -1):
		return append(b, "-inf"...)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bits)
}

// appendDatetime writes MySQL DATETIME text, with microseconds when set.
func appendDatetime(b []byte, t time.Time) []byte {
	b = t.UTC().AppendFormat(b, "2006-01-02 15:04:05")
	if us := t.Nanosecond() / 1000; us != 0 {
		b = append(b, '.')
		b = append(b, fmt.Sprintf("%06d", us)...)
	}
	return b
}

func appendDuration(b []byte, d time.Duration) []byte {
	if d < 0 {
		b = append(b, '-')
		d = -d
	}
	h, m, s := int64(d/time.Hour), int64(d%time.Hour/time.Minute), int64(d%time.Minute/time.Second)
	b = append(b, fmt.Sprintf("%02d:%02d:%02d", h, m, s)...)
	if us := int64(d%time.Second) / 1000; us != 0 {
		b = append(b, fmt.Sprintf(".%06d", us)...)
	}
	return b
}

// WriteParquet writes every batch of s to a new Parquet file at path (the
// catalog's writer settings, Arrow schema stored) and returns the rows
// written; atomic and never overwriting, like WriteCSV. s is not closed.
func WriteParquet(ctx context.Context, s execution.Stream, path string) (int64, error) {
	in := s.Schema()
	fields := make([]arrow.Field, in.NumFields())
	for i, f := range in.Fields() {
		fields[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: true}
	}
	ws := arrow.NewSchema(fields, nil)
	return writeAtomically(path, func(f *os.File) (int64, error) {
		fw, err := pqarrow.NewFileWriter(ws, struct{ io.Writer }{f}, catalog.ParquetWriterProperties(),
			pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			return 0, qerr.Wrap(qerr.InvalidArgument, err, "INTO OUTFILE")
		}
		var rows int64
		for {
			b, err := s.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				fw.Close()
				return rows, err
			}
			rb := array.NewRecordBatch(ws, b.Columns(), b.NumRows())
			err = fw.WriteBuffered(rb)
			rows += b.NumRows()
			rb.Release()
			b.Release()
			if err != nil {
				fw.Close()
				return rows, fmt.Errorf("write parquet: %w", err)
			}
		}
		return rows, fw.Close()
	})
}

// writeAtomically fills a hidden temporary file next to path and then links
// it into place, failing if path exists (MySQL never overwrites an OUTFILE).
func writeAtomically(path string, fill func(*os.File) (int64, error)) (int64, error) {
	exists := func() error { return qerr.New(qerr.AlreadyExists, "File '%s' already exists", path) }
	if _, err := os.Lstat(path); err == nil {
		return 0, exists()
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return 0, qerr.Wrap(qerr.InvalidArgument, err, "Can't create/write to file '%s'", path)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	rows, err := fill(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}
	// Link (not rename) so that a file created meanwhile is not replaced.
	if err := os.Link(tmp, path); err != nil {
		if errors.Is(err, os.ErrExist) {
			return 0, exists()
		}
		return 0, qerr.Wrap(qerr.InvalidArgument, err, "Can't create/write to file '%s'", path)
	}
	return rows, nil
}
