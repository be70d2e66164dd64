package engine_test

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/execution/expr"
	"go.uber.org/zap"
)

type colKind int

const (
	kInt colKind = iota
	kDec
	kStr
	kDate
)

type genCol struct {
	name string
	kind colKind
}

type genTable struct {
	name string
	cols []genCol
}

// Lineitem is left out to keep joins small; orders gives volume.
var genTables = []genTable{
	{"nation", []genCol{{"n_nationkey", kInt}, {"n_name", kStr}, {"n_regionkey", kInt}, {"n_comment", kStr}}},
	{"region", []genCol{{"r_regionkey", kInt}, {"r_name", kStr}, {"r_comment", kStr}}},
	{"supplier", []genCol{{"s_suppkey", kInt}, {"s_name", kStr}, {"s_nationkey", kInt}, {"s_phone", kStr}, {"s_acctbal", kDec}}},
	{"customer", []genCol{{"c_custkey", kInt}, {"c_name", kStr}, {"c_nationkey", kInt}, {"c_acctbal", kDec}, {"c_mktsegment", kStr}}},
	{"orders", []genCol{{"o_orderkey", kInt}, {"o_custkey", kInt}, {"o_orderstatus", kStr}, {"o_totalprice", kDec}, {"o_orderdate", kDate}, {"o_shippriority", kInt}, {"o_comment", kStr}}},
	{"part", []genCol{{"p_partkey", kInt}, {"p_name", kStr}, {"p_brand", kStr}, {"p_size", kInt}, {"p_retailprice", kDec}}},
}

// genFuncs are called with 0..3 random arguments of any type: type errors
// must come back as classified errors. rand/uuid are left out so results
// are deterministic for the oracles.
var genFuncs = []string{
	"abs", "acos", "addtime", "ascii", "atan2", "bin", "bit_count", "bit_length", "ceil", "char", "char_length",
	"coalesce", "concat", "concat_ws", "conv", "cos", "cot", "crc32", "date", "date_format", "datediff", "day",
	"dayofweek", "dayofyear", "degrees", "elt", "exp", "field", "find_in_set", "floor", "format", "from_base64",
	"from_days", "from_unixtime", "greatest", "hex", "hour", "inet_aton", "inet_ntoa", "insert", "instr",
	"last_day", "least", "left", "length", "ln", "locate", "log", "log10", "log2", "lower", "lpad", "ltrim",
	"makedate", "maketime", "md5", "minute", "month", "nullif", "oct", "ord", "period_add", "period_diff",
	"power", "quarter", "quote", "radians", "regexp_instr", "regexp_replace", "regexp_substr", "repeat",
	"replace", "reverse", "right", "round", "rpad", "rtrim", "sec_to_time", "second", "sha1", "sha2", "sign",
	"sin", "soundex", "space", "sqrt", "str_to_date", "strcmp", "substring", "substring_index", "subtime",
	"tan", "time", "time_format", "time_to_sec", "timediff", "timestamp", "to_base64", "to_days", "to_seconds",
	"trim", "truncate", "unhex", "unix_timestamp", "upper", "week", "weekday", "year", "yearweek",
}

type gen struct {
	r     *rand.Rand
	depth int
}

func (g *gen) pick(xs ...string) string { return xs[g.r.Intn(len(xs))] }

func (g *gen) literal() string {
	switch g.r.Intn(10) {
	case 0:
		return "NULL"
	case 1:
		return g.pick("0", "-1", "1", "9223372036854775807", "-9223372036854775808", "18446744073709551615", "2147483648")
	case 2:
		return g.pick("0.5", "-2.25", "1e308", "-0.0", "99999999999999999999.99", "3.14159")
	case 3:
		return g.pick("''", "'abc'", "' x '", "'2024-02-29'", "'1999-12-31 23:59:59'", "'12:30:00'", "'%'", "'a_b'", "'0x1F'", "'-5'", "'ÿé'")
	case 4:
		return g.pick("DATE '2024-01-31'", "TIMESTAMP '2000-02-29 12:00:00'", "DATE '1970-01-01'")
	default:
		return fmt.Sprint(g.r.Intn(200) - 50)
	}
}

func (g *gen) col(cols []string) string { return cols[g.r.Intn(len(cols))] }

// scalar returns a random scalar expression over cols (qualified names).
func (g *gen) scalar(cols []string) string {
	g.depth++
	defer func() { g.depth-- }()
	if g.depth > 3 {
		if g.r.Intn(3) == 0 {
			return g.literal()
		}
		return g.col(cols)
	}
	switch g.r.Intn(12) {
	case 0, 1:
		return g.col(cols)
	case 2:
		return g.literal()
	case 3:
		return "(" + g.scalar(cols) + " " + g.pick("+", "-", "*", "/", "DIV", "%", "&", "|", "<<") + " " + g.scalar(cols) + ")"
	case 4, 5:
		name := genFuncs[g.r.Intn(len(genFuncs))]
		n := 1 + g.r.Intn(2) // most functions take one or two; 0 and 3 test arity errors
		if g.r.Intn(5) == 0 {
			n = 3 * g.r.Intn(2)
		}
		args := make([]string, n)
		for i := range args {
			args[i] = g.scalar(cols)
		}
		return name + "(" + strings.Join(args, ", ") + ")"
	case 6:
		return "CASE WHEN " + g.pred(cols) + " THEN " + g.scalar(cols) + " ELSE " + g.scalar(cols) + " END"
	case 7:
		return "CAST(" + g.scalar(cols) + " AS " + g.pick("SIGNED", "UNSIGNED", "CHAR", "CHAR(3)", "DECIMAL(10,2)", "DECIMAL(5,0)", "DATE", "DATETIME", "DOUBLE", "TIME", "BINARY") + ")"
	case 8:
		return "(SELECT " + g.pick("MAX", "MIN", "COUNT", "SUM") + "(n_nationkey) FROM nation WHERE n_regionkey = " + g.col(cols) + ")"
	case 9:
		return g.scalar(cols) + " + INTERVAL " + fmt.Sprint(g.r.Intn(40)-20) + " " + g.pick("DAY", "MONTH", "YEAR", "HOUR", "SECOND")
	case 10:
		return "IF(" + g.pred(cols) + ", " + g.scalar(cols) + ", " + g.scalar(cols) + ")"
	default:
		return "-" + g.scalar(cols)
	}
}

func (g *gen) pred(cols []string) string {
	g.depth++
	defer func() { g.depth-- }()
	if g.depth > 3 {
		return g.col(cols) + " IS NULL"
	}
	switch g.r.Intn(10) {
	case 0:
		return "(" + g.pred(cols) + " " + g.pick("AND", "OR", "XOR") + " " + g.pred(cols) + ")"
	case 1:
		return "NOT (" + g.pred(cols) + ")"
	case 2:
		return g.scalar(cols) + " " + g.pick("", "NOT ") + "BETWEEN " + g.scalar(cols) + " AND " + g.scalar(cols)
	case 3:
		return g.scalar(cols) + " " + g.pick("", "NOT ") + "IN (" + g.literal() + ", " + g.scalar(cols) + ")"
	case 4:
		return g.scalar(cols) + " " + g.pick("", "NOT ") + "LIKE " + g.pick("'%a%'", "'A_'", "'%'", "''", "NULL")
	case 5:
		return g.pick("", "NOT ") + "EXISTS (SELECT 1 FROM region WHERE r_regionkey = " + g.col(cols) + ")"
	case 6:
		return g.col(cols) + " " + g.pick("", "NOT ") + "IN (SELECT n_nationkey FROM nation WHERE n_regionkey " + g.pick("<", ">", "=") + " " + fmt.Sprint(g.r.Intn(5)) + ")"
	case 7:
		return g.scalar(cols) + " IS " + g.pick("", "NOT ") + g.pick("NULL", "TRUE", "FALSE")
	default:
		return g.scalar(cols) + " " + g.pick("=", "<>", "<", "<=", ">", ">=", "<=>") + " " + g.scalar(cols)
	}
}

// from returns a FROM clause (one table or a join with a small table) and
// its qualified columns.
func (g *gen) from() (string, []string) {
	a := genTables[g.r.Intn(len(genTables))]
	cols := qualify("a", a)
	if g.r.Intn(2) == 0 {
		return a.name + " a", cols
	}
	b := genTables[g.r.Intn(3)] // nation, region, supplier: joins stay small
	bcols := qualify("b", b)
	on := "a." + intCol(g, a) + " = b." + intCol(g, b)
	join := g.pick("JOIN", "LEFT JOIN", "RIGHT JOIN")
	return a.name + " a " + join + " " + b.name + " b ON " + on, append(cols, bcols...)
}

func qualify(alias string, t genTable) []string {
	out := make([]string, len(t.cols))
	for i, c := range t.cols {
		out[i] = alias + "." + c.name
	}
	return out
}

func intCol(g *gen, t genTable) string {
	var ints []string
	for _, c := range t.cols {
		if c.kind == kInt {
			ints = append(ints, c.name)
		}
	}
	return ints[g.r.Intn(len(ints))]
}

// query returns a random SELECT whose output columns are named c0..cN.
func (g *gen) query() string {
	from, cols := g.from()
	var sel []string
	where := ""
	if g.r.Intn(2) == 0 {
		where = " WHERE " + g.pred(cols)
	}
	switch g.r.Intn(4) {
	case 0: // aggregate
		key := g.scalar(cols)
		sel = append(sel, key)
		for i := 0; i < 1+g.r.Intn(3); i++ {
			agg := g.pick("COUNT", "SUM", "AVG", "MIN", "MAX", "GROUP_CONCAT", "COUNT(DISTINCT", "BIT_OR", "STDDEV")
			if agg == "COUNT(DISTINCT" {
				sel = append(sel, agg+" "+g.scalar(cols)+")")
			} else {
				sel = append(sel, agg+"("+g.scalar(cols)+")")
			}
		}
		having := ""
		if g.r.Intn(3) == 0 {
			having = " HAVING COUNT(*) > " + fmt.Sprint(g.r.Intn(3))
		}
		return g.selectList(sel) + " FROM " + from + where + " GROUP BY 1" + having
	case 1: // window
		sel = append(sel, g.scalar(cols))
		win := g.pick("ROW_NUMBER()", "RANK()", "DENSE_RANK()", "SUM("+g.col(cols)+")", "LAG("+g.col(cols)+")", "COUNT(*)", "MAX("+g.scalar(cols)+")")
		sel = append(sel, win+" OVER (PARTITION BY "+g.scalar(cols)+" ORDER BY "+g.col(cols)+")")
		return g.selectList(sel) + " FROM " + from + where
	default:
		for i := 0; i < 1+g.r.Intn(3); i++ {
			sel = append(sel, g.scalar(cols))
		}
		q := g.selectList(sel) + " FROM " + from + where
		if g.r.Intn(3) == 0 {
			q += " ORDER BY 1 LIMIT " + fmt.Sprint(g.r.Intn(50))
		}
		return q
	}
}

func (g *gen) selectList(items []string) string {
	for i := range items {
		items[i] += fmt.Sprintf(" AS c%d", i)
	}
	d := ""
	if g.r.Intn(6) == 0 {
		d = "DISTINCT "
	}
	return "SELECT " + d + strings.Join(items, ", ")
}

// TestRandomQueries runs seeded random queries over TPC-H SF 0.01: none may
// panic, fail with an Internal error or leave memory accounted; a query's
// row count must equal COUNT(*) over it as a derived table; and WHERE p,
// WHERE NOT p and WHERE p IS NULL must partition the FROM's rows (TLP).
func TestRandomQueries(t *testing.T) {
	if testing.Short() {
		t.Skip("short")
	}
	for _, f := range genFuncs {
		if !expr.IsFunction(f) {
			t.Fatalf("generator function %s is not registered", f)
		}
	}
	e, s := tpch(t)
	g := &gen{r: rand.New(rand.NewSource(20240601))}
	deadline := time.Now().Add(20 * time.Second)
	ok, failed := 0, 0
	for i := 0; i < 300 && time.Now().Before(deadline); i++ {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		// run returns the row count, or the value when sql is a COUNT.
		run := func(sql string, isCount bool) (int64, bool) {
			n, first, err, failure := checkQuery(ctx, e, s, sql)
			if failure != "" {
				t.Errorf("query %d: %s\n%s", i, failure, sql)
			}
			if err != nil {
				return 0, false
			}
			if isCount {
				v, err := strconv.ParseInt(first, 10, 64)
				if err != nil {
					t.Errorf("query %d: COUNT(*) gave %q\n%s", i, first, sql)
				}
				return v, err == nil
			}
			return n, true
		}
		q := g.query()
		if n, good := run(q, false); good {
			ok++
			if c, good := run("SELECT COUNT(*) FROM ("+q+") t", true); !good || c != n {
				t.Errorf("query %d returns %d rows, COUNT(*) over it %d (ran: %v)\n%s", i, n, c, good, q)
			}
		} else {
			failed++
		}
		from, cols := g.from()
		p := g.pred(cols)
		total, good := run("SELECT COUNT(*) FROM "+from, true)
		var parts int64
		for _, w := range []string{p, "NOT (" + p + ")", "(" + p + ") IS NULL"} {
			c, partOK := run("SELECT COUNT(*) FROM "+from+" WHERE "+w, true)
			good = good && partOK
			parts += c
		}
		if good && parts != total {
			t.Errorf("query %d: WHERE p / NOT p / p IS NULL count %d rows, the table has %d\np = %s\nFROM %s", i, parts, total, p, from)
		}
		cancel()
	}
	t.Logf("%d queries ran, %d failed with a classified error", ok, failed)
	if ok < 50 {
		t.Errorf("only %d of the random queries ran: the generator is mostly producing errors", ok)
	}
}

func tpch(t *testing.T) (*engine.Engine, *engine.Session) {
	e, err := engine.New(context.Background(), engine.Config{
		DataDir:       filepath.Join("..", "testdata", "tpch-sf0.01"),
		DefaultSchema: "tpch",
	}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, e.NewSession()
}
