package parse

import (
	"errors"
	"testing"

	"github.com/quiverdb/quiver/qerr"
)

func TestParseStatements(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		want int
	}{
		{"SELECT 1", 1},
		{"select 1; select 2;", 2},
		{"SELECT 'a', 1.5, 1e3, x'41', DATE '2020-01-01' FROM t WHERE a = ?", 1},
	} {
		stmts, err := Parse(tc.sql)
		if err != nil {
			t.Fatalf("%q: %v", tc.sql, err)
		}
		if len(stmts) != tc.want {
			t.Errorf("%q: got %d statements, want %d", tc.sql, len(stmts), tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, tc := range []struct {
		sql       string
		msg       string
		line, col int
	}{
		{"SELEC 1", syntaxPrefix + " near 'SELEC 1'", 1, 1},
		{"SELECT * FORM t", syntaxPrefix + " near 'FORM t'", 1, 10},
		{"SELECT 1,\n 2 FROM", syntaxPrefix + " near ''", 2, 8},
		{"SELECT 1\nFROM t\n  WHERE a = = 2", syntaxPrefix + " near '= 2'", 3, 13},
		{"SELECT 'é',\n'ü' + = 2", syntaxPrefix + " near '= 2'", 2, 7},
		{"SELECT a FROM t AS x (a,b)", syntaxPrefix + " near '(a,b)'", 1, 22},
		{"", "Query was empty", 0, 0},
		{" ; ", "Query was empty", 0, 0},
	} {
		_, err := Parse(tc.sql)
		var qe *qerr.Error
		if !errors.As(err, &qe) {
			t.Fatalf("%q: want *qerr.Error, got %v", tc.sql, err)
		}
		if qe.Kind != qerr.Syntax || qe.Msg != tc.msg || qe.Line != tc.line || qe.Col != tc.col {
			t.Errorf("%q: got kind=%v msg=%q at %d:%d, want %q at %d:%d", tc.sql, qe.Kind, qe.Msg, qe.Line, qe.Col, tc.msg, tc.line, tc.col)
		}
	}
}

func TestParseKeepsText(t *testing.T) {
	stmts, err := Parse("SELECT 1; SELECT  2")
	if err != nil {
		t.Fatal(err)
	}
	if got := stmts[1].Text(); got != "SELECT  2" {
		t.Errorf("text of second statement = %q", got)
	}
}
