// Package tpch reads the TPC-H queries and reference answers kept beside
// it and compares results with them; the TPC-H test and the benchmark
// harness (integration/bench) share it.
package tpch

import (
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// ReadQuery returns query name (e.g. "q13") from dir/queries, preferring the
// MySQL-dialect rewrite in dir/queries-mysql, without a trailing ';'.
func ReadQuery(dir, name string) (string, error) {
	var err error
	for _, sub := range []string{"queries-mysql", "queries"} {
		var b []byte
		if b, err = os.ReadFile(filepath.Join(dir, sub, name+".sql")); err == nil {
			return strings.TrimSuffix(strings.TrimSpace(string(b)), ";"), nil
		}
	}
	return "", fmt.Errorf("query %s: %w", name, err)
}

// Answer is a parsed answer file.
type Answer struct {
	Header []string
	Rows   [][]string
}

// ReadAnswer parses a '|'-delimited answer file: a header line, then rows;
// an empty field is NULL (so a lone empty line is one row holding NULL).
func ReadAnswer(path string) (Answer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Answer{}, err
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	a := Answer{Header: strings.Split(lines[0], "|")}
	for _, l := range lines[1:] {
		a.Rows = append(a.Rows, strings.Split(l, "|"))
	}
	return a, nil
}

// KitAnswer reports answer files taken from the TPC-H kit, whose text
// fields were trimmed when they were rewritten (README.md here).
func KitAnswer(dir, query string) bool {
	switch query {
	case "q02", "q10", "q13", "q15", "q20":
		return filepath.Base(dir) == "sf1"
	}
	return false
}

// TrimCells trims spaces around every cell (for KitAnswer files).
func TrimCells(rows [][]string) {
	for _, r := range rows {
		for i := range r {
			r[i] = strings.TrimSpace(r[i])
		}
	}
}

// Rows renders batches as the answer files print values.
func Rows(batches []arrow.RecordBatch) [][]string {
	var rows [][]string
	for _, b := range batches {
		for r := 0; r < int(b.NumRows()); r++ {
			row := make([]string, b.NumCols())
			for c := range row {
				row[c] = Cell(b.Column(c), r)
			}
			rows = append(rows, row)
		}
	}
	return rows
}

// Cell renders one value as the answer files do (NULL as the empty string).
func Cell(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return ""
	}
	switch c := a.(type) {
	case *array.Float64:
		return strconv.FormatFloat(c.Value(i), 'g', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(c.Value(i)), 'g', -1, 32)
	case *array.String:
		return c.Value(i)
	case *array.Decimal128:
		return c.Value(i).ToString(c.DataType().(*arrow.Decimal128Type).Scale)
	}
	return a.ValueStr(i)
}

// Check compares a result (header and rendered rows) with the answer file
// dir/query.csv; it returns "" when they agree, else what differs.
func Check(dir, query string, header []string, rows [][]string) (string, error) {
	want, err := ReadAnswer(filepath.Join(dir, query+".csv"))
	if err != nil {
		return "", err
	}
	if KitAnswer(dir, query) {
		TrimCells(rows)
	}
	if len(header) != len(want.Header) {
		return fmt.Sprintf("columns %v, want %v", header, want.Header), nil
	}
	return CompareRows(rows, want.Rows), nil
}

// CompareRows compares in order; rows that tie on the ORDER BY keys may
// come in another order, so a mismatching row is also looked for among the
// next few expected rows before the mismatch is reported.
func CompareRows(got, want [][]string) string {
	const window = 64
	if len(got) != len(want) {
		return fmt.Sprintf("%d rows, want %d", len(got), len(want))
	}
	want = append([][]string(nil), want...)
	for i := range got {
		if rowMatches(got[i], want[i]) == -1 {
			continue
		}
		found := false
		for j := i + 1; j < len(want) && j < i+window; j++ {
			if rowMatches(got[i], want[j]) == -1 {
				want[i], want[j] = want[j], want[i]
				found = true
				break
			}
		}
		if !found {
			c := rowMatches(got[i], want[i])
			return fmt.Sprintf("row %d column %d: got %q, want %q\n got row:  %v\n want row: %v",
				i+1, c+1, cell(got[i], c), cell(want[i], c), got[i], want[i])
		}
	}
	return ""
}

func cell(row []string, c int) string {
	if c < len(row) {
		return row[c]
	}
	return "<missing>"
}

// rowMatches returns -1 when the rows agree, else the first differing column.
func rowMatches(got, want []string) int {
	if len(got) != len(want) {
		return min(len(got), len(want))
	}
	for c := range got {
		if !valueMatches(got[c], want[c]) {
			return c
		}
	}
	return -1
}

// valueMatches compares numbers within 0.01 when the answer prints at most
// 4 decimals, else within 1e-6 relative; anything else exactly. A result
// printed with fewer decimals than the answer (a DECIMAL average has scale
// s+4 in MySQL, the answers print doubles) matches when the answer rounds to it.
func valueMatches(got, want string) bool {
	if got == want {
		return true
	}
	w, err1 := strconv.ParseFloat(want, 64)
	g, err2 := strconv.ParseFloat(got, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	decimals := 0
	if dot := strings.IndexByte(want, '.'); dot >= 0 {
		decimals = len(want) - dot - 1
	}
	if decimals <= 4 && !strings.ContainsAny(want, "eE") {
		return math.Abs(g-w) <= 0.01+1e-9
	}
	if dot := strings.IndexByte(got, '.'); dot >= 0 && !strings.ContainsAny(got, "eE") {
		if gotDecimals := len(got) - dot - 1; gotDecimals < decimals && math.Abs(g-w) <= 0.5*math.Pow10(-gotDecimals)+1e-12 {
			return true
		}
	}
	return math.Abs(g-w) <= 1e-6*math.Max(math.Abs(w), 1e-300)
}
