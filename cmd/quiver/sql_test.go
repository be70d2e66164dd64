package main

import (
	"bytes"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

func TestSplitStatements(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
	}{
		{"select 1; select 2", []string{"select 1", "select 2"}},
		{"select ';' ; select `a;b`;", []string{"select ';'", "select `a;b`"}},
		{"select 'it\\'s;'; -- c;\nselect 2;", []string{"select 'it\\'s;'", "-- c;\nselect 2"}},
		{"/* a; b */ select 1;", []string{"/* a; b */ select 1"}},
		{";;  ;\n-- only a comment\n", nil},
		{"select \"x;y\"", []string{"select \"x;y\""}},
	} {
		if got := splitStatements(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitStatements(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if stmts, rest := splitComplete("select 1; select 'a;"); len(stmts) != 1 || rest != " select 'a;" {
		t.Errorf("splitComplete: %q %q", stmts, rest)
	}
}

func TestPrinters(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	schema := arrow.NewSchema([]arrow.Field{
		{Name: "id", Type: arrow.PrimitiveTypes.Int64},
		{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
	}, nil)
	b := array.NewRecordBuilder(mem, schema)
	defer b.Release()
	b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 22}, nil)
	b.Field(1).(*array.StringBuilder).AppendValues([]string{"ab", ""}, []bool{true, false})
	rec := b.NewRecordBatch()
	defer rec.Release()

	for _, tc := range []struct{ format, want string }{
		{"table", "+----+------+\n| id | name |\n+----+------+\n| 1  | ab   |\n| 22 | NULL |\n+----+------+\n2 rows in set"},
		{"csv", "id,name\n1,ab\n22,\n"},
		{"json", "{\"id\":1,\"name\":\"ab\"}\n{\"id\":22,\"name\":null}\n"},
	} {
		var buf bytes.Buffer
		p, err := newPrinter(tc.format, &buf)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.begin(schema); err != nil {
			t.Fatal(err)
		}
		if err := p.batch(rec); err != nil {
			t.Fatal(err)
		}
		if err := p.end(2, time.Millisecond); err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(buf.String(), tc.want) {
			t.Errorf("%s output:\n%s\nwant prefix:\n%s", tc.format, buf.String(), tc.want)
		}
	}
	if _, err := newPrinter("xml", nil); err == nil {
		t.Error("unknown format must fail")
	}
}

func TestValueStringLikeMySQLClient(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	for _, tc := range []struct {
		typ  arrow.DataType
		json string
		want string
	}{
		{&arrow.Decimal128Type{Precision: 10, Scale: 4}, `["2.0000"]`, "2.0000"},
		{&arrow.TimestampType{Unit: arrow.Microsecond}, `["2024-01-02 03:04:05"]`, "2024-01-02 03:04:05"},
		{&arrow.TimestampType{Unit: arrow.Microsecond}, `["2024-01-02 03:04:05.5"]`, "2024-01-02 03:04:05.500000"},
		{arrow.BinaryTypes.Binary, `["AP8="]`, "0x00ff"},
	} {
		arr, _, err := array.FromJSON(mem, tc.typ, strings.NewReader(tc.json))
		if err != nil {
			t.Fatal(err)
		}
		if got := valueString(arr, 0); got != tc.want {
			t.Errorf("%s %s: got %q, want %q", tc.typ, tc.json, got, tc.want)
		}
		arr.Release()
	}
}
