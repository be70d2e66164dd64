package main

import (
	"fmt"
	"math/rand"
	"strings"
)

// typ is the SQL type class the generator builds expressions of.
type typ int

const (
	tInt typ = iota
	tDec
	tDbl
	tStr
	tDate
	tDT
	tBool
	nTyp
)

// The tables share one column set (with different rows), so any column of
// any table can stand in any position; every reference is qualified.
var columns = []struct {
	name, sqlType string
	t             typ
}{
	{"id", "INT", tInt},
	{"a", "INT", tInt},
	{"b", "BIGINT", tInt},
	{"d", "DECIMAL(10,2)", tDec},
	{"f", "DOUBLE", tDbl},
	{"s", "VARCHAR(20)", tStr},
	{"dt", "DATE", tDate},
	{"ts", "DATETIME", tDT},
}

var tables = []struct {
	name string
	rows int
}{{"t1", 12}, {"t2", 8}, {"t3", 5}, {"e", 0}}

var values = [][]string{
	nil, // id: row number
	{"-3", "-1", "0", "1", "2", "2", "5", "7", "10", "NULL"},
	{"-100", "0", "1", "3", "42", "1000000", "-5", "NULL", "2"},
	{"-12.50", "0.00", "1.25", "3.33", "99.99", "100.00", "-0.01", "NULL", "2.00"},
	{"-2.5", "0", "0.1", "1.5", "3.75", "10000000000", "-0.001", "NULL", "2"},
	{"''", "'a'", "'abc'", "'A'", "'b%c'", "'hello world'", "'é'", "'日本'", "'x_y'", "' sp'", "NULL", "'abc'", "'tr '", "'2'"},
	{"'2024-01-31'", "'2023-12-25'", "'2000-02-29'", "'1999-01-01'", "'2024-03-01'", "NULL"},
	{"'2024-01-31 12:30:00'", "'2023-12-25 00:00:00'", "'2000-02-29 23:59:59'", "'2024-03-01 08:15:30'", "NULL"},
}

// setup returns the statements that create and fill the tables; collate is
// the table option for MariaDB (Quiver compares strings bytewise, no pad).
func setup(r *rand.Rand, collate string) []string {
	var out []string
	for _, t := range tables {
		var defs []string
		for _, c := range columns {
			defs = append(defs, c.name+" "+c.sqlType)
		}
		out = append(out, fmt.Sprintf("CREATE TABLE %s (%s)%s", t.name, strings.Join(defs, ", "), collate))
		if t.rows == 0 {
			continue
		}
		var rows []string
		for i := 1; i <= t.rows; i++ {
			vals := []string{fmt.Sprint(i)}
			for c := 1; c < len(columns); c++ {
				vs := values[c]
				v := vs[r.Intn(len(vs))]
				if t.name == "t3" && r.Intn(2) == 0 {
					v = "NULL"
				}
				vals = append(vals, v)
			}
			rows = append(rows, "("+strings.Join(vals, ", ")+")")
		}
		out = append(out, fmt.Sprintf("INSERT INTO %s VALUES %s", t.name, strings.Join(rows, ", ")))
	}
	return out
}

type colRef struct {
	expr string
	t    typ
}

// scope is what an expression may refer to.
type scope struct {
	cols []colRef
	// aggArgs: when set, the expression is in a grouped query: aggregates
	// over aggArgs may appear, and cols are the grouping columns.
	aggArgs []colRef
	grouped bool
	// outer columns a subquery may correlate with.
	outer []colRef
}

type gen struct {
	r      *rand.Rand
	nAlias int
}

func (g *gen) pick(n int) int { return g.r.Intn(n) }

func (g *gen) chance(p float64) bool { return g.r.Float64() < p }

func (g *gen) alias() string {
	g.nAlias++
	return fmt.Sprintf("x%d", g.nAlias)
}

func oneOf[T any](g *gen, xs ...T) T { return xs[g.r.Intn(len(xs))] }

func (g *gen) literal(t typ) string {
	switch t {
	case tInt:
		if g.chance(0.03) {
			return oneOf(g, "9223372036854775807", "-9223372036854775807", "2147483647")
		}
		return oneOf(g, "0", "1", "2", "3", "-1", "5", "10", "100", "-7")
	case tDec:
		return oneOf(g, "1.50", "-0.25", "3.333", "0.0", "10.5", "2.00")
	case tDbl:
		return oneOf(g, "1.5e0", "-2.5e0", "0.1e0", "1e3", "0e0")
	case tStr:
		return oneOf(g, "'abc'", "'a'", "''", "'A'", "'é'", "'hello'", "'x_y'", "'2'", "' sp'", "'3abc'")
	case tDate:
		return oneOf(g, "DATE '2024-01-31'", "DATE '2000-02-29'", "DATE '2023-12-25'", "DATE '1999-12-31'")
	case tDT:
		return oneOf(g, "TIMESTAMP '2024-01-31 12:30:00'", "TIMESTAMP '2000-02-29 23:59:59'")
	case tBool:
		return oneOf(g, "TRUE", "FALSE")
	}
	panic("type")
}

func (g *gen) colOf(sc *scope, t typ) (string, bool) {
	var cands []string
	for _, c := range sc.cols {
		if c.t == t {
			cands = append(cands, c.expr)
		}
	}
	if g.chance(0.2) {
		for _, c := range sc.outer {
			if c.t == t {
				cands = append(cands, c.expr)
			}
		}
	}
	if len(cands) == 0 {
		return "", false
	}
	return cands[g.pick(len(cands))], true
}

func (g *gen) leaf(sc *scope, t typ) string {
	if sc.grouped && g.chance(0.6) {
		if a, ok := g.aggregate(sc, t); ok {
			return a
		}
	}
	if t == tBool {
		return g.compare(sc, 0)
	}
	if g.chance(0.75) {
		if c, ok := g.colOf(sc, t); ok {
			return c
		}
	}
	if g.chance(0.05) {
		return "NULL"
	}
	return g.literal(t)
}

// aggregate returns an aggregate of type t over sc.aggArgs.
func (g *gen) aggregate(sc *scope, t typ) (string, bool) {
	// No outer references: an aggregate of only outer columns belongs to
	// the outer query (a MySQL rule Quiver does not implement, see report).
	in := &scope{cols: sc.aggArgs}
	arg := func(t typ) string { return g.expr(in, t, 1) }
	switch t {
	case tInt:
		switch g.pick(4) {
		case 0:
			return "COUNT(*)", true
		case 1:
			return "COUNT(" + arg(typ(g.pick(int(tDT)+1))) + ")", true
		case 2:
			return "COUNT(DISTINCT " + arg(typ(g.pick(int(tDT)+1))) + ")", true
		default:
			return oneOf(g, "MIN", "MAX") + "(" + arg(tInt) + ")", true
		}
	case tDec:
		return oneOf(g, "SUM", "AVG", "MIN", "MAX") + "(" + arg(oneOf(g, tInt, tDec)) + ")", true
	case tDbl:
		if g.chance(0.3) {
			return oneOf(g, "STDDEV_POP", "VAR_SAMP", "VAR_POP") + "(" + arg(oneOf(g, tInt, tDbl)) + ")", true
		}
		return oneOf(g, "SUM", "AVG", "MIN", "MAX") + "(" + arg(tDbl) + ")", true
	case tStr:
		if g.chance(0.3) {
			x := arg(tStr)
			return fmt.Sprintf("GROUP_CONCAT(%s ORDER BY %s)", x, x), true
		}
		return oneOf(g, "MIN", "MAX") + "(" + arg(tStr) + ")", true
	case tDate, tDT:
		return oneOf(g, "MIN", "MAX") + "(" + arg(t) + ")", true
	}
	return "", false
}

func (g *gen) expr(sc *scope, t typ, depth int) string {
	if depth <= 0 || g.chance(0.3) {
		return g.leaf(sc, t)
	}
	d := depth - 1
	e := func(t typ) string { return g.expr(sc, t, d) }
	// Shared forms for every type.
	switch g.pick(12) {
	case 0:
		return fmt.Sprintf("CASE WHEN %s THEN %s ELSE %s END", e(tBool), e(t), e(t))
	case 1:
		return fmt.Sprintf("IF(%s, %s, %s)", e(tBool), e(t), e(t))
	case 2:
		return fmt.Sprintf("COALESCE(%s, %s)", e(t), e(t))
	case 3:
		if t != tBool && g.chance(0.4) {
			return g.scalarSubquery(sc, t)
		}
	case 4:
		if t != tBool {
			return fmt.Sprintf("NULLIF(%s, %s)", e(t), e(t))
		}
	case 5:
		if t == tInt || t == tDec || t == tDbl || t == tStr {
			return fmt.Sprintf("%s(%s, %s)", oneOf(g, "GREATEST", "LEAST"), e(t), e(t))
		}
	}
	switch t {
	case tInt:
		switch g.pick(14) {
		case 0, 1, 2:
			return fmt.Sprintf("(%s %s %s)", e(tInt), oneOf(g, "+", "-", "*"), e(tInt))
		case 3:
			return fmt.Sprintf("(%s %s %s)", e(tInt), oneOf(g, "DIV", "%", "MOD"), e(tInt))
		case 4:
			return fmt.Sprintf("%s(%s)", oneOf(g, "ABS", "SIGN", "-"), e(tInt))
		case 5:
			return fmt.Sprintf("%s(%s)", oneOf(g, "LENGTH", "CHAR_LENGTH", "ASCII"), e(tStr))
		case 6:
			return fmt.Sprintf("%s(%s)", oneOf(g, "YEAR", "MONTH", "DAY", "DAYOFWEEK", "DAYOFYEAR", "QUARTER"), e(oneOf(g, tDate, tDT)))
		case 7:
			return fmt.Sprintf("DATEDIFF(%s, %s)", e(tDate), e(tDate))
		case 8:
			return fmt.Sprintf("CAST(%s AS SIGNED)", e(oneOf(g, tDec, tDbl, tStr, tInt)))
		case 9:
			return fmt.Sprintf("%s(%s, %s)", oneOf(g, "INSTR", "LOCATE"), e(tStr), e(tStr))
		case 10:
			return fmt.Sprintf("%s(%s)", oneOf(g, "FLOOR", "CEIL", "ROUND"), e(tInt))
		case 11:
			return fmt.Sprintf("%s(%s)", oneOf(g, "HOUR", "MINUTE", "SECOND"), e(tDT))
		case 12:
			return fmt.Sprintf("(%s)", e(tBool))
		}
	case tDec:
		switch g.pick(9) {
		case 0, 1:
			return fmt.Sprintf("(%s %s %s)", e(oneOf(g, tInt, tDec)), oneOf(g, "+", "-", "*"), e(tDec))
		case 2, 3:
			return fmt.Sprintf("(%s / %s)", e(oneOf(g, tInt, tDec)), e(oneOf(g, tInt, tDec)))
		case 4:
			return fmt.Sprintf("%s(%s, %d)", oneOf(g, "ROUND", "TRUNCATE"), e(tDec), g.pick(4)-1)
		case 5:
			return fmt.Sprintf("CAST(%s AS DECIMAL(10,2))", e(oneOf(g, tInt, tDec, tDbl, tStr)))
		case 6:
			return fmt.Sprintf("%s(%s)", oneOf(g, "ABS", "-"), e(tDec))
		case 7:
			return fmt.Sprintf("(%s %% %s)", e(tDec), e(oneOf(g, tInt, tDec)))
		}
	case tDbl:
		switch g.pick(7) {
		case 0, 1:
			return fmt.Sprintf("(%s %s %s)", e(tDbl), oneOf(g, "+", "-", "*", "/"), e(oneOf(g, tInt, tDec, tDbl)))
		case 2:
			return fmt.Sprintf("%s(%s)", oneOf(g, "ABS", "FLOOR", "CEIL", "-"), e(tDbl))
		case 3:
			return fmt.Sprintf("ROUND(%s, %d)", e(tDbl), g.pick(3))
		case 4:
			return fmt.Sprintf("SQRT(ABS(%s))", e(tDbl))
		case 5:
			return fmt.Sprintf("CAST(%s AS DOUBLE)", e(oneOf(g, tInt, tDec, tStr)))
		}
	case tStr:
		switch g.pick(14) {
		case 0, 1:
			return fmt.Sprintf("CONCAT(%s, %s)", e(tStr), e(oneOf(g, tStr, tInt)))
		case 2:
			return fmt.Sprintf("%s(%s)", oneOf(g, "UPPER", "LOWER", "TRIM", "LTRIM", "RTRIM", "REVERSE"), e(tStr))
		case 3:
			return fmt.Sprintf("SUBSTRING(%s, %s, %s)", e(tStr), oneOf(g, "1", "2", "-2", "0"), oneOf(g, "1", "2", "3", "0", "-1"))
		case 4:
			return fmt.Sprintf("SUBSTRING(%s, %s)", e(tStr), oneOf(g, "1", "2", "-1", "0"))
		case 5:
			return fmt.Sprintf("REPLACE(%s, %s, %s)", e(tStr), oneOf(g, "'a'", "'b'", "''"), oneOf(g, "'zz'", "''"))
		case 6:
			return fmt.Sprintf("%s(%s, %s)", oneOf(g, "LEFT", "RIGHT"), e(tStr), oneOf(g, "0", "1", "2", "-1"))
		case 7:
			return fmt.Sprintf("%s(%s, %s, %s)", oneOf(g, "LPAD", "RPAD"), e(tStr), oneOf(g, "0", "2", "5"), oneOf(g, "'*'", "'ab'"))
		case 8:
			return fmt.Sprintf("CONCAT_WS(%s, %s, %s)", oneOf(g, "'-'", "NULL"), e(tStr), e(tStr))
		case 9:
			return fmt.Sprintf("CAST(%s AS CHAR)", e(oneOf(g, tInt, tDec, tDate, tDT)))
		case 10:
			return fmt.Sprintf("DATE_FORMAT(%s, %s)", e(oneOf(g, tDate, tDT)), oneOf(g, "'%Y/%m/%d'", "'%d.%m.%y %H:%i'", "'%W %M %e'", "'%j %a %b'"))
		case 11:
			return fmt.Sprintf("REPEAT(%s, %s)", e(tStr), oneOf(g, "0", "2", "-1"))
		}
	case tDate:
		switch g.pick(5) {
		case 0:
			return fmt.Sprintf("%s(%s, INTERVAL %s %s)", oneOf(g, "DATE_ADD", "DATE_SUB"), e(tDate), e(tInt), oneOf(g, "DAY", "MONTH", "YEAR", "WEEK"))
		case 1:
			return fmt.Sprintf("LAST_DAY(%s)", e(oneOf(g, tDate, tDT)))
		case 2:
			return fmt.Sprintf("DATE(%s)", e(tDT))
		case 3:
			return fmt.Sprintf("CAST(%s AS DATE)", e(tDT)) // MariaDB compares CAST('bad' AS DATE) as a date, MySQL as NULL
		}
	case tDT:
		switch g.pick(3) {
		case 0:
			return fmt.Sprintf("%s(%s, INTERVAL %s %s)", oneOf(g, "DATE_ADD", "DATE_SUB"), e(tDT), e(tInt), oneOf(g, "HOUR", "MINUTE", "SECOND", "DAY"))
		case 1:
			return fmt.Sprintf("CAST(%s AS DATETIME)", e(tDate))
		}
	case tBool:
		switch g.pick(8) {
		case 0, 1:
			return fmt.Sprintf("(%s %s %s)", e(tBool), oneOf(g, "AND", "OR", "XOR"), e(tBool))
		case 2:
			return fmt.Sprintf("NOT (%s)", e(tBool))
		case 3:
			return fmt.Sprintf("(%s) IS %s", e(tBool), oneOf(g, "TRUE", "FALSE", "NOT TRUE", "UNKNOWN"))
		case 4:
			if g.chance(0.5) && !sc.grouped {
				return g.subqueryPredicate(sc)
			}
		}
		return g.compare(sc, d)
	}
	return g.leaf(sc, t)
}

// compare is a predicate over values of one type (sometimes two numeric types).
func (g *gen) compare(sc *scope, d int) string {
	t := typ(g.pick(int(tDT) + 1))
	e := func() string { return g.expr(sc, t, d) }
	switch g.pick(8) {
	case 0:
		return fmt.Sprintf("(%s IS %sNULL)", e(), oneOf(g, "", "NOT "))
	case 1:
		return fmt.Sprintf("(%s %sBETWEEN %s AND %s)", e(), oneOf(g, "", "NOT "), e(), e())
	case 2:
		n := 1 + g.pick(4)
		var xs []string
		for range n {
			if g.chance(0.15) {
				xs = append(xs, "NULL")
			} else {
				xs = append(xs, g.literal(t))
			}
		}
		return fmt.Sprintf("(%s %sIN (%s))", e(), oneOf(g, "", "NOT "), strings.Join(xs, ", "))
	case 3:
		if t == tStr {
			return fmt.Sprintf("(%s %sLIKE %s)", e(), oneOf(g, "", "NOT "), oneOf(g, "'a%'", "'%c'", "'_'", "'%'", "''", "'%b\\%%'", "'x\\_y'", "'%_%'", "'A%'"))
		}
	case 4:
		if t <= tDbl { // mixed numeric comparison
			t2 := typ(g.pick(3))
			return fmt.Sprintf("(%s %s %s)", e(), oneOf(g, "=", "<", ">=", "<>"), g.expr(sc, t2, d))
		}
	}
	return fmt.Sprintf("(%s %s %s)", e(), oneOf(g, "=", "<>", "!=", "<", "<=", ">", ">=", "<=>"), e())
}

func tableScope(alias string) []colRef {
	var out []colRef
	for _, c := range columns {
		out = append(out, colRef{alias + "." + c.name, c.t})
	}
	return out
}

func (g *gen) table() string {
	// e (empty) less often.
	return oneOf(g, "t1", "t1", "t2", "t2", "t3", "e")
}

// inner scope of a subquery over one table, correlated with sc.
func (g *gen) subScope(sc *scope) (from string, in *scope) {
	a := g.alias()
	outer := append(append([]colRef{}, sc.outer...), sc.cols...)
	if sc.grouped {
		outer = nil // correlating with a grouped query needs care; skip
	}
	return g.table() + " " + a, &scope{cols: tableScope(a), outer: outer}
}

func (g *gen) where(in *scope) string {
	if g.chance(0.7) {
		return " WHERE " + g.expr(in, tBool, 2)
	}
	return ""
}

func (g *gen) scalarSubquery(sc *scope, t typ) string {
	from, in := g.subScope(sc)
	if g.chance(0.6) {
		agg, _ := g.aggregate(&scope{aggArgs: in.cols, outer: in.outer}, t)
		return fmt.Sprintf("(SELECT %s FROM %s%s)", agg, from, g.where(in))
	}
	// A non-aggregate scalar subquery must return at most one row.
	x := g.expr(in, t, 1)
	return fmt.Sprintf("(SELECT %s FROM %s%s ORDER BY 1 %s LIMIT 1)", x, from, g.where(in), oneOf(g, "ASC", "DESC"))
}

func (g *gen) subqueryPredicate(sc *scope) string {
	from, in := g.subScope(sc)
	switch g.pick(3) {
	case 0:
		return fmt.Sprintf("%sEXISTS (SELECT 1 FROM %s%s)", oneOf(g, "", "NOT "), from, g.where(in))
	default:
		t := typ(g.pick(int(tDT) + 1))
		x := g.expr(sc, t, 1)
		return fmt.Sprintf("(%s %sIN (SELECT %s FROM %s%s))", x, oneOf(g, "", "NOT "), g.expr(in, t, 1), from, g.where(in))
	}
}

// query is a generated statement; ordered says its ORDER BY fixes the order.
type query struct {
	sql     string
	ordered bool
}

func (g *gen) query() query {
	g.nAlias = 0
	switch g.pick(10) {
	case 0, 1, 2:
		return g.simple(false)
	case 3, 4:
		return g.grouped()
	case 5:
		return g.setop()
	case 6:
		return g.window()
	case 7:
		return g.derived()
	default:
		return g.simple(true)
	}
}

// from builds a FROM clause of one to three tables and their scope.
func (g *gen) from(joins bool) (string, *scope) {
	a := g.alias()
	sc := &scope{cols: tableScope(a)}
	from := g.table() + " " + a
	if !joins {
		return from, sc
	}
	n := 1 + g.pick(2)
	for range n {
		b := g.alias()
		kind := oneOf(g, "JOIN", "LEFT JOIN", "RIGHT JOIN", "CROSS JOIN", "LEFT JOIN", "JOIN")
		right := &scope{cols: tableScope(b)}
		both := &scope{cols: append(append([]colRef{}, sc.cols...), right.cols...)}
		if kind == "CROSS JOIN" {
			from += " CROSS JOIN " + g.table() + " " + b
		} else {
			var on string
			if g.chance(0.6) {
				// an equi-join key (hash join) plus maybe more
				c := columns[1+g.pick(len(columns)-1)]
				l := sc.cols[g.pick(len(sc.cols)/len(columns))*len(columns)+colIndex(c.name)].expr
				on = fmt.Sprintf("%s = %s.%s", l, b, c.name)
				if g.chance(0.3) {
					on += " AND " + g.expr(both, tBool, 1)
				}
			} else {
				on = g.expr(both, tBool, 2)
			}
			from += fmt.Sprintf(" %s %s %s ON %s", kind, g.table(), b, on)
		}
		sc = both
	}
	return from, sc
}

func colIndex(name string) int {
	for i, c := range columns {
		if c.name == name {
			return i
		}
	}
	panic(name)
}

func (g *gen) selectList(sc *scope, n int) ([]string, []typ) {
	var items []string
	var ts []typ
	for i := range n {
		t := typ(g.pick(int(nTyp)))
		items = append(items, fmt.Sprintf("%s AS c%d", g.expr(sc, t, 3), i))
		ts = append(ts, t)
	}
	return items, ts
}

func orderAll(n int) string {
	var xs []string
	for i := range n {
		xs = append(xs, fmt.Sprintf("%d", i+1))
	}
	return " ORDER BY " + strings.Join(xs, ", ")
}

func (g *gen) simple(joins bool) query {
	from, sc := g.from(joins)
	n := 1 + g.pick(3)
	items, _ := g.selectList(sc, n)
	distinct := ""
	if g.chance(0.15) {
		distinct = "DISTINCT "
	}
	q := fmt.Sprintf("SELECT %s%s FROM %s%s", distinct, strings.Join(items, ", "), from, g.where(sc))
	if g.chance(0.3) {
		q += orderAll(n)
		if g.chance(0.7) {
			q += fmt.Sprintf(" LIMIT %d", g.pick(6))
			if g.chance(0.3) {
				q += fmt.Sprintf(" OFFSET %d", g.pick(5))
			}
		}
		return query{q, true}
	}
	return query{q, false}
}

func (g *gen) grouped() query {
	from, sc := g.from(g.chance(0.4))
	var keys []colRef
	if g.chance(0.8) {
		for range 1 + g.pick(2) {
			keys = append(keys, sc.cols[g.pick(len(sc.cols))])
		}
	}
	gs := &scope{cols: keys, aggArgs: sc.cols, grouped: true}
	var items, ks []string
	for i, k := range keys {
		items = append(items, fmt.Sprintf("%s AS k%d", k.expr, i))
		ks = append(ks, k.expr)
	}
	n := 1 + g.pick(3)
	for i := range n {
		t := typ(g.pick(int(tDT) + 1))
		var x string
		if g.chance(0.6) {
			x, _ = g.aggregate(gs, t)
		} else {
			x = g.expr(gs, t, 2)
		}
		items = append(items, fmt.Sprintf("%s AS c%d", x, i))
	}
	q := fmt.Sprintf("SELECT %s FROM %s%s", strings.Join(items, ", "), from, g.where(sc))
	if len(keys) > 0 {
		q += " GROUP BY " + strings.Join(ks, ", ")
	}
	if g.chance(0.4) {
		q += " HAVING " + g.expr(gs, tBool, 2)
	}
	if g.chance(0.3) {
		q += orderAll(len(items))
		if g.chance(0.5) {
			q += fmt.Sprintf(" LIMIT %d", g.pick(4))
		}
		return query{q, true}
	}
	return query{q, false}
}

func (g *gen) setop() query {
	n := 1 + g.pick(2)
	var ts []typ
	for range n {
		ts = append(ts, typ(g.pick(int(tDT)+1)))
	}
	part := func() string {
		from, sc := g.from(false)
		var items []string
		for i, t := range ts {
			items = append(items, fmt.Sprintf("%s AS c%d", g.expr(sc, t, 2), i))
		}
		return fmt.Sprintf("SELECT %s FROM %s%s", strings.Join(items, ", "), from, g.where(sc))
	}
	q := part()
	for range 1 + g.pick(2) {
		q += " " + oneOf(g, "UNION", "UNION ALL", "UNION ALL") + " " + part()
	}
	if g.chance(0.3) {
		q += orderAll(n) + fmt.Sprintf(" LIMIT %d", g.pick(6))
		return query{q, true}
	}
	return query{q, false}
}

func (g *gen) window() query {
	a := g.alias()
	sc := &scope{cols: tableScope(a)}
	part := ""
	if g.chance(0.6) {
		c, _ := g.colOf(sc, typ(g.pick(int(tDT)+1)))
		part = "PARTITION BY " + c + " "
	}
	var w string
	switch g.pick(6) {
	case 0:
		w = fmt.Sprintf("ROW_NUMBER() OVER (%sORDER BY %s.id)", part, a)
	case 1:
		c, _ := g.colOf(sc, typ(g.pick(int(tDT)+1)))
		w = fmt.Sprintf("%s() OVER (%sORDER BY %s)", oneOf(g, "RANK", "DENSE_RANK"), part, c)
	case 2:
		w = fmt.Sprintf("%s(%s) OVER (%s)", oneOf(g, "SUM", "MIN", "MAX", "COUNT", "AVG"), g.expr(sc, oneOf(g, tInt, tDec), 1), part)
	case 3:
		w = fmt.Sprintf("%s(%s) OVER (%sORDER BY %s.id)", oneOf(g, "SUM", "MIN", "MAX", "COUNT"), g.expr(sc, oneOf(g, tInt, tDec), 1), part, a)
	case 4:
		w = fmt.Sprintf("%s(%s, %d) OVER (%sORDER BY %s.id)", oneOf(g, "LAG", "LEAD"), g.expr(sc, typ(g.pick(int(tDT)+1)), 1), 1+g.pick(2), part, a)
	case 5:
		w = fmt.Sprintf("SUM(%s) OVER (%sORDER BY %s.id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)", g.expr(sc, oneOf(g, tInt, tDec), 1), part, a)
	}
	q := fmt.Sprintf("SELECT %s.id, %s AS w FROM %s %s%s", a, w, g.table(), a, g.where(sc))
	return query{q, false}
}

func (g *gen) derived() query {
	inner := g.simple(g.chance(0.3))
	if inner.ordered { // the top-level ORDER BY comes last
		inner.sql = inner.sql[:strings.LastIndex(inner.sql, " ORDER BY ")]
	}
	// The derived table's columns are c0..; their types are unknown here,
	// so the outer query only counts and filters for NULLs or groups.
	a := g.alias()
	switch g.pick(3) {
	case 0:
		return query{fmt.Sprintf("SELECT COUNT(*), COUNT(%s.c0) FROM (%s) %s", a, inner.sql, a), false}
	case 1:
		return query{fmt.Sprintf("SELECT %s.c0, COUNT(*) FROM (%s) %s GROUP BY %s.c0", a, inner.sql, a, a), false}
	default:
		return query{fmt.Sprintf("SELECT * FROM (%s) %s WHERE %s.c0 IS NOT NULL", inner.sql, a, a), false}
	}
}
