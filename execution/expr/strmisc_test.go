package expr

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
)

func TestConv(t *testing.T) {
	for _, tc := range []struct {
		s        string
		from, to int64
		want     string
		null     bool
	}{
		{s: "a", from: 16, to: 2, want: "1010"},
		{s: "6E", from: 18, to: 8, want: "172"},
		{s: "-17", from: 10, to: -18, want: "-H"},
		{s: "-1", from: 10, to: 16, want: "FFFFFFFFFFFFFFFF"},
		{s: "  12abc", from: 10, to: 10, want: "12"},
		{s: "zz", from: 10, to: 16, want: "0"},
		{s: "FFFFFFFFFFFFFFFFFF", from: 16, to: 10, want: "18446744073709551615"},
		{s: "99999999999999999999", from: -10, to: -10, want: "9223372036854775807"},
		{s: "-99999999999999999999", from: -10, to: -10, want: "-9223372036854775808"},
		{s: "1", from: 1, to: 10, null: true},
		{s: "1", from: 10, to: 37, null: true},
	} {
		got, ok := conv(nil, tc.s, tc.from, tc.to)
		if ok == tc.null || (ok && string(got) != tc.want) {
			t.Errorf("CONV(%q, %d, %d) = %q, %v; want %q, null %v", tc.s, tc.from, tc.to, got, ok, tc.want, tc.null)
		}
	}
}

func TestFormatDigits(t *testing.T) {
	for _, tc := range []struct {
		num  string
		d    int
		want string
	}{
		{"12332.123456", 4, "12,332.1235"},
		{"12332.1", 4, "12,332.1000"},
		{"12332.5", 0, "12,333"},
		{"-999.995", 2, "-1,000.00"},
		{"999999", 0, "999,999"},
		{"-0.001", 2, "0.00"},
		{"9.99", 1, "10.0"},
		{"1234567", 2, "1,234,567.00"},
	} {
		got := string(groupThousands(nil, roundDigits([]byte(tc.num), tc.d), tc.d, ",", "."))
		if got != tc.want {
			t.Errorf("FORMAT(%s, %d) = %q, want %q", tc.num, tc.d, got, tc.want)
		}
	}
}

func TestInsertSoundexOrd(t *testing.T) {
	for _, tc := range []struct {
		s         string
		pos, n    int64
		repl, out string
	}{
		{"Quadratic", 3, 4, "What", "QuWhattic"},
		{"Quadratic", -1, 4, "What", "Quadratic"},
		{"Quadratic", 3, 100, "What", "QuWhat"},
		{"Quadratic", 3, -1, "What", "QuWhat"},
		{"abc", 4, 1, "X", "abc"}, // pos past the end: s (MySQL does not append)
		{"abc", 3, 1, "X", "abX"},
		{"abc", 5, 1, "X", "abc"},
		{"héllo", 2, 1, "e", "hello"},
	} {
		if got := string(insertStr(nil, tc.s, tc.pos, tc.n, tc.repl)); got != tc.out {
			t.Errorf("INSERT(%q, %d, %d, %q) = %q, want %q", tc.s, tc.pos, tc.n, tc.repl, got, tc.out)
		}
	}
	for s, want := range map[string]string{"Hello": "H400", "Quadratically": "Q36324", "": "", "123": "", "a": "A000"} {
		if got := string(soundex(nil, s)); got != want {
			t.Errorf("SOUNDEX(%q) = %q, want %q", s, got, want)
		}
	}
	for s, want := range map[string]int64{"2": 50, "é": 0xC3A9, "€uro": 0xE282AC, "": 0} {
		if got := ord(s); got != want {
			t.Errorf("ORD(%q) = %d, want %d", s, got, want)
		}
	}
}

// MySQL documents RAND(3) = 0.90576975597606; the next values continue
// the same seeded sequence.
func TestMysqlRand(t *testing.T) {
	r := newMysqlRand(3)
	if got := r.next(); got < 0.905769755976 || got > 0.905769755977 {
		t.Errorf("RAND(3) = %v", got)
	}
	second := r.next()
	if r2 := newMysqlRand(3); r2.next() == second || second < 0 || second >= 1 {
		t.Errorf("second value %v does not continue the sequence", second)
	}
}

func TestParseCompoundInterval(t *testing.T) {
	const s, m = usPerSec, 60 * usPerSec
	for _, tc := range []struct {
		in   string
		u    intervalUnit
		want int64
		bad  bool
	}{
		{in: "1:30", u: unitHourMinute, want: 90 * m},
		{in: "-1:30", u: unitHourMinute, want: -90 * m},
		{in: "1:30", u: unitDaySecond, want: 90 * s},
		{in: "1 1:1:1", u: unitDaySecond, want: usPerDay + 3661*s},
		{in: "1.5", u: unitSecondMicrosecond, want: 1500000},
		{in: "1.000002", u: unitSecondMicrosecond, want: 1000002},
		{in: "2-3", u: unitYearMonth, want: 27},
		{in: "", u: unitHourMinute, want: 0},
		{in: "1:2:3", u: unitHourMinute, bad: true},
		{in: "99999999999999999999:1", u: unitHourMinute, bad: true},
	} {
		got, ok := parseCompoundInterval(tc.in, tc.u)
		if ok == tc.bad || (ok && got != tc.want) {
			t.Errorf("%q unit %d = %d, %v; want %d, bad %v", tc.in, tc.u, got, ok, tc.want, tc.bad)
		}
	}
}

func TestMiscKernels(t *testing.T) {
	s1 := []arrow.DataType{str}
	runCalls(t, []callCase{
		{name: "hex string", fn: "hex", ret: str, cols: s1, data: []string{`["abc", "", null]`}, want: "616263,,NULL"},
		{name: "hex int", fn: "hex", ret: str, cols: []arrow.DataType{i64}, data: []string{`[255, -1, null]`}, want: "FF,FFFFFFFFFFFFFFFF,NULL"},
		{name: "unhex", fn: "unhex", ret: arrow.BinaryTypes.Binary, cols: s1, data: []string{`["616263", "zz", "F", null]`}, want: "abc,NULL,\x0f,NULL"},
		{name: "field strings", fn: "field", ret: i64, cols: []arrow.DataType{str, str, str}, data: []string{`["b", null, "a"]`, `["a", "a", null]`, `["b", "b", "a"]`}, want: "2,0,2"},
		{name: "elt", fn: "elt", ret: str, cols: []arrow.DataType{i64, str, str}, data: []string{`[1, 2, 3, null]`, `["a", "a", "a", "a"]`, `["b", null, "b", "b"]`}, want: "a,NULL,NULL,NULL"},
		{name: "interval", fn: "interval", ret: i64, cols: []arrow.DataType{i64, i64, i64}, data: []string{`[5, 0, 20, null]`, `[1, 1, 1, 1]`, `[10, 10, 10, 10]`}, want: "1,0,2,-1"},
		{name: "quote", fn: "quote", ret: str, cols: s1, data: []string{`["it's", null]`}, want: `'it\'s',NULL`},
		{name: "sha2 bad length", fn: "sha2", ret: str, cols: []arrow.DataType{str, i64}, data: []string{`["abc"]`, `[1]`}, want: "NULL"},
		{name: "cast_binary", fn: "cast_binary", ret: arrow.BinaryTypes.Binary, cols: []arrow.DataType{arrow.BinaryTypes.Binary, i64}, data: []string{`["YQ==", "YWJj"]`, `[2, 1]`}, want: "a\x00,a"},
		{name: "timediff", fn: "timediff", ret: arrow.FixedWidthTypes.Time64us, cols: []arrow.DataType{str, str}, data: []string{`["10:00:00", "2024-01-02", "10:00:00"]`, `["12:30:00", "2024-01-01", "2024-01-01"]`}, want: "-02:30:00,24:00:00,NULL"},
		{name: "sec_to_time clamps", fn: "sec_to_time", ret: arrow.FixedWidthTypes.Time64us, cols: []arrow.DataType{i64}, data: []string{`[2378, -9223372036854775808]`}, want: "00:39:38,-838:59:59"},
		{name: "makedate", fn: "makedate", ret: arrow.FixedWidthTypes.Date32, cols: []arrow.DataType{i64, i64}, data: []string{`[2011, 2011, 69, 2011]`, `[32, 0, 1, null]`}, want: "2011-02-01,NULL,2069-01-01,NULL"},
	})
}
