package slt

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// FormatValue renders row i of a the way expected results are written (see
// the package comment).
func FormatValue(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch c := a.(type) {
	case *array.Boolean:
		if c.Value(i) {
			return "1"
		}
		return "0"
	case *array.Float32:
		return strconv.FormatFloat(float64(c.Value(i)), 'f', 3, 32)
	case *array.Float64:
		return strconv.FormatFloat(c.Value(i), 'f', 3, 64)
	case *array.String:
		return text(c.Value(i))
	case *array.LargeString:
		return text(c.Value(i))
	case *array.StringView:
		return text(c.Value(i))
	case *array.Binary:
		return text(string(c.Value(i)))
	case *array.Date32:
		return c.Value(i).FormattedString()
	case *array.Date64:
		return c.Value(i).FormattedString()
	case *array.Timestamp:
		unit := c.DataType().(*arrow.TimestampType).Unit
		t := c.Value(i).ToTime(unit).UTC()
		if t.Nanosecond() == 0 {
			return t.Format(time.DateTime)
		}
		return strings.TrimRight(t.Format("2006-01-02 15:04:05.000000"), "0")
	case *array.Time64:
		return formatTime(int64(c.Value(i)), c.DataType().(*arrow.Time64Type).Unit)
	case *array.Time32:
		return formatTime(int64(c.Value(i)), c.DataType().(*arrow.Time32Type).Unit)
	case *array.Decimal32:
		return c.Value(i).ToString(c.DataType().(arrow.DecimalType).GetScale())
	case *array.Decimal64:
		return c.Value(i).ToString(c.DataType().(arrow.DecimalType).GetScale())
	case *array.Decimal128:
		return c.Value(i).ToString(c.DataType().(arrow.DecimalType).GetScale())
	case *array.Decimal256:
		return c.Value(i).ToString(c.DataType().(arrow.DecimalType).GetScale())
	case *array.Dictionary:
		return FormatValue(c.Dictionary(), c.GetValueIndex(i))
	}
	// Integers and the rest: ValueStr.
	return a.ValueStr(i)
}

// formatTime prints a TIME as MySQL does: [-]HH:MM:SS, hours past 24 for
// durations, and like DATETIME a fraction only when it is not zero
// (trailing zeros dropped).
func formatTime(v int64, unit arrow.TimeUnit) string {
	d := time.Duration(v) * unit.Multiplier()
	sign := ""
	if d < 0 {
		sign, d = "-", -d
	}
	secs := int64(d / time.Second)
	out := fmt.Sprintf("%s%02d:%02d:%02d", sign, secs/3600, secs/60%60, secs%60)
	if us := int64(d%time.Second) / 1000; us != 0 {
		out += strings.TrimRight(fmt.Sprintf(".%06d", us), "0")
	}
	return out
}

func text(s string) string {
	if s == "" {
		return "(empty)"
	}
	return s
}

// FormatRows renders every row of batches, one []string per row.
func FormatRows(batches []arrow.RecordBatch) [][]string {
	var rows [][]string
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			row := make([]string, b.NumCols())
			for c := range row {
				row[c] = FormatValue(b.Column(c), r)
			}
			rows = append(rows, row)
		}
	}
	return rows
}
