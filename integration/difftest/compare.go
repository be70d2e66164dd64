package main

import (
	"fmt"
	"math"
	"math/big"
	"slices"
	"strconv"
	"strings"
)

// compare returns "" when the results agree, else what differs. ordered:
// the query's ORDER BY determines the row order completely.
func compare(q, m result, ordered bool) string {
	if q.err != nil || m.err != nil {
		switch {
		case q.err != nil && m.err != nil:
			return ""
		case q.err != nil:
			return "only Quiver failed: " + q.err.Error()
		default:
			return "only MariaDB failed: " + m.err.Error()
		}
	}
	if len(q.kinds) != len(m.kinds) {
		return fmt.Sprintf("column count: Quiver %d, MariaDB %d", len(q.kinds), len(m.kinds))
	}
	if len(q.rows) != len(m.rows) {
		return fmt.Sprintf("row count: Quiver %d, MariaDB %d", len(q.rows), len(m.rows))
	}
	qr, mr := q.rows, m.rows
	if !ordered {
		qr, mr = sorted(qr), sorted(mr)
	}
	for i := range qr {
		for c := range qr[i] {
			if msg := cellDiff(qr[i][c], mr[i][c], q.kinds[c], m.kinds[c]); msg != "" {
				return fmt.Sprintf("row %d column %d: %s", i+1, c+1, msg)
			}
		}
	}
	return ""
}

// cellDiff compares one value: floats within a relative tolerance when
// either side is a float, decimals exactly at their scale (a different
// scale is reported as such), dates with trailing fractional zeros trimmed.
func cellDiff(q, m cell, qk, mk kind) string {
	if !q.ok || !m.ok {
		if q.ok == m.ok {
			return ""
		}
		return fmt.Sprintf("Quiver %s, MariaDB %s", show(q), show(m))
	}
	if q.s == m.s {
		return ""
	}
	if e := equivalent(q, m, qk, mk); e != "" {
		return e
	}
	if qk == kFloat || mk == kFloat {
		a, err1 := strconv.ParseFloat(q.s, 64)
		b, err2 := strconv.ParseFloat(m.s, 64)
		if err1 == nil && err2 == nil && closeEnough(a, b) {
			return ""
		}
		return fmt.Sprintf("Quiver %s, MariaDB %s", q.s, m.s)
	}
	if qk == kTime && mk == kTime && trimFrac(q.s) == trimFrac(m.s) {
		return ""
	}
	if isNum(qk) && isNum(mk) {
		a, ok1 := new(big.Rat).SetString(q.s)
		b, ok2 := new(big.Rat).SetString(m.s)
		if ok1 && ok2 && a.Cmp(b) == 0 {
			return fmt.Sprintf("scale: Quiver %s, MariaDB %s", q.s, m.s)
		}
	}
	return fmt.Sprintf("Quiver %q, MariaDB %q", q.s, m.s)
}

func isNum(k kind) bool { return k == kInt || k == kDec }

func closeEnough(a, b float64) bool {
	if a == b {
		return true
	}
	d := math.Abs(a - b)
	return d <= 1e-9*math.Max(math.Abs(a), math.Abs(b)) || d < 1e-12
}

func trimFrac(s string) string {
	if i := strings.LastIndexByte(s, '.'); i >= 0 && strings.Contains(s, ":") {
		s = strings.TrimRight(s, "0")
		s = strings.TrimSuffix(s, ".")
	}
	return s
}

func show(c cell) string {
	if !c.ok {
		return "NULL"
	}
	return strconv.Quote(c.s)
}

// sorted orders rows by a key in which numbers are rounded (so float noise
// does not reorder otherwise equal rows).
func sorted(rows [][]cell) [][]cell {
	out := slices.Clone(rows)
	keys := make(map[*cell]string, len(out))
	key := func(r []cell) string {
		if k, ok := keys[&r[0]]; ok {
			return k
		}
		var sb strings.Builder
		for _, c := range r {
			if !c.ok {
				sb.WriteString("\x00N")
			} else if f, err := strconv.ParseFloat(c.s, 64); err == nil {
				fmt.Fprintf(&sb, "\x01%.9e", f+0) // +0: -0 prints as 0
			} else {
				sb.WriteString("\x02" + c.s)
			}
			sb.WriteByte(0xff)
		}
		keys[&r[0]] = sb.String()
		return keys[&r[0]]
	}
	slices.SortFunc(out, func(a, b []cell) int {
		if len(a) == 0 {
			return 0
		}
		return strings.Compare(key(a), key(b))
	})
	return out
}

// render prints a result for the report (at most 30 rows).
func render(r result) string {
	if r.err != nil {
		return "ERROR: " + r.err.Error()
	}
	var sb strings.Builder
	for i, row := range r.rows {
		if i == 30 {
			fmt.Fprintf(&sb, "  ... %d rows\n", len(r.rows))
			break
		}
		parts := make([]string, len(row))
		for c, v := range row {
			parts[c] = show(v)
		}
		sb.WriteString("  " + strings.Join(parts, " | ") + "\n")
	}
	if len(r.rows) == 0 {
		sb.WriteString("  (no rows)\n")
	}
	return sb.String()
}
