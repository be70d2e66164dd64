package catalog

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
)

// csvSampleRows is how many data rows type inference looks at.
const csvSampleRows = 1000

// CSVNullValues are the field values a CSV scan reads as NULL: the empty
// field and MySQL's \N.
var CSVNullValues = []string{"", `\N`}

// csvKind is a point of the inference lattice; a column starts at kNull and
// only ever widens.
type csvKind int

const (
	kNull csvKind = iota
	kBool
	kInt
	kFloat
	kDate
	kTimestamp
	kString
)

func (k csvKind) arrowType() arrow.DataType {
	switch k {
	case kBool:
		return arrow.FixedWidthTypes.Boolean
	case kInt:
		return arrow.PrimitiveTypes.Int64
	case kFloat:
		return arrow.PrimitiveTypes.Float64
	case kDate:
		return arrow.FixedWidthTypes.Date32
	case kTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}
	}
	return arrow.BinaryTypes.String
}

// widen returns the narrowest kind holding values of both kinds.
func widen(a, b csvKind) csvKind {
	switch {
	case a == b || b == kNull:
		return a
	case a == kNull:
		return b
	case (a == kInt && b == kFloat) || (a == kFloat && b == kInt):
		return kFloat
	case (a == kDate && b == kTimestamp) || (a == kTimestamp && b == kDate):
		return kTimestamp
	}
	return kString
}

var timestampLayouts = []string{"2006-01-02 15:04:05", "2006-01-02 15:04:05.999999999", "2006-01-02T15:04:05", "2006-01-02T15:04:05.999999999"}

func kindOfValue(v string) csvKind {
	if v == "" || v == `\N` {
		return kNull
	}
	if v == "true" || v == "false" {
		return kBool
	}
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return kInt
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil && !strings.ContainsAny(v, "xXpP") && !isFloatWord(v) {
		return kFloat
	}
	if len(v) == 10 {
		if _, err := time.Parse("2006-01-02", v); err == nil {
			return kDate
		}
	}
	for _, l := range timestampLayouts {
		if _, err := time.Parse(l, v); err == nil {
			return kTimestamp
		}
	}
	return kString
}

// isFloatWord rejects strings ParseFloat accepts but SQL data means as text.
func isFloatWord(v string) bool {
	l := strings.ToLower(strings.TrimLeft(v, "+-"))
	return l == "inf" || l == "infinity" || l == "nan"
}

// inferCSV reads the header and a sample of rows of a CSV file and returns
// its column names and inferred kinds.
func inferCSV(path string, delim rune) ([]string, []csvKind, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("open csv file %s: %w", path, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = delim
	r.ReuseRecord = true
	header, err := r.Read()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil, fmt.Errorf("csv file %s has no header row", path)
		}
		return nil, nil, fmt.Errorf("read csv header of %s: %w", path, err)
	}
	names := make([]string, len(header))
	seen := map[string]bool{}
	for i, h := range header {
		n := strings.TrimSpace(h)
		if n == "" {
			n = fmt.Sprintf("column_%d", i+1)
		}
		if seen[strings.ToLower(n)] {
			return nil, nil, fmt.Errorf("csv file %s: duplicate column name %q", path, n)
		}
		seen[strings.ToLower(n)] = true
		names[i] = n
	}
	kinds := make([]csvKind, len(names))
	for row := 0; row < csvSampleRows; row++ {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, fmt.Errorf("read csv file %s: %w", path, err)
		}
		for i, v := range rec {
			kinds[i] = widen(kinds[i], kindOfValue(v))
		}
	}
	return names, kinds, nil
}
