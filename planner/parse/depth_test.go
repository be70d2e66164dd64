package parse_test

import (
	"strings"
	"testing"

	"github.com/quiverdb/quiver/planner/parse"
	"github.com/quiverdb/quiver/qerr"
)

// TestMaxDepth: statements nested past MaxDepth (left-deep operator chains,
// parentheses, function calls, subqueries) are a syntax error that says
// so, quickly and without deep recursion; ones within it parse.
func TestMaxDepth(t *testing.T) {
	n := parse.MaxDepth
	deep := map[string]string{
		"terms":       "SELECT 1" + strings.Repeat("+1", 100000),
		"parentheses": "SELECT " + strings.Repeat("(", n) + "1" + strings.Repeat(")", n),
		"functions":   "SELECT " + strings.Repeat("abs(", n) + "1" + strings.Repeat(")", n),
		"subqueries":  "SELECT * FROM " + strings.Repeat("(SELECT * FROM ", n/2) + "t" + strings.Repeat(") x", n/2),
		"and chain":   "SELECT 1 FROM t WHERE " + strings.Repeat("a = 1 AND ", n) + "1",
	}
	for name, sql := range deep {
		_, err := parse.Parse(sql)
		if qerr.KindOf(err) != qerr.Syntax || !strings.Contains(err.Error(), "too deeply nested") {
			t.Errorf("%s: %v", name, err)
		}
	}
	ok := []string{
		"SELECT 1" + strings.Repeat("+1", n/2),
		"SELECT 1 FROM t WHERE a IN (" + strings.Repeat("1,", 100000) + "1)",
		"SELECT " + strings.Repeat("(SELECT ", 100) + "1" + strings.Repeat(")", 100),
	}
	for _, sql := range ok {
		if _, err := parse.Parse(sql); err != nil {
			t.Errorf("%.40s...: %v", sql, err)
		}
	}
}

// TestMaxSQLBytes: text over MaxSQLBytes is refused before parsing.
func TestMaxSQLBytes(t *testing.T) {
	_, err := parse.Parse("SELECT 1 /*" + strings.Repeat("x", parse.MaxSQLBytes) + "*/")
	if qerr.KindOf(err) != qerr.ResourceExhausted || !strings.Contains(err.Error(), "statement text too long") {
		t.Errorf("over the limit: %v", err)
	}
	if _, err := parse.Parse("SELECT 1 /*" + strings.Repeat("x", parse.MaxSQLBytes-20) + "*/"); err != nil {
		t.Errorf("under the limit: %v", err)
	}
}
