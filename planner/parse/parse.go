// Package parse turns SQL text into tidb-parser ASTs (MySQL dialect) and
// classifies syntax errors as *qerr.Error with MySQL's message and position.
package parse

import (
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	// The test driver supplies the value expressions literals parse into.
	_ "github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/quiverdb/quiver/qerr"
)

const syntaxPrefix = "You have an error in your SQL syntax; check the manual that corresponds to your MySQL server version for the right syntax to use"

// Parse parses one or more `;`-separated statements. Each statement's
// original text is available through its Text() method.
func Parse(sql string) ([]ast.StmtNode, error) {
	if len(sql) > MaxSQLBytes {
		return nil, qerr.New(qerr.ResourceExhausted,
			"statement text too long: %d bytes (at most %d); send large data as parameters or with bulk ingest", len(sql), MaxSQLBytes)
	}
	if strings.TrimSpace(strings.Trim(strings.TrimSpace(sql), ";")) == "" {
		return nil, &qerr.Error{Kind: qerr.Syntax, Msg: "Query was empty"}
	}
	// A parser is not safe for concurrent use and is cheap to build.
	p := parser.New()
	stmts, _, err := p.ParseSQL(sql)
	if err != nil {
		return nil, syntaxError(sql, err)
	}
	if len(stmts) == 0 {
		return nil, &qerr.Error{Kind: qerr.Syntax, Msg: "Query was empty"}
	}
	for _, st := range stmts {
		if err := checkDepth(st); err != nil {
			return nil, err
		}
		st.SetText(nil, strings.TrimSpace(st.Text()))
	}
	return stmts, nil
}

// MaxSQLBytes bounds the text parsed at once. Parsing takes up to a few
// hundred bytes of memory per byte of text (10 MB of `+1` terms took
// 5 GB); 1 MiB is also the most a prepared statement handle carries, and
// JDBC and ADBC prepare every statement.
const MaxSQLBytes = 1 << 20

// MaxDepth bounds how deeply a statement's syntax tree nests (each
// operator, function call, subquery and clause is a level). The binder,
// optimizer and executor walk trees recursively: `SELECT 1+1+...` with a
// million terms overflowed the goroutine stack, a fatal error that kills
// the server, not a panic it can recover from.
const MaxDepth = 10000

// depthCheck measures nesting without recursing past MaxDepth: tidb's
// Accept recurses once per level, and children of a level too deep are
// skipped.
type depthCheck struct{ depth, deepest int }

func (d *depthCheck) Enter(n ast.Node) (ast.Node, bool) {
	d.depth++
	d.deepest = max(d.deepest, d.depth)
	return n, d.deepest > MaxDepth
}

func (d *depthCheck) Leave(n ast.Node) (ast.Node, bool) {
	d.depth--
	return n, true
}

func checkDepth(st ast.StmtNode) error {
	var d depthCheck
	st.Accept(&d)
	if d.deepest > MaxDepth {
		return &qerr.Error{Kind: qerr.Syntax, Msg: "statement too deeply nested: more than " +
			strconv.Itoa(MaxDepth) + " levels of expressions, subqueries and clauses; simplify it (an IN list instead of a chain of OR, fewer nested subqueries)"}
	}
	return nil
}

// ParseOne parses exactly one statement.
func ParseOne(sql string) (ast.StmtNode, error) {
	stmts, err := Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, qerr.New(qerr.InvalidArgument, "expected one statement, got %d", len(stmts))
	}
	return stmts[0], nil
}

// The tidb scanner reports `line L column C near "<rest of input>"` where the
// rest may be cut at 2048 bytes and followed by "(total length N)".
var nearRE = regexp.MustCompile(`(?s)^line (\d+) column (\d+) near "(.*)"`)
var totalRE = regexp.MustCompile(`\(total length (\d+)\)`)

// syntaxError converts a parser error into MySQL's message. Line and Col are
// 1-based; Col is the character (not byte) position of the offending token on
// its line.
func syntaxError(sql string, err error) error {
	msg := err.Error()
	m := nearRE.FindStringSubmatch(msg)
	if m == nil {
		return &qerr.Error{Kind: qerr.Syntax, Msg: syntaxPrefix + ": " + msg, Err: err}
	}
	rest := -1
	if t := totalRE.FindStringSubmatch(msg); t != nil {
		rest, _ = strconv.Atoi(t[1])
	} else if strings.HasSuffix(sql, m[3]) {
		rest = len(m[3])
	}
	if rest < 0 || rest > len(sql) {
		line, _ := strconv.Atoi(m[1])
		col, _ := strconv.Atoi(m[2])
		return &qerr.Error{Kind: qerr.Syntax, Msg: syntaxPrefix + " near '" + truncate(m[3]) + "'", Line: line, Col: col, Err: err}
	}
	off := max(0, len(sql)-rest)
	near := sql[off:]
	line := 1 + strings.Count(sql[:off], "\n")
	col := 1 + utf8.RuneCountInString(sql[strings.LastIndex(sql[:off], "\n")+1:off])
	return &qerr.Error{
		Kind: qerr.Syntax,
		Msg:  syntaxPrefix + " near '" + truncate(near) + "'",
		Line: line,
		Col:  col,
		Err:  err,
	}
}

// truncate cuts the quoted text as MySQL does (80 characters).
func truncate(s string) string {
	if r := []rune(s); len(r) > 80 {
		return string(r[:80])
	}
	return s
}
