package expr

import (
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/qerr"
)

func TestRegistryComplete(t *testing.T) {
	for name := range registry {
		if _, ok := kernels[name]; !ok {
			t.Errorf("function %s has typing but no kernel", name)
		}
	}
	for name := range kernels {
		if _, ok := registry[name]; !ok {
			t.Errorf("kernel %s has no typing rule", name)
		}
	}
	for alias, name := range aliases {
		if !IsFunction(alias) || !IsFunction(name) {
			t.Errorf("alias %s → %s not a function", alias, name)
		}
	}
	if IsFunction("no_such_fn") {
		t.Error("IsFunction(no_such_fn)")
	}
}

func sig(args []arrow.DataType, ret arrow.DataType) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = a.String()
	}
	return "(" + strings.Join(parts, ", ") + ") " + ret.String()
}

func TestResolve(t *testing.T) {
	i32 := arrow.PrimitiveTypes.Int32
	cases := []struct {
		fn     string
		args   []arrow.DataType
		consts []scalar.Scalar
		want   string
		kind   qerr.Kind
	}{
		{fn: "+", args: []arrow.DataType{i64, i64}, want: "(int64, int64) int64"},
		{fn: "+", args: []arrow.DataType{i32, i64}, want: "(int64, int64) int64"},
		{fn: "+", args: []arrow.DataType{dec(15, 2), dec(15, 2)}, want: "(decimal(15, 2), decimal(15, 2)) decimal(16, 2)"},
		{fn: "-", args: []arrow.DataType{i64, dec(15, 2)}, want: "(decimal(19, 0), decimal(15, 2)) decimal(22, 2)"},
		{fn: "*", args: []arrow.DataType{dec(15, 2), dec(15, 2)}, want: "(decimal(15, 2), decimal(15, 2)) decimal(30, 4)"},
		{fn: "*", args: []arrow.DataType{dec(30, 4), dec(16, 2)}, want: "(decimal(30, 4), decimal(16, 2)) decimal(38, 6)"},
		{fn: "/", args: []arrow.DataType{i64, i64}, want: "(decimal(19, 0), decimal(19, 0)) decimal(23, 4)"},
		{fn: "/", args: []arrow.DataType{dec(15, 2), dec(15, 2)}, want: "(decimal(15, 2), decimal(15, 2)) decimal(21, 6)"},
		{fn: "/", args: []arrow.DataType{f64, i64}, want: "(float64, float64) float64"},
		{fn: "div", args: []arrow.DataType{i64, i64}, want: "(int64, int64) int64"},
		{fn: "+", args: []arrow.DataType{str, i64}, want: "(float64, float64) float64"},
		{fn: "+", args: []arrow.DataType{arrow.Null, i64}, want: "(int64, int64) int64"},
		{fn: "+", args: []arrow.DataType{i64, u64}, want: "(int64, uint64) uint64"},
		{fn: "%", args: []arrow.DataType{i64, u64}, want: "(int64, uint64) int64"},
		{fn: "%", args: []arrow.DataType{u64, i64}, want: "(uint64, int64) uint64"},
		{fn: "neg", args: []arrow.DataType{u64}, want: "(decimal(20, 0)) decimal(20, 0)"},
		{fn: "=", args: []arrow.DataType{d32, str}, want: "(date32, date32) bool"},
		{fn: "<", args: []arrow.DataType{str, i64}, want: "(float64, float64) bool"},
		{fn: "<", args: []arrow.DataType{d32, ts}, want: "(timestamp[us], timestamp[us]) bool"},
		{fn: "=", args: []arrow.DataType{dec(15, 2), dec(3, 1)}, want: "(decimal(15, 2), decimal(3, 1)) bool"},
		{fn: "=", args: []arrow.DataType{dec(15, 2), i64}, want: "(decimal(15, 2), decimal(19, 0)) bool"},
		{fn: "=", args: []arrow.DataType{dec(15, 2), f64}, want: "(float64, float64) bool"},
		{fn: "and", args: []arrow.DataType{i64, bl}, want: "(bool, bool) bool"},
		{fn: "in", args: []arrow.DataType{i64, i64, dec(3, 1)}, want: "(decimal(20, 1), decimal(20, 1), decimal(20, 1)) bool"},
		{fn: "in", args: []arrow.DataType{str, str, str}, want: "(utf8, utf8, utf8) bool"},
		{fn: "coalesce", args: []arrow.DataType{str, i64}, want: "(utf8, utf8) utf8"},
		{fn: "ifnull", args: []arrow.DataType{arrow.Null, i32}, want: "(int64, int64) int64"},
		{fn: "round", args: []arrow.DataType{dec(15, 4), i64}, consts: []scalar.Scalar{nil, scalar.NewInt64Scalar(2)}, want: "(decimal(15, 4), int64) decimal(14, 2)"},
		{fn: "round", args: []arrow.DataType{dec(15, 4)}, want: "(decimal(15, 4)) decimal(12, 0)"},
		{fn: "ceil", args: []arrow.DataType{dec(15, 2)}, want: "(decimal(15, 2)) int64"}, // integer part fits BIGINT (MySQL)
		{fn: "ceil", args: []arrow.DataType{dec(30, 2)}, want: "(decimal(30, 2)) decimal(29, 0)"},
		{fn: "substr", args: []arrow.DataType{str, i64, i64}, want: "(utf8, int64, int64) utf8"},
		{fn: "extract", args: []arrow.DataType{str, d32}, consts: []scalar.Scalar{scalar.NewStringScalar("YEAR"), nil}, want: "(utf8, date32) int64"},
		{fn: "extract", args: []arrow.DataType{str, d32}, consts: []scalar.Scalar{scalar.NewStringScalar("FORTNIGHT"), nil}, kind: qerr.Unimplemented},
		{fn: "date_add", args: []arrow.DataType{d32, i64, str}, consts: []scalar.Scalar{nil, nil, scalar.NewStringScalar("DAY")}, want: "(date32, int64, utf8) date32"},
		{fn: "date_add", args: []arrow.DataType{d32, i64, str}, consts: []scalar.Scalar{nil, nil, scalar.NewStringScalar("HOUR")}, want: "(date32, int64, utf8) timestamp[us]"},
		{fn: "str_to_date", args: []arrow.DataType{str, str}, consts: []scalar.Scalar{nil, scalar.NewStringScalar("%d/%m/%Y")}, want: "(utf8, utf8) date32"},
		{fn: "year", args: []arrow.DataType{str}, want: "(timestamp[us]) int64"},
		{fn: "nope", args: nil, kind: qerr.NotFound},
		{fn: "substring", args: []arrow.DataType{str}, kind: qerr.InvalidArgument},
	}
	for _, tc := range cases {
		s, err := ResolveConst(tc.fn, tc.args, tc.consts)
		if tc.want == "" {
			if qerr.KindOf(err) != tc.kind {
				t.Errorf("%s%v: err %v, want kind %v", tc.fn, tc.args, err, tc.kind)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s%v: %v", tc.fn, tc.args, err)
			continue
		}
		if got := sig(s.Args, s.Return); got != tc.want {
			t.Errorf("%s%v = %s, want %s", tc.fn, tc.args, got, tc.want)
		}
	}
}

func TestCommonTypeAndCanCast(t *testing.T) {
	cases := []struct {
		in   []arrow.DataType
		want string
	}{
		{[]arrow.DataType{arrow.Null, i64}, "int64"},
		{[]arrow.DataType{arrow.PrimitiveTypes.Int32, i64}, "int64"},
		{[]arrow.DataType{i64, dec(5, 2)}, "decimal(21, 2)"},
		{[]arrow.DataType{dec(5, 2), dec(10, 4)}, "decimal(10, 4)"},
		{[]arrow.DataType{i64, f64}, "float64"},
		{[]arrow.DataType{i64, str}, "utf8"},
		{[]arrow.DataType{d32, ts}, "timestamp[us]"},
		{[]arrow.DataType{d32, str}, "utf8"},
		{[]arrow.DataType{bl, i64}, "int64"},
	}
	for _, tc := range cases {
		got, err := CommonType(tc.in...)
		if err != nil || got.String() != tc.want {
			t.Errorf("CommonType%v = %v (%v), want %s", tc.in, got, err, tc.want)
		}
	}
	if !CanCast(str, d32) || !CanCast(arrow.PrimitiveTypes.Int32, dec(10, 2)) || !CanCast(arrow.Null, str) {
		t.Error("expected casts to be supported")
	}
	if CanCast(tm, d32) || CanCast(arrow.ListOf(i64), str) {
		t.Error("unexpected cast support")
	}
}

func TestCast(t *testing.T) {
	cases := []struct {
		from arrow.DataType
		data string
		to   arrow.DataType
		want string
	}{
		{str, `["12abc", "abc", " -7", "1.9", null, "99999999999999999999"]`, i64, "12,0,-7,1,NULL,9223372036854775807"},
		{str, `["1.5", "abc", "1e3", "-0.25x"]`, f64, "1.5,0,1000,-0.25"},
		{str, `["1.235", "-1.235", "abc", "12345"]`, dec(5, 2), "1.24,-1.24,0.00,999.99"},
		{str, `["2024-01-15", "2024-13-45", "20240229", "2023-02-29", "24-1-5", "2024-01-15 10:11:12"]`, d32, "2024-01-15,NULL,2024-02-29,NULL,2024-01-05,2024-01-15"},
		{str, `["2024-01-15 10:11:12.5", "2024-01-15", "x"]`, ts, "2024-01-15 10:11:12.500000,2024-01-15 00:00:00,NULL"},
		{str, `["10:11:12", "-01:00:00", "101112", "25:61:00"]`, tm, "10:11:12,-01:00:00,10:11:12,NULL"},
		{i64, `[1, -1, null]`, str, "1,-1,NULL"},
		{i64, `[-1]`, u64, "18446744073709551615"},
		{i64, `[20240115, 0]`, d32, "2024-01-15,NULL"},
		{i64, `[123]`, dec(5, 2), "123.00"},
		{i64, `[123456]`, dec(5, 2), "999.99"},
		{f64, `[1.5, -1.5, 2.4, 1e30]`, i64, "2,-2,2,9223372036854775807"},
		{f64, `[0.1, 1e20, 123456789, -1.5e-20, 100]`, str, "0.1,1e20,123456789,-1.5e-20,100"},
		{f64, `[1.005]`, dec(10, 2), "1.01"}, // shortest form 1.005 rounds up (MySQL)
		{dec(10, 3), `["1.234", "-0.005", "0.004"]`, dec(10, 2), "1.23,-0.01,0.00"},
		{dec(10, 2), `["1.25", "-1.5", "2.49"]`, i64, "1,-2,2"},
		{dec(10, 2), `["1.25", "-0.05", "100.00"]`, str, "1.25,-0.05,100.00"},
		{dec(10, 2), `["1.25"]`, f64, "1.25"},
		{bl, `[true, false]`, str, "1,0"},
		{bl, `[true, false]`, dec(3, 1), "1.0,0.0"},
		{d32, `[19737]`, str, "2024-01-15"},
		{d32, `[19737]`, i64, "20240115"},
		{d32, `[19737]`, ts, "2024-01-15 00:00:00"},
		{ts, `[1705313472000001]`, d32, "2024-01-15"},
		{ts, `[1705313472000000]`, str, "2024-01-15 10:11:12"},
		{ts, `[1705313472000000]`, tm, "10:11:12"},
		{ts, `[-1]`, d32, "1969-12-31"},
		{tm, `[36672000000]`, i64, "101112"},
		{arrow.PrimitiveTypes.Int32, `[1, null]`, f64, "1,NULL"},
		{arrow.BinaryTypes.LargeString, `["x"]`, str, "x"},
		{i64, `[1, 300]`, arrow.PrimitiveTypes.Int8, "1,"}, // overflow → error checked below
		{str, `["a", null]`, arrow.BinaryTypes.Binary, "a,NULL"},
		{arrow.Null, `[null]`, i64, "NULL"},
	}
	for _, tc := range cases {
		t.Run(tc.from.String()+"->"+tc.to.String()+tc.data, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			a := col(t, mem, tc.from, tc.data)
			defer a.Release()
			b := batchOf(a)
			defer b.Release()
			e, err := NewCast(c(0, tc.from), tc.to)
			if err != nil {
				t.Fatal(err)
			}
			got, err := evalStr(t, mem, e, b)
			if tc.to.ID() == arrow.INT8 {
				if qerr.KindOf(err) != qerr.InvalidArgument {
					t.Fatalf("narrowing overflow: %v", err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("CAST = %s (%v), want %s", got, err, tc.want)
			}
		})
	}
	if _, err := NewCast(c(0, tm), d32); qerr.KindOf(err) != qerr.InvalidArgument {
		t.Fatalf("TIME→DATE: %v", err)
	}
}
