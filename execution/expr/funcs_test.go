package expr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func withLits(lits ...Expr) func([]Expr) []Expr {
	return func(c []Expr) []Expr { return append(append([]Expr{}, c...), lits...) }
}

func TestStringFunctions(t *testing.T) {
	s1 := []arrow.DataType{str}
	runCalls(t, []callCase{
		{name: "concat null", fn: "concat", ret: str, cols: []arrow.DataType{str, str}, data: []string{`["a", "b", null]`, `["x", "", "y"]`}, want: "ax,b,NULL"},
		{name: "concat_ws skips null", fn: "concat_ws", ret: str, cols: []arrow.DataType{str, str, str},
			data: []string{`[",", null, "-"]`, `["a", "a", null]`, `["b", "b", "c"]`}, want: "a,b,NULL,c"},
		{name: "upper lower", fn: "upper", ret: str, cols: s1, data: []string{`["abc", null]`}, want: "ABC,NULL"},
		{name: "length bytes", fn: "length", ret: i64, cols: s1, data: []string{`["héllo", ""]`}, want: "6,0"},
		{name: "char_length", fn: "char_length", ret: i64, cols: s1, data: []string{`["héllo", ""]`}, want: "5,0"},
		{name: "substring", fn: "substring", ret: str, cols: []arrow.DataType{str, i64, i64},
			data: []string{`["Quadratically", "Quadratically", "héllo", "abc", "abc"]`, `[5, -3, 2, 0, 4]`, `[6, 2, 3, 1, 1]`}, want: "ratica,ll,éll,,"},
		{name: "substring 2 args", fn: "substring", ret: str, cols: []arrow.DataType{str, i64}, data: []string{`["13-555", "abc"]`, `[1, -1]`}, want: "13-555,c"},
		{name: "left right", fn: "right", ret: str, cols: []arrow.DataType{str, i64}, data: []string{`["foobar", "ab"]`, `[3, 5]`}, want: "bar,ab"},
		{name: "left", fn: "left", ret: str, cols: []arrow.DataType{str, i64}, data: []string{`["foobar", "ab"]`, `[3, -1]`}, want: "foo,"},
		{name: "trim", fn: "trim", ret: str, cols: s1, data: []string{`["  a b  "]`}, want: "a b"},
		{name: "trim_chars", fn: "trim_chars", ret: str, cols: []arrow.DataType{str, str, str},
			data: []string{`["xxaxx", "xxaxx", "xxaxx"]`, `["x", "xx", "x"]`, `["BOTH", "LEADING", "TRAILING"]`}, want: "a,axx,xxa"},
		{name: "replace", fn: "replace", ret: str, cols: []arrow.DataType{str, str, str}, data: []string{`["www.mysql.com"]`, `["w"]`, `["Ww"]`}, want: "WwWwWw.mysql.com"},
		{name: "lpad", fn: "lpad", ret: str, cols: []arrow.DataType{str, i64, str}, data: []string{`["hi", "hi", "hi"]`, `[4, 1, 5]`, `["??", "?", ""]`}, want: "??hi,h,NULL"},
		{name: "rpad", fn: "rpad", ret: str, cols: []arrow.DataType{str, i64, str}, data: []string{`["hi"]`, `[5]`, `["ab"]`}, want: "hiaba"},
		{name: "repeat", fn: "repeat", ret: str, cols: []arrow.DataType{str, i64}, data: []string{`["ab", "ab"]`, `[3, 0]`}, want: "ababab,"},
		{name: "reverse", fn: "reverse", ret: str, cols: s1, data: []string{`["abé"]`}, want: "éba"},
		{name: "locate", fn: "locate", ret: i64, cols: []arrow.DataType{str, str, i64}, data: []string{`["bar", "bar", "x"]`, `["foobarbar", "foobarbar", "abc"]`, `[1, 5, 1]`}, want: "4,7,0"},
		{name: "instr", fn: "instr", ret: i64, cols: []arrow.DataType{str, str}, data: []string{`["héllo"]`, `["l"]`}, want: "3"},
		{name: "strcmp", fn: "strcmp", ret: i64, cols: []arrow.DataType{str, str}, data: []string{`["a", "b", "a"]`, `["b", "a", "a"]`}, want: "-1,1,0"},
		{name: "ascii space", fn: "ascii", ret: i64, cols: s1, data: []string{`["A", ""]`}, want: "65,0"},
		{name: "space", fn: "space", ret: str, cols: []arrow.DataType{i64}, data: []string{`[2, 0]`}, want: "  ,"},
		{name: "regexp", fn: "regexp", ret: bl, cols: s1, data: []string{`["abc", "xyz", null]`}, args: withLits(strLit("^a.c$")), want: "1,0,NULL"},
	})
}

func TestMathFunctions(t *testing.T) {
	runCalls(t, []callCase{
		{name: "abs int", fn: "abs", ret: i64, cols: []arrow.DataType{i64}, data: []string{`[-3, 4, null]`}, want: "3,4,NULL"},
		{name: "abs overflow", fn: "abs", ret: i64, cols: []arrow.DataType{i64}, data: []string{`[-9223372036854775808]`}, err: "BIGINT value is out of range"},
		{name: "abs dec", fn: "abs", ret: dec(5, 2), cols: []arrow.DataType{dec(5, 2)}, data: []string{`["-1.25"]`}, want: "1.25"},
		{name: "ceil dec", fn: "ceil", ret: dec(4, 0), cols: []arrow.DataType{dec(5, 2)}, data: []string{`["1.01", "-1.99", "2.00"]`}, want: "2,-1,2"},
		{name: "floor dec", fn: "floor", ret: dec(4, 0), cols: []arrow.DataType{dec(5, 2)}, data: []string{`["1.99", "-1.01"]`}, want: "1,-2"},
		{name: "floor float", fn: "floor", ret: f64, cols: []arrow.DataType{f64}, data: []string{`[-1.5]`}, want: "-2"},
		{name: "round dec", fn: "round", ret: dec(5, 1), cols: []arrow.DataType{dec(5, 2)}, data: []string{`["1.25", "-1.25", "1.24"]`},
			args: withLits(lit(int64(1))), want: "1.3,-1.3,1.2"},
		{name: "round dec 0", fn: "round", ret: dec(4, 0), cols: []arrow.DataType{dec(5, 2)}, data: []string{`["2.50", "-2.50"]`}, want: "3,-3"},
		{name: "round int neg digits", fn: "round", ret: i64, cols: []arrow.DataType{i64, i64}, data: []string{`[155, -155]`, `[-1, -1]`}, want: "160,-160"},
		{name: "round float half even", fn: "round", ret: f64, cols: []arrow.DataType{f64}, data: []string{`[2.5, 3.5, -2.5]`}, want: "2,4,-2"},
		{name: "truncate dec", fn: "truncate", ret: dec(5, 1), cols: []arrow.DataType{dec(5, 2), i64}, data: []string{`["1.29", "-1.29"]`, `[1, 1]`}, want: "1.2,-1.2"},
		{name: "truncate float", fn: "truncate", ret: f64, cols: []arrow.DataType{f64, i64}, data: []string{`[1.999]`, `[2]`}, want: "1.99"},
		{name: "sqrt neg null", fn: "sqrt", ret: f64, cols: []arrow.DataType{f64}, data: []string{`[4, -1]`}, want: "2,NULL"},
		{name: "ln zero null", fn: "ln", ret: f64, cols: []arrow.DataType{f64}, data: []string{`[1, 0]`}, want: "0,NULL"},
		{name: "log base", fn: "log", ret: f64, cols: []arrow.DataType{f64, f64}, data: []string{`[2]`, `[8]`}, want: "3"},
		{name: "power", fn: "power", ret: f64, cols: []arrow.DataType{f64, f64}, data: []string{`[2]`, `[10]`}, want: "1024"},
		{name: "pow overflow", fn: "power", ret: f64, cols: []arrow.DataType{f64, f64}, data: []string{`[10]`, `[400]`}, err: "DOUBLE value is out of range"},
		{name: "sign", fn: "sign", ret: i64, cols: []arrow.DataType{dec(5, 2)}, data: []string{`["-1.25", "0", "3"]`}, want: "-1,0,1"},
		{name: "degrees", fn: "degrees", ret: f64, cols: []arrow.DataType{f64}, data: []string{`[3.141592653589793]`}, want: "180"},
		{name: "pi", fn: "pi", ret: f64, cols: []arrow.DataType{i64}, data: []string{`[1]`}, args: func([]Expr) []Expr { return nil }, want: "3.141592653589793"},
		{name: "bit and", fn: "&", ret: u64, cols: []arrow.DataType{u64, u64}, data: []string{`[12, null]`, `[10, 1]`}, want: "8,NULL"},
		{name: "bit shift", fn: "<<", ret: u64, cols: []arrow.DataType{u64, u64}, data: []string{`[1, 1]`, `[4, 64]`}, want: "16,0"},
		{name: "bit not", fn: "~", ret: u64, cols: []arrow.DataType{u64}, data: []string{`[0]`}, want: "18446744073709551615"},
	})
}

// Days since 1970-01-01: 19737 = 2024-01-15 (Monday), 19782 = 2024-02-29.
func TestDateFunctions(t *testing.T) {
	d1 := []arrow.DataType{d32}
	const dates = `[19737, 19782, null, 0, -1]`
	runCalls(t, []callCase{
		{name: "year", fn: "year", ret: i64, cols: d1, data: []string{dates}, want: "2024,2024,NULL,1970,1969"},
		{name: "month", fn: "month", ret: i64, cols: d1, data: []string{dates}, want: "1,2,NULL,1,12"},
		{name: "day", fn: "day", ret: i64, cols: d1, data: []string{dates}, want: "15,29,NULL,1,31"},
		{name: "quarter", fn: "quarter", ret: i64, cols: d1, data: []string{dates}, want: "1,1,NULL,1,4"},
		{name: "dayofweek", fn: "dayofweek", ret: i64, cols: d1, data: []string{dates}, want: "2,5,NULL,5,4"},
		{name: "weekday", fn: "weekday", ret: i64, cols: d1, data: []string{dates}, want: "0,3,NULL,3,2"},
		{name: "dayofyear", fn: "dayofyear", ret: i64, cols: d1, data: []string{dates}, want: "15,60,NULL,1,365"},
		// MySQL: WEEK('2024-01-15')=2, WEEK('2024-02-29')=8, WEEK('1970-01-01')=0, WEEK('1969-12-31')=52.
		{name: "week", fn: "week", ret: i64, cols: d1, data: []string{dates}, want: "2,8,NULL,0,52"},
		// WEEK(d, 3) is the ISO week: 3, 9, 1, 1.
		{name: "week iso", fn: "week", ret: i64, cols: []arrow.DataType{d32, i64}, data: []string{`[19737, 19782, 0, -1]`, `[3, 3, 3, 3]`}, want: "3,9,1,1"},
		{name: "extract year", fn: "extract", ret: i64, cols: d1, data: []string{dates},
			args: func(c []Expr) []Expr { return []Expr{strLit("YEAR"), c[0]} }, want: "2024,2024,NULL,1970,1969"},
		{name: "extract hour ts", fn: "extract", ret: i64, cols: []arrow.DataType{ts}, data: []string{`[1705313472000000]`},
			args: func(c []Expr) []Expr { return []Expr{strLit("HOUR"), c[0]} }, want: "10"},
		{name: "extract minute time", fn: "extract", ret: i64, cols: []arrow.DataType{tm}, data: []string{`[36672000000]`},
			args: func(c []Expr) []Expr { return []Expr{strLit("MINUTE"), c[0]} }, want: "11"},
		{name: "date_add day", fn: "date_add", ret: d32, cols: []arrow.DataType{d32, i64}, data: []string{`[19737, null]`, `[90, 1]`},
			args: withLits(strLit("DAY")), want: "2024-04-14,NULL"},
		{name: "date_add month clamp", fn: "date_add", ret: d32, cols: []arrow.DataType{d32, i64}, data: []string{`[19753, 19782]`, `[1, 12]`},
			args: withLits(strLit("MONTH")), want: "2024-02-29,2025-02-28"},
		{name: "date_sub year", fn: "date_sub", ret: d32, cols: []arrow.DataType{d32, i64}, data: []string{`[19782]`, `[1]`},
			args: withLits(strLit("YEAR")), want: "2023-02-28"},
		{name: "date_add hour on date", fn: "date_add", ret: ts, cols: []arrow.DataType{d32, i64}, data: []string{`[19737]`, `[25]`},
			args: withLits(strLit("HOUR")), want: "2024-01-16 01:00:00"},
		{name: "date_sub quarter ts", fn: "date_sub", ret: ts, cols: []arrow.DataType{ts, i64}, data: []string{`[1705313472000000]`, `[1]`},
			args: withLits(strLit("QUARTER")), want: "2023-10-15 10:11:12"},
		{name: "date_add overflow null", fn: "date_add", ret: d32, cols: []arrow.DataType{d32, i64}, data: []string{`[19737]`, `[9000]`},
			args: withLits(strLit("YEAR")), want: "NULL"},
		{name: "date", fn: "date", ret: d32, cols: []arrow.DataType{ts}, data: []string{`[1705313472000000]`}, want: "2024-01-15"},
		{name: "last_day", fn: "last_day", ret: d32, cols: d1, data: []string{`[19737, 19782]`}, want: "2024-01-31,2024-02-29"},
		{name: "datediff", fn: "datediff", ret: i64, cols: []arrow.DataType{d32, d32}, data: []string{`[19782]`, `[19737]`}, want: "45"},
		{name: "timestampdiff month", fn: "timestampdiff", ret: i64, cols: []arrow.DataType{ts, ts},
			data: []string{`[1705313472000000, 1705313472000000]`, `[1707991872000000, 1707991871000000]`},
			args: func(c []Expr) []Expr { return []Expr{strLit("MONTH"), c[0], c[1]} }, want: "1,0"},
		{name: "timestampdiff day", fn: "timestampdiff", ret: i64, cols: []arrow.DataType{ts, ts},
			data: []string{`[1707991872000000]`, `[1705313472000000]`},
			args: func(c []Expr) []Expr { return []Expr{strLit("DAY"), c[0], c[1]} }, want: "-31"},
		{name: "to_days", fn: "to_days", ret: i64, cols: d1, data: []string{`[0, 19737]`}, want: "719528,739265"},
		{name: "from_days", fn: "from_days", ret: d32, cols: []arrow.DataType{i64}, data: []string{`[739265, 10]`}, want: "2024-01-15,NULL"},
		{name: "unix_timestamp", fn: "unix_timestamp", ret: i64, cols: []arrow.DataType{ts}, data: []string{`[1705313472500000]`}, want: "1705313472"},
		{name: "from_unixtime", fn: "from_unixtime", ret: ts, cols: []arrow.DataType{i64}, data: []string{`[1705313472, -1]`}, want: "2024-01-15 10:11:12,NULL"},
		{name: "date_format", fn: "date_format", ret: str, cols: []arrow.DataType{ts}, data: []string{`[1705313472000123, null]`},
			args: withLits(strLit("%W %M %D %Y %H:%i:%s.%f %a %b %e %c %j %p %r %T %y %%")),
			want: "Monday January 15th 2024 10:11:12.000123 Mon Jan 15 1 015 AM 10:11:12 AM 10:11:12 24 %,NULL"},
		{name: "str_to_date date", fn: "str_to_date", ret: d32, cols: []arrow.DataType{str}, data: []string{`["15/01/2024", "31/02/2024", "x"]`},
			args: withLits(strLit("%d/%m/%Y")), want: "2024-01-15,NULL,NULL"},
		{name: "str_to_date datetime", fn: "str_to_date", ret: ts, cols: []arrow.DataType{str}, data: []string{`["May 1, 2013 10:05:03 PM"]`},
			args: withLits(strLit("%M %d, %Y %h:%i:%s %p")), want: "2013-05-01 22:05:03"},
	})
}
