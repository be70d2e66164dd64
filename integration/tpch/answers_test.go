package tpch

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

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
		if msg := CompareRows(tc.got, tc.want); (msg == "") != tc.ok {
			t.Errorf("%s: %q", tc.name, msg)
		}
	}
}

// TestCheck renders a batch and checks it against an answer file, in the
// sf1 directory where kit answers (q02) have trimmed text.
func TestCheck(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sf1")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	answer := "name|total\nab|1.50\n|2.25\n"
	for _, q := range []string{"q01", "q02"} {
		if err := os.WriteFile(filepath.Join(dir, q+".csv"), []byte(answer), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	dec := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	batch := func(name string, total int64) arrow.RecordBatch {
		sb := array.NewStringBuilder(mem)
		defer sb.Release()
		sb.AppendValues([]string{name, ""}, []bool{true, false})
		db := array.NewDecimal128Builder(mem, dec)
		defer db.Release()
		db.AppendValues([]decimal128.Num{decimal128.FromI64(150), decimal128.FromI64(total)}, nil)
		s, d := sb.NewArray(), db.NewArray()
		defer s.Release()
		defer d.Release()
		schema := arrow.NewSchema([]arrow.Field{{Name: "name", Type: arrow.BinaryTypes.String}, {Name: "total", Type: dec}}, nil)
		return array.NewRecordBatch(schema, []arrow.Array{s, d}, 2)
	}
	header := []string{"name", "total"}
	for _, tc := range []struct {
		query, name string
		total       int64
		ok          bool
	}{
		{"q01", "ab", 225, true},
		{"q01", "ab", 226, true},    // 2.26 vs 2.25: within 0.01
		{"q01", "ab", 300, false},   // 3.00 vs 2.25
		{"q01", "ab  ", 225, false}, // text must match exactly...
		{"q02", "ab  ", 225, true},  // ...except in kit answers
	} {
		b := batch(tc.name, tc.total)
		msg, err := Check(dir, tc.query, header, Rows([]arrow.RecordBatch{b}))
		b.Release()
		if err != nil {
			t.Fatal(err)
		}
		if (msg == "") != tc.ok {
			t.Errorf("%s %q %d: %q", tc.query, tc.name, tc.total, msg)
		}
	}
	if _, err := Check(dir, "q03", header, nil); err == nil {
		t.Error("missing answer file must fail")
	}
	if msg, _ := Check(dir, "q01", header[:1], nil); msg == "" {
		t.Error("column count mismatch must be reported")
	}
}
