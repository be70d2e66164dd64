package slt

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

const sample = `# comment
hash-threshold 8

statement ok
CREATE TABLE t (a INT)

statement error Table '.*' already exists
CREATE TABLE t (a INT)

query IT rowsort
SELECT a, b
FROM t
----
2 (empty)
1 x

skipif quiver
query I
SELECT broken
----
1

onlyif mysql
statement ok
SELECT mysql_only

query R nosort label-1
SELECT f
----
1.500

query error Unknown column
SELECT nope

halt

statement ok
NEVER RUN
`

func TestParse(t *testing.T) {
	recs, err := Parse("sample.slt", strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 7 {
		t.Fatalf("records = %d, want 7: %+v", len(recs), recs)
	}
	if r := recs[1]; !r.WantError || r.ErrRegex != "Table '.*' already exists" || r.Line != 7 {
		t.Errorf("statement error record = %+v", r)
	}
	if r := recs[2]; !r.Query || r.Types != "IT" || r.Sort != RowSort || r.SQL != "SELECT a, b\nFROM t" || len(r.Expected) != 2 {
		t.Errorf("query record = %+v", r)
	}
	if r := recs[3]; r.Label != "label-1" || r.Sort != NoSort || r.Expected[0] != "1.500" {
		t.Errorf("labelled query = %+v", r)
	}
	if r := recs[4]; !r.Query || !r.WantError || r.ErrRegex != "Unknown column" {
		t.Errorf("query error record = %+v", r)
	}
	if !recs[5].Halt {
		t.Errorf("last record must be halt: %+v", recs[5])
	}
}

func TestParseErrors(t *testing.T) {
	for _, src := range []string{
		"statement maybe\nSELECT 1\n",
		"query I sideways\nSELECT 1\n",
		"frobnicate\n",
		"statement ok\n\n",
		"statement ok\nSELECT 1\n----\n1\n",
		"hash-threshold many\n",
	} {
		if _, err := Parse("bad.slt", strings.NewReader(src)); err == nil {
			t.Errorf("Parse(%q) succeeded", src)
		}
	}
}

// fakeDB answers from a table of canned results.
type fakeDB struct {
	mem     memory.Allocator
	results map[string]func() (*arrow.Schema, []arrow.RecordBatch, error)
}

func (f *fakeDB) Run(_ context.Context, sql string) (*arrow.Schema, []arrow.RecordBatch, error) {
	if r, ok := f.results[sql]; ok {
		return r()
	}
	if strings.HasPrefix(sql, "CREATE") {
		return nil, nil, nil
	}
	if sql == "PANIC" {
		panic("engine bug")
	}
	return nil, nil, errors.New("Unknown column 'nope' in 'field list'")
}

func TestRun(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	rows := func() (*arrow.Schema, []arrow.RecordBatch, error) {
		b := array.NewRecordBuilder(mem, schema)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{2, 1, 0}, []bool{true, true, false})
		b.Field(1).(*array.StringBuilder).AppendValues([]string{"", "x y", "z"}, nil)
		return schema, []arrow.RecordBatch{b.NewRecordBatch()}, nil
	}
	db := &fakeDB{mem: mem, results: map[string]func() (*arrow.Schema, []arrow.RecordBatch, error){"SELECT a, b FROM t": rows}}

	for _, tc := range []struct {
		name string
		rec  Record
		fail string // "" = must pass; else a substring of the failure
	}{
		{"statement ok", Record{SQL: "CREATE TABLE t"}, ""},
		{"statement fails", Record{SQL: "SELECT nope"}, "unexpected error"},
		{"error matches", Record{SQL: "SELECT nope", WantError: true, ErrRegex: "Unknown column '.*'"}, ""},
		{"error differs", Record{SQL: "SELECT nope", WantError: true, ErrRegex: "doesn't exist"}, "does not match"},
		{"error expected", Record{SQL: "CREATE TABLE t", WantError: true}, "expected an error"},
		{"nosort", Record{Query: true, SQL: "SELECT a, b FROM t", Types: "IT", Expected: []string{"2 (empty)", "1 x y", "NULL z"}}, ""},
		{"nosort order matters", Record{Query: true, SQL: "SELECT a, b FROM t", Types: "IT", Expected: []string{"1 x y", "2 (empty)", "NULL z"}}, "result mismatch"},
		{"rowsort", Record{Query: true, SQL: "SELECT a, b FROM t", Types: "IT", Sort: RowSort, Expected: []string{"NULL z", "1   x y", "2 (empty)"}}, ""},
		{"valuesort", Record{Query: true, SQL: "SELECT a, b FROM t", Types: "IT", Sort: ValueSort, Expected: []string{"(empty) 1", "2 NULL", "x y z"}}, ""},
		{"value per line", Record{Query: true, SQL: "SELECT a, b FROM t", Types: "IT", Expected: []string{"2", "(empty)", "1", "x y", "NULL", "z"}}, ""},
		{"halt stops", Record{Halt: true}, ""},
		{"column count", Record{Query: true, SQL: "SELECT a, b FROM t", Types: "I", Expected: nil}, "declares 1 columns"},
		{"hash", Record{Query: true, SQL: "SELECT a, b FROM t", Types: "IT", Expected: []string{"6 values hashing to " + md5hex("2\n(empty)\n1\nx y\nNULL\nz\n")}}, ""},
		{"hash differs", Record{Query: true, SQL: "SELECT a, b FROM t", Types: "IT", Expected: []string{"6 values hashing to 00000000000000000000000000000000"}}, "result mismatch"},
		{"panic", Record{SQL: "PANIC"}, "panic: engine bug"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fails := Run(context.Background(), db, "x.slt", []Record{tc.rec})
			switch {
			case tc.fail == "" && len(fails) > 0:
				t.Fatalf("unexpected failure: %s", fails[0])
			case tc.fail != "" && len(fails) == 0:
				t.Fatalf("expected a failure containing %q", tc.fail)
			case tc.fail != "" && !strings.Contains(fails[0].Msg, tc.fail):
				t.Fatalf("failure %q does not contain %q", fails[0].Msg, tc.fail)
			}
		})
	}
}

func TestFormatValue(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "f", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
		{Name: "d", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}},
		{Name: "b", Type: arrow.FixedWidthTypes.Boolean},
		{Name: "dt", Type: arrow.FixedWidthTypes.Date32},
		{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond}},
	}, nil)
	bld := array.NewRecordBuilder(mem, schema)
	defer bld.Release()
	bld.Field(0).(*array.Float64Builder).AppendValues([]float64{1.0 / 3, 0}, []bool{true, false})
	bld.Field(1).(*array.Decimal128Builder).Append(decimalOf(12345))
	bld.Field(1).(*array.Decimal128Builder).Append(decimalOf(-5))
	bld.Field(2).(*array.BooleanBuilder).AppendValues([]bool{true, false}, nil)
	bld.Field(3).(*array.Date32Builder).AppendValues([]arrow.Date32{arrow.Date32FromTime(mustDate("1998-09-02")), 0}, nil)
	bld.Field(4).(*array.TimestampBuilder).AppendValues([]arrow.Timestamp{1_500_000, 1_000_000}, nil)
	rec := bld.NewRecordBatch()
	defer rec.Release()
	got := FormatRows([]arrow.RecordBatch{rec})
	want := [][]string{
		{"0.333", "123.45", "1", "1998-09-02", "1970-01-01 00:00:01.5"},
		{"NULL", "-0.05", "0", "1970-01-01", "1970-01-01 00:00:01"},
	}
	for r := range want {
		for c := range want[r] {
			if got[r][c] != want[r][c] {
				t.Errorf("row %d col %d = %q, want %q", r, c, got[r][c], want[r][c])
			}
		}
	}
}
