package integration

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
)

// TestTPCH runs the 22 TPC-H queries through Flight SQL and compares them
// with the reference answers. QUIVER_TPCH_DIR (a data dir holding tpch/)
// and QUIVER_TPCH_ANSWERS switch it to another scale factor (make tpch-sf1).
func TestTPCH(t *testing.T) {
	dataDir, answers := sf001, "tpch/answers/sf0.01"
	if d := os.Getenv("QUIVER_TPCH_DIR"); d != "" {
		dataDir = d
		answers = os.Getenv("QUIVER_TPCH_ANSWERS")
		if answers == "" {
			t.Fatal("QUIVER_TPCH_DIR needs QUIVER_TPCH_ANSWERS")
		}
	}
	cl := serve(t, newEngine(t, dataDir, "tpch"))
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		t.Run(name, func(t *testing.T) {
			sql := readQuery(t, name)
			want := readAnswer(t, filepath.Join(answers, name+".csv"))
			header, got := runQuery(t, cl, sql)
			if kitAnswer(answers, name) {
				trimCells(got)
			}
			if len(header) != len(want.header) {
				t.Fatalf("columns %v, want %v", header, want.header)
			}
			if msg := compareRows(got, want.rows); msg != "" {
				t.Fatal(msg)
			}
		})
	}
}

// kitAnswer reports answer files taken from the TPC-H kit, whose text
// fields were trimmed when they were rewritten (integration/tpch/README.md).
func kitAnswer(dir, query string) bool {
	switch query {
	case "q02", "q10", "q13", "q15", "q20":
		return filepath.Base(dir) == "sf1"
	}
	return false
}

func trimCells(rows [][]string) {
	for _, r := range rows {
		for i := range r {
			r[i] = strings.TrimSpace(r[i])
		}
	}
}

// readQuery prefers the MySQL-dialect rewrite in queries-mysql/.
func readQuery(t testing.TB, name string) string {
	for _, dir := range []string{"tpch/queries-mysql", "tpch/queries"} {
		b, err := os.ReadFile(filepath.Join(dir, name+".sql"))
		if err == nil {
			return strings.TrimSuffix(strings.TrimSpace(string(b)), ";")
		}
	}
	t.Fatalf("no query %s", name)
	return ""
}

type answer struct {
	header []string
	rows   [][]string
}

// readAnswer parses a '|'-delimited answer file: a header line, then rows;
// an empty field is NULL (so a lone empty line is one row holding NULL).
func readAnswer(t *testing.T, path string) answer {
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	a := answer{header: strings.Split(lines[0], "|")}
	for _, l := range lines[1:] {
		a.rows = append(a.rows, strings.Split(l, "|"))
	}
	return a
}

// runQuery executes sql and renders every value as the answer files do
// (NULL as the empty string).
func runQuery(t *testing.T, cl *flightsql.Client, sql string) ([]string, [][]string) {
	t.Helper()
	ctx := context.Background()
	info, err := cl.Execute(ctx, sql)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	var (
		header []string
		rows   [][]string
	)
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.Ticket)
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		header = header[:0]
		for _, f := range rdr.Schema().Fields() {
			header = append(header, f.Name)
		}
		for rdr.Next() {
			b := rdr.RecordBatch()
			for r := 0; r < int(b.NumRows()); r++ {
				row := make([]string, b.NumCols())
				for c := range row {
					row[c] = answerCell(b.Column(c), r)
				}
				rows = append(rows, row)
			}
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
	}
	return header, rows
}

func answerCell(a arrow.Array, i int) string {
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

// compareRows compares in order; rows that tie on the ORDER BY keys may
// come in another order, so a mismatching row is also looked for among the
// next few expected rows before the mismatch is reported.
func compareRows(got, want [][]string) string {
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

func TestCompareRows(t *testing.T) {
	for _, tc := range []struct {
		name      string
		got, want [][]string
		ok        bool
	}{
		{"equal", [][]string{{"a", "1.00"}}, [][]string{{"a", "1"}}, true},
		{"within 0.01", [][]string{{"2.004"}}, [][]string{{"2.00"}}, true},
		{"outside 0.01", [][]string{{"2.02"}}, [][]string{{"2.00"}}, false},
		{"relative", [][]string{{"0.0499995"}}, [][]string{{"0.04999950000001"}}, true},
		{"relative off", [][]string{{"0.04998"}}, [][]string{{"0.04999950000001"}}, false},
		{"decimal rounds", [][]string{{"0.050081"}}, [][]string{{"0.05008133906964238"}}, true},
		{"decimal off", [][]string{{"0.050082"}}, [][]string{{"0.05008133906964238"}}, false},
		{"string exact", [][]string{{"abc "}}, [][]string{{"abc"}}, false},
		{"tie reordered", [][]string{{"b", "1"}, {"a", "1"}}, [][]string{{"a", "1"}, {"b", "1"}}, true},
		{"row count", [][]string{{"a"}}, [][]string{{"a"}, {"b"}}, false},
		{"null row", [][]string{{""}}, [][]string{{""}}, true},
	} {
		if msg := compareRows(tc.got, tc.want); (msg == "") != tc.ok {
			t.Errorf("%s: %q", tc.name, msg)
		}
	}
}
