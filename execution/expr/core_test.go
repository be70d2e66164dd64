package expr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/qerr"
)

var (
	i64 = arrow.PrimitiveTypes.Int64
	u64 = arrow.PrimitiveTypes.Uint64
	f64 = arrow.PrimitiveTypes.Float64
	str = arrow.BinaryTypes.String
	bl  = arrow.FixedWidthTypes.Boolean
	d32 = arrow.FixedWidthTypes.Date32
	ts  = &arrow.TimestampType{Unit: arrow.Microsecond}
	tm  = arrow.FixedWidthTypes.Time64us
)

func TestArithmetic(t *testing.T) {
	two := []arrow.DataType{i64, i64}
	runCalls(t, []callCase{
		{name: "int add nulls", fn: "+", ret: i64, cols: two, data: []string{`[1, null, 3]`, `[10, 20, null]`}, want: "11,NULL,NULL"},
		{name: "int sub", fn: "-", ret: i64, cols: two, data: []string{`[1, 5]`, `[10, -5]`}, want: "-9,10"},
		{name: "int mul", fn: "*", ret: i64, cols: two, data: []string{`[3, -4]`, `[7, 5]`}, want: "21,-20"},
		{name: "int overflow", fn: "+", ret: i64, cols: two, data: []string{`[9223372036854775807]`, `[1]`}, err: "BIGINT value is out of range in '(c0 + c1)'"},
		{name: "int overflow under null ignored", fn: "+", ret: i64, cols: two, data: []string{`[9223372036854775807, 1]`, `[null, 1]`}, want: "NULL,2"},
		{name: "mul overflow", fn: "*", ret: i64, cols: two, data: []string{`[4611686018427387904]`, `[2]`}, err: "BIGINT value is out of range"},
		{name: "min int mul ok", fn: "*", ret: i64, cols: two, data: []string{`[-4611686018427387904]`, `[2]`}, want: "-9223372036854775808"},
		{name: "div by zero null", fn: "div", ret: i64, cols: two, data: []string{`[7, -7, 1]`, `[2, 2, 0]`}, want: "3,-3,NULL"},
		{name: "mod", fn: "%", ret: i64, cols: two, data: []string{`[7, -7, 1]`, `[3, 3, 0]`}, want: "1,-1,NULL"},
		{name: "float div", fn: "/", ret: f64, cols: []arrow.DataType{f64, f64}, data: []string{`[1, 1]`, `[4, 0]`}, want: "0.25,NULL"},
		{name: "uint sub underflow", fn: "-", ret: u64, cols: []arrow.DataType{u64, u64}, data: []string{`[1]`, `[2]`}, err: "BIGINT UNSIGNED value is out of range"},
		{name: "uint minus int", fn: "-", ret: u64, cols: []arrow.DataType{u64, i64}, data: []string{`[5, 18446744073709551615, null]`, `[-3, 1, 1]`}, want: "8,18446744073709551614,NULL"},
		{name: "uint minus int below zero", fn: "-", ret: u64, cols: []arrow.DataType{u64, i64}, data: []string{`[0]`, `[1]`}, err: "BIGINT UNSIGNED value is out of range in '(c0 - c1)'"},
		{name: "int plus uint", fn: "+", ret: u64, cols: []arrow.DataType{i64, u64}, data: []string{`[-1, -9223372036854775808]`, `[5, 9223372036854775808]`}, want: "4,0"},
		{name: "int plus uint overflow", fn: "+", ret: u64, cols: []arrow.DataType{i64, u64}, data: []string{`[1]`, `[18446744073709551615]`}, err: "BIGINT UNSIGNED value is out of range"},
		{name: "int times uint negative", fn: "*", ret: u64, cols: []arrow.DataType{i64, u64}, data: []string{`[-2, -2]`, `[0, 3]`}, err: "BIGINT UNSIGNED value is out of range"},
		{name: "int div uint", fn: "div", ret: u64, cols: []arrow.DataType{i64, u64}, data: []string{`[-3, 7, 7]`, `[10, 2, 0]`}, want: "0,3,NULL"},
		{name: "int mod uint keeps sign", fn: "%", ret: i64, cols: []arrow.DataType{i64, u64}, data: []string{`[-7, 7]`, `[3, 3]`}, want: "-1,1"},
		{name: "uint mod int", fn: "%", ret: u64, cols: []arrow.DataType{u64, i64}, data: []string{`[7]`, `[-3]`}, want: "1"},
		{name: "dec add rescale", fn: "+", ret: dec(17, 3), cols: []arrow.DataType{dec(15, 2), dec(10, 3)},
			data: []string{`["1.25", "-3.10", null]`, `["0.005", "1.000", "1.000"]`}, want: "1.255,-2.100,NULL"},
		{name: "dec sub", fn: "-", ret: dec(16, 2), cols: []arrow.DataType{dec(15, 2), dec(15, 2)},
			data: []string{`["1.00"]`, `["0.07"]`}, want: "0.93"},
		{name: "dec mul", fn: "*", ret: dec(30, 4), cols: []arrow.DataType{dec(15, 2), dec(15, 2)},
			data: []string{`["12.34", "-0.50"]`, `["0.95", "2.00"]`}, want: "11.7230,-1.0000"},
		{name: "dec mul big", fn: "*", ret: dec(38, 4), cols: []arrow.DataType{dec(38, 2), dec(38, 2)},
			data: []string{`["123456789012345678.12"]`, `["1000000.00"]`}, want: "123456789012345678120000.0000"},
		{name: "dec mul overflow", fn: "*", ret: dec(38, 0), cols: []arrow.DataType{dec(38, 0), dec(38, 0)},
			data: []string{`["10000000000000000000000000000000000000"]`, `["100"]`}, err: "DECIMAL value is out of range"},
		{name: "dec div", fn: "/", ret: dec(21, 6), cols: []arrow.DataType{dec(15, 2), dec(15, 2)},
			data: []string{`["2.00", "1.00", "-1.00"]`, `["3.00", "0.00", "3.00"]`}, want: "0.666667,NULL,-0.333333"},
		{name: "dec div int", fn: "/", ret: dec(23, 4), cols: []arrow.DataType{dec(19, 0), dec(19, 0)},
			data: []string{`["1"]`, `["3"]`}, want: "0.3333"},
		{name: "dec mod", fn: "%", ret: dec(4, 2), cols: []arrow.DataType{dec(3, 1), dec(3, 2)},
			data: []string{`["5.5", "1.0"]`, `["2.00", "0"]`}, want: "1.50,NULL"},
		{name: "dec intdiv", fn: "div", ret: i64, cols: []arrow.DataType{dec(3, 1), dec(3, 1)},
			data: []string{`["7.5", "-7.5"]`, `["2.0", "2.0"]`}, want: "3,-3"},
		{name: "neg", fn: "neg", ret: i64, cols: []arrow.DataType{i64}, data: []string{`[1, null, -3]`}, want: "-1,NULL,3"},
		{name: "neg dec", fn: "neg", ret: dec(5, 2), cols: []arrow.DataType{dec(5, 2)}, data: []string{`["1.50"]`}, want: "-1.50"},
	})
}

func TestCompareAndLogic(t *testing.T) {
	runCalls(t, []callCase{
		{name: "int lt", fn: "<", ret: bl, cols: []arrow.DataType{i64, i64}, data: []string{`[1, 2, null]`, `[2, 2, 1]`}, want: "1,0,NULL"},
		{name: "str eq binary collation", fn: "=", ret: bl, cols: []arrow.DataType{str, str}, data: []string{`["a", "A", "b"]`, `["a", "a", "a"]`}, want: "1,0,0"},
		{name: "str ge", fn: ">=", ret: bl, cols: []arrow.DataType{str, str}, data: []string{`["abc", "ab"]`, `["abb", "abc"]`}, want: "1,0"},
		{name: "dec scales", fn: "=", ret: bl, cols: []arrow.DataType{dec(15, 2), dec(3, 1)}, data: []string{`["0.50", "0.55"]`, `["0.5", "0.5"]`}, want: "1,0"},
		{name: "dec le scales", fn: "<=", ret: bl, cols: []arrow.DataType{dec(15, 2), dec(3, 1)}, data: []string{`["0.50", "0.55"]`, `["0.5", "0.5"]`}, want: "1,0"},
		{name: "date", fn: "<=", ret: bl, cols: []arrow.DataType{d32, d32}, data: []string{`[10, 11]`, `[10, 10]`}, want: "1,0"},
		{name: "nullsafe", fn: "<=>", ret: bl, cols: []arrow.DataType{i64, i64}, data: []string{`[1, null, null, 2]`, `[1, null, 1, 3]`}, want: "1,1,0,0"},
		{name: "and", fn: "and", ret: bl, cols: []arrow.DataType{bl, bl},
			data: []string{`[true, true, false, null, null, true]`, `[true, false, null, false, null, null]`}, want: "1,0,0,0,NULL,NULL"},
		{name: "or", fn: "or", ret: bl, cols: []arrow.DataType{bl, bl},
			data: []string{`[false, true, false, null, null]`, `[false, null, null, true, null]`}, want: "0,1,NULL,1,NULL"},
		{name: "xor", fn: "xor", ret: bl, cols: []arrow.DataType{bl, bl}, data: []string{`[true, true, null]`, `[false, true, true]`}, want: "1,0,NULL"},
		{name: "not", fn: "not", ret: bl, cols: []arrow.DataType{bl}, data: []string{`[true, false, null]`}, want: "0,1,NULL"},
		{name: "is_null", fn: "is_null", ret: bl, cols: []arrow.DataType{str}, data: []string{`["x", null]`}, want: "0,1"},
		{name: "is_null of NULL type", fn: "is_null", ret: bl, cols: []arrow.DataType{arrow.Null}, data: []string{`[null, null]`}, want: "1,1"},
		{name: "is_not_null of NULL type", fn: "is_not_null", ret: bl, cols: []arrow.DataType{arrow.Null}, data: []string{`[null, null]`}, want: "0,0"},
		{name: "is_not_true", fn: "is_not_true", ret: bl, cols: []arrow.DataType{bl}, data: []string{`[true, false, null]`}, want: "0,1,1"},
		{name: "is_false", fn: "is_false", ret: bl, cols: []arrow.DataType{bl}, data: []string{`[true, false, null]`}, want: "0,1,0"},
		{name: "in", fn: "in", ret: bl, cols: []arrow.DataType{i64}, data: []string{`[1, 2, null, 5]`},
			args: func(c []Expr) []Expr { return []Expr{c[0], lit(int64(1)), lit(int64(5))} }, want: "1,0,NULL,1"},
		{name: "in with null", fn: "in", ret: bl, cols: []arrow.DataType{i64}, data: []string{`[1, 2]`},
			args: func(c []Expr) []Expr { return []Expr{c[0], lit(int64(1)), NewLiteral(scalar.MakeNullScalar(i64))} }, want: "1,NULL"},
		{name: "in strings", fn: "in", ret: bl, cols: []arrow.DataType{str}, data: []string{`["MAIL", "SHIP", "AIR"]`},
			args: func(c []Expr) []Expr { return []Expr{c[0], strLit("MAIL"), strLit("SHIP")} }, want: "1,1,0"},
		{name: "coalesce", fn: "coalesce", ret: i64, cols: []arrow.DataType{i64, i64}, data: []string{`[1, null, null]`, `[2, 3, null]`}, want: "1,3,NULL"},
		{name: "coalesce str", fn: "coalesce", ret: str, cols: []arrow.DataType{str, str}, data: []string{`[null, "a"]`, `["b", "c"]`}, want: "b,a"},
		{name: "greatest", fn: "greatest", ret: i64, cols: []arrow.DataType{i64, i64, i64}, data: []string{`[1, 5, 1]`, `[3, 2, null]`, `[2, 9, 0]`}, want: "3,9,NULL"},
		{name: "least str", fn: "least", ret: str, cols: []arrow.DataType{str, str}, data: []string{`["b", "a"]`, `["a", "c"]`}, want: "a,a"},
		{name: "nullif", fn: "nullif", ret: i64, cols: []arrow.DataType{i64, i64}, data: []string{`[1, 2, null]`, `[1, 3, 1]`}, want: "NULL,2,NULL"},
	})
}

func TestLike(t *testing.T) {
	data := `["forest green", "PROMO BRUSHED", "a%b", "a_b", "axb", "", null, "Customer x Complaints", "héllo"]`
	cases := []struct{ pat, esc, want string }{
		{"%green%", "", "1,0,0,0,0,0,NULL,0,0"},
		{"PROMO%", "", "0,1,0,0,0,0,NULL,0,0"},
		{"%b", "", "0,0,1,1,1,0,NULL,0,0"},
		{"a\\%b", "", "0,0,1,0,0,0,NULL,0,0"},
		{"a_b", "", "0,0,1,1,1,0,NULL,0,0"},
		{"a|_b", "|", "0,0,0,1,0,0,NULL,0,0"},
		{"%Customer%Complaints%", "", "0,0,0,0,0,0,NULL,1,0"},
		{"", "", "0,0,0,0,0,1,NULL,0,0"},
		{"%", "", "1,1,1,1,1,1,NULL,1,1"},
		{"h_llo", "", "0,0,0,0,0,0,NULL,0,1"},
		{"%e%n", "", "1,0,0,0,0,0,NULL,0,0"},
		{"_%_%s", "", "0,0,0,0,0,0,NULL,1,0"},
		{"forest", "", "0,0,0,0,0,0,NULL,0,0"},
	}
	for _, tc := range cases {
		t.Run(tc.pat, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			a := col(t, mem, str, data)
			defer a.Release()
			b := batchOf(a)
			defer b.Release()
			args := []Expr{c(0, str), strLit(tc.pat)}
			if tc.esc != "" {
				args = append(args, strLit(tc.esc))
			}
			got, err := evalStr(t, mem, mustCall(t, "like", bl, args...), b)
			if err != nil || got != tc.want {
				t.Fatalf("LIKE %q = %s (%v), want %s", tc.pat, got, err, tc.want)
			}
		})
	}
	// Non-constant pattern column.
	runCalls(t, []callCase{{name: "pattern column", fn: "like", ret: bl, cols: []arrow.DataType{str, str},
		data: []string{`["abc", "abc", null]`, `["a%", "b%", "%"]`}, want: "1,0,NULL"}})
}

func TestCase(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	x := col(t, mem, i64, `[0, 1, 2, null, 4]`)
	defer x.Release()
	b := batchOf(x)
	defer b.Release()
	// CASE WHEN x = 0 THEN -1 WHEN x > 1 THEN 10 DIV x ELSE 100 DIV x END:
	// the DIV by zero in the ELSE never runs for x = 0.
	eq0 := mustCall(t, "=", bl, c(0, i64), lit(int64(0)))
	gt1 := mustCall(t, ">", bl, c(0, i64), lit(int64(1)))
	then2 := mustCall(t, "div", i64, lit(int64(10)), c(0, i64))
	overflow := mustCall(t, "*", i64, c(0, i64), lit(int64(9223372036854775807)))
	els := mustCall(t, "div", i64, lit(int64(100)), c(0, i64))
	e, err := NewCase([]Expr{eq0, gt1}, []Expr{lit(int64(-1)), then2}, els, i64)
	if err != nil {
		t.Fatal(err)
	}
	got, err := evalStr(t, mem, e, b)
	if err != nil || got != "-1,100,5,NULL,2" {
		t.Fatalf("CASE = %s (%v)", got, err)
	}
	// The overflowing THEN runs only where x = 0 (0 * max is fine), not x = 4.
	e2, _ := NewCase([]Expr{eq0}, []Expr{overflow}, nil, i64)
	got, err = evalStr(t, mem, e2, b)
	if err != nil || got != "0,NULL,NULL,NULL,NULL" {
		t.Fatalf("lazy CASE = %s (%v)", got, err)
	}
	// Eagerly it would overflow.
	if _, err := evalStr(t, mem, overflow, b); qerr.KindOf(err) != qerr.InvalidArgument {
		t.Fatalf("overflow error = %v", err)
	}
	// All rows take the first branch.
	e3, _ := NewCase([]Expr{mustCall(t, "is_not_null", bl, lit(int64(1)))}, []Expr{c(0, i64)}, nil, i64)
	got, err = evalStr(t, mem, e3, b)
	if err != nil || got != "0,1,2,NULL,4" {
		t.Fatalf("CASE all = %s (%v)", got, err)
	}
}

func TestEvalScalar(t *testing.T) {
	e := mustCall(t, "+", i64, lit(int64(40)), lit(int64(2)))
	s, err := EvalScalar(e)
	if err != nil {
		t.Fatal(err)
	}
	if v, ok := s.(*scalar.Int64); !ok || v.Value != 42 {
		t.Fatalf("EvalScalar = %v", s)
	}
	if _, err := EvalScalar(NewColumn(0, "x", i64)); err == nil {
		t.Fatal("EvalScalar over a column must fail")
	}
}

func TestCallLiteralWithoutNewCall(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	b := batchOf()
	defer b.Release()
	e := &Call{Name: "+", Args: []Expr{lit(int64(1)), lit(int64(2))}, Type: i64}
	if _, err := e.Eval(mem, b); qerr.KindOf(err) != qerr.Internal {
		t.Fatalf("Eval of a hand-built Call: %v", err)
	}
}
