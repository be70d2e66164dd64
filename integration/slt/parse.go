// Package slt runs sqllogictest files against Quiver, in-process (engine
// API) or through Flight SQL.
//
// Supported records (the sqllogictest format as sqllogictest-rs, DataFusion
// and DuckDB use it):
//
//	statement ok | statement error [regex]     then the SQL, ended by a blank line
//	query <types> [nosort|rowsort|valuesort] [label]
//	query error [regex]
//	    SQL, then "----" and the expected rows, ended by a blank line
//	skipif <engine> / onlyif <engine>          before a record (this engine: "quiver")
//	hash-threshold N                           results with more values are compared by MD5
//	halt                                       stop the file
//
// Types: I integer, R real/decimal, T text (and B boolean, D date; checked
// only for the column count). Expected rows are one row per line with values
// separated by whitespace (or one value per line, as in the original
// format); "N values hashing to <md5>" compares the MD5 of the values, each
// followed by a newline, in result order after sorting.
//
// Values are printed by their Arrow type: NULL as NULL, the empty string as
// (empty), integers in decimal, booleans as 1/0 (MySQL), floats with 3
// decimals (%.3f), decimals exactly at their scale, dates YYYY-MM-DD,
// timestamps YYYY-MM-DD HH:MM:SS[.ffffff], times [-]HH:MM:SS[.ffffff] (the
// fraction of both only when non-zero, without trailing zeros).
package slt

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// Engine is the name skipif/onlyif conditions test.
const Engine = "quiver"

// SortMode says how a query's rows are compared.
type SortMode int

const (
	NoSort SortMode = iota
	RowSort
	ValueSort
)

// Record is one statement or query of a file.
type Record struct {
	Line      int // 1-based line of the "statement"/"query" keyword
	Query     bool
	SQL       string
	WantError bool
	ErrRegex  string // "" matches any error
	Types     string
	Sort      SortMode
	Label     string
	Expected  []string // result lines after "----"
	Halt      bool     // a halt record: stop here
}

// Parse reads records from r; name is used in error messages.
func Parse(name string, r io.Reader) ([]Record, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var lines []string
	for sc.Scan() {
		lines = append(lines, strings.TrimRight(sc.Text(), "\r"))
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	var (
		recs []Record
		skip bool
	)
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		switch f[0] {
		case "skipif":
			if len(f) > 1 && f[1] == Engine {
				skip = true
			}
			continue
		case "onlyif":
			if len(f) > 1 && f[1] != Engine {
				skip = true
			}
			continue
		case "hash-threshold":
			if len(f) < 2 {
				return nil, fmt.Errorf("%s:%d: hash-threshold needs a number", name, i+1)
			}
			// Expected hashes are recognized whatever the threshold.
			if _, err := strconv.Atoi(f[1]); err != nil {
				return nil, fmt.Errorf("%s:%d: hash-threshold: %w", name, i+1, err)
			}
			continue
		case "halt":
			if !skip {
				recs = append(recs, Record{Line: i + 1, Halt: true})
			}
			skip = false
			continue
		case "statement", "query":
		default:
			return nil, fmt.Errorf("%s:%d: unknown record %q", name, i+1, f[0])
		}
		rec := Record{Line: i + 1, Query: f[0] == "query"}
		switch {
		case len(f) < 2:
			return nil, fmt.Errorf("%s:%d: %s needs arguments", name, i+1, f[0])
		case f[1] == "ok" && !rec.Query:
		case f[1] == "error":
			rec.WantError = true
			rec.ErrRegex = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(line[len(f[0]):]), "error"))
		case rec.Query:
			rec.Types = f[1]
			if len(f) > 2 {
				switch f[2] {
				case "nosort":
				case "rowsort":
					rec.Sort = RowSort
				case "valuesort":
					rec.Sort = ValueSort
				default:
					return nil, fmt.Errorf("%s:%d: unknown sort mode %q", name, i+1, f[2])
				}
			}
			if len(f) > 3 {
				rec.Label = f[3]
			}
		default:
			return nil, fmt.Errorf("%s:%d: statement must be 'ok' or 'error', got %q", name, i+1, f[1])
		}
		// SQL up to a blank line or "----".
		var sql []string
		for i++; i < len(lines) && strings.TrimSpace(lines[i]) != "" && strings.TrimSpace(lines[i]) != "----"; i++ {
			sql = append(sql, lines[i])
		}
		rec.SQL = strings.Join(sql, "\n")
		if rec.SQL == "" {
			return nil, fmt.Errorf("%s:%d: missing SQL", name, rec.Line)
		}
		if i < len(lines) && strings.TrimSpace(lines[i]) == "----" {
			if !rec.Query {
				return nil, fmt.Errorf("%s:%d: statement with results", name, rec.Line)
			}
			for i++; i < len(lines) && strings.TrimSpace(lines[i]) != ""; i++ {
				rec.Expected = append(rec.Expected, lines[i])
			}
		}
		if !skip {
			recs = append(recs, rec)
		}
		skip = false
	}
	return recs, nil
}
