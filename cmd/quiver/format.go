package main

import (
	"bufio"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// printer writes a statement's result in one output format.
type printer interface {
	begin(schema *arrow.Schema) error
	batch(b arrow.RecordBatch) error
	end(rows int64, elapsed time.Duration) error
	update(rows int64, elapsed time.Duration) error
}

func newPrinter(format string, w io.Writer) (printer, error) {
	switch format {
	case "table":
		return &tablePrinter{w: w}, nil
	case "csv":
		return &csvPrinter{w: csv.NewWriter(w)}, nil
	case "json":
		return &jsonPrinter{w: bufio.NewWriter(w)}, nil
	}
	return nil, fmt.Errorf("--format: %q is not table, csv or json", format)
}

// cellString renders one value as text; NULL for nulls.
func cellString(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	return valueString(a, i)
}

// valueString renders a non-null value as the mysql client does: decimals
// at their scale (2.0000, not 2), DATETIME as "2024-01-02 03:04:05[.ffffff]",
// binary as 0x hex.
func valueString(a arrow.Array, i int) string {
	switch c := a.(type) {
	case *array.Decimal128:
		return c.Value(i).ToString(c.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Timestamp:
		unit := c.DataType().(*arrow.TimestampType).Unit
		t := c.Value(i).ToTime(unit).UTC()
		if t.Nanosecond() == 0 {
			return t.Format("2006-01-02 15:04:05")
		}
		return t.Format("2006-01-02 15:04:05.000000")
	case *array.Binary:
		return "0x" + hex.EncodeToString(c.Value(i))
	}
	return a.ValueStr(i)
}

// tablePrinter buffers the rows to align the columns, like the mysql client.
type tablePrinter struct {
	w      io.Writer
	header []string
	rows   [][]string
}

func (p *tablePrinter) begin(s *arrow.Schema) error {
	p.header, p.rows = p.header[:0], p.rows[:0]
	for _, f := range s.Fields() {
		p.header = append(p.header, f.Name)
	}
	return nil
}

func (p *tablePrinter) batch(b arrow.RecordBatch) error {
	for r := 0; r < int(b.NumRows()); r++ {
		row := make([]string, b.NumCols())
		for c := range row {
			row[c] = cellString(b.Column(c), r)
		}
		p.rows = append(p.rows, row)
	}
	return nil
}

func (p *tablePrinter) end(rows int64, elapsed time.Duration) error {
	widths := make([]int, len(p.header))
	for c, h := range p.header {
		widths[c] = utf8.RuneCountInString(h)
	}
	for _, row := range p.rows {
		for c, v := range row {
			widths[c] = max(widths[c], utf8.RuneCountInString(v))
		}
	}
	var sb strings.Builder
	sep := func() {
		sb.WriteByte('+')
		for _, w := range widths {
			sb.WriteString(strings.Repeat("-", w+2))
			sb.WriteByte('+')
		}
		sb.WriteByte('\n')
	}
	line := func(cells []string) {
		sb.WriteByte('|')
		for c, v := range cells {
			sb.WriteByte(' ')
			sb.WriteString(v)
			sb.WriteString(strings.Repeat(" ", widths[c]-utf8.RuneCountInString(v)+1))
			sb.WriteByte('|')
		}
		sb.WriteByte('\n')
	}
	if len(p.header) > 0 {
		sep()
		line(p.header)
		sep()
		for _, row := range p.rows {
			line(row)
		}
		sep()
	}
	noun := "rows"
	if rows == 1 {
		noun = "row"
	}
	fmt.Fprintf(&sb, "%d %s in set (%.3f sec)\n\n", rows, noun, elapsed.Seconds())
	_, err := io.WriteString(p.w, sb.String())
	p.rows = nil
	return err
}

func (p *tablePrinter) update(rows int64, elapsed time.Duration) error {
	_, err := fmt.Fprintf(p.w, "Query OK, %d rows affected (%.3f sec)\n\n", rows, elapsed.Seconds())
	return err
}

// csvPrinter writes a header line and RFC 4180 rows; NULL is an empty field.
type csvPrinter struct{ w *csv.Writer }

func (p *csvPrinter) begin(s *arrow.Schema) error {
	h := make([]string, s.NumFields())
	for i, f := range s.Fields() {
		h[i] = f.Name
	}
	return p.w.Write(h)
}

func (p *csvPrinter) batch(b arrow.RecordBatch) error {
	row := make([]string, b.NumCols())
	for r := 0; r < int(b.NumRows()); r++ {
		for c := range row {
			if b.Column(c).IsNull(r) {
				row[c] = ""
			} else {
				row[c] = valueString(b.Column(c), r)
			}
		}
		if err := p.w.Write(row); err != nil {
			return err
		}
	}
	return nil
}

func (p *csvPrinter) end(int64, time.Duration) error { p.w.Flush(); return p.w.Error() }

func (p *csvPrinter) update(int64, time.Duration) error { return nil }

// jsonPrinter writes one JSON object per row (JSON lines).
type jsonPrinter struct {
	w      *bufio.Writer
	fields []string
}

func (p *jsonPrinter) begin(s *arrow.Schema) error {
	p.fields = p.fields[:0]
	for _, f := range s.Fields() {
		p.fields = append(p.fields, f.Name)
	}
	return nil
}

func (p *jsonPrinter) batch(b arrow.RecordBatch) error {
	for r := 0; r < int(b.NumRows()); r++ {
		p.w.WriteByte('{')
		for c, name := range p.fields {
			if c > 0 {
				p.w.WriteByte(',')
			}
			k, _ := json.Marshal(name)
			v, err := json.Marshal(b.Column(c).GetOneForMarshal(r))
			if err != nil {
				return err
			}
			p.w.Write(k)
			p.w.WriteByte(':')
			p.w.Write(v)
		}
		p.w.WriteString("}\n")
	}
	return nil
}

func (p *jsonPrinter) end(int64, time.Duration) error { return p.w.Flush() }

func (p *jsonPrinter) update(rows int64, _ time.Duration) error {
	fmt.Fprintf(p.w, "{\"rows_affected\":%d}\n", rows)
	return p.w.Flush()
}
