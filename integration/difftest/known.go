package main

import (
	"math/big"
	"strings"
)

// known returns why a difference is expected, "" when it is not: a
// MariaDB-vs-MySQL 8 difference, a documented Quiver decision, or a Quiver
// limitation that fails with a clear error (counted, not reported).
func known(sql string, q, m result, diff string) string {
	if q.err != nil && m.err == nil {
		msg := q.err.Error()
		for _, s := range []string{"is not supported", "not supported"} {
			if strings.Contains(msg, s) {
				return "Quiver: unsupported subquery shape"
			}
		}
	}
	if strings.HasPrefix(diff, "~") || strings.Contains(diff, ": ~") {
		return diff[strings.Index(diff, "~")+1:]
	}
	if m.err == nil {
		for _, row := range m.rows {
			for _, c := range row {
				if c.ok && strings.HasPrefix(c.s, "-0") && strings.Trim(c.s, "-0.") == "" {
					// and compares it unequal to 0 (-12.50 % -0.25 IN (0.0) is 0)
					return "MariaDB negative decimal zero"
				}
			}
		}
	}
	if strings.Contains(sql, " / ") && strings.Contains(diff, "Quiver") && q.err == nil && m.err == nil && closeRows(q, m) {
		return "decimal intermediate precision (MySQL keeps 9 digits per word)"
	}
	if strings.Contains(sql, " AS SIGNED)") && q.err == nil && m.err == nil {
		// MariaDB rounds x.5 doubles to even (rint); Quiver away from zero.
		return "CAST(double AS SIGNED) rounding"
	}
	return ""
}

// equivalent classifies value differences that are not Quiver bugs; the
// returned text starts with "~" (see known).
func equivalent(q, m cell, qk, mk kind) string {
	// MySQL and MariaDB keep a decimal division's intermediate result at 9
	// digits per word (SELECT 1/3*3 is 1.0000), Quiver at the result's
	// declared scale, so a value derived from a division may differ in the
	// last digits.
	if (qk == kDec || qk == kFloat) && (mk == kDec || mk == kFloat) && roundsTo(m.s, q.s) {
		return "~decimal intermediate precision (MySQL keeps 9 digits per word)"
	}
	// MariaDB prints a DOUBLE of an aggregate/expression with fixed
	// decimals (VAR_POP of integers: 9.5556).
	if qk == kFloat && mk == kFloat && roundsTo(q.s, m.s) {
		return "~MariaDB prints the double with fixed decimals"
	}
	if strings.TrimPrefix(m.s, "-") == q.s && strings.Trim(q.s, "0.") == "" {
		return "~MariaDB prints a negative decimal zero"
	}
	return ""
}

// roundsTo reports whether long, rounded half away from zero to as many
// decimals as short shows (trailing zeros dropped), equals short.
func roundsTo(long, short string) bool {
	s := short
	if strings.ContainsAny(s, "eE") || strings.ContainsAny(long, "eE") {
		return false
	}
	if i := strings.IndexByte(s, '.'); i >= 0 {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	digits := 0
	if i := strings.IndexByte(s, '.'); i >= 0 {
		digits = len(s) - i - 1
	}
	l, ok1 := new(big.Rat).SetString(long)
	sh, ok2 := new(big.Rat).SetString(s)
	if !ok1 || !ok2 {
		return false
	}
	scale := new(big.Rat).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(digits)), nil))
	x := new(big.Rat).Mul(l, scale)
	// round half away from zero
	half := big.NewRat(1, 2)
	if x.Sign() < 0 {
		x.Sub(x, half)
	} else {
		x.Add(x, half)
	}
	n := new(big.Int).Quo(x.Num(), x.Denom())
	return new(big.Rat).SetFrac(n, scale.Num()).Cmp(sh) == 0
}

// closeRows reports whether the results differ only in numbers within a
// relative 1e-4 (row by row after sorting).
func closeRows(q, m result) bool {
	if len(q.rows) != len(m.rows) || len(q.kinds) != len(m.kinds) {
		return false
	}
	qr, mr := sorted(q.rows), sorted(m.rows)
	for i := range qr {
		for c := range qr[i] {
			a, b := qr[i][c], mr[i][c]
			if a.ok != b.ok {
				return false
			}
			if !a.ok || a.s == b.s {
				continue
			}
			x, ok1 := new(big.Rat).SetString(a.s)
			y, ok2 := new(big.Rat).SetString(b.s)
			if !ok1 || !ok2 {
				return false
			}
			xf, _ := x.Float64()
			yf, _ := y.Float64()
			if d := xf - yf; d > 1e-4*max(abs(xf), abs(yf), 1) || -d > 1e-4*max(abs(xf), abs(yf), 1) {
				return false
			}
		}
	}
	return true
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}
