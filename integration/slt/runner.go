package slt

import (
	"context"
	"crypto/md5"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
)

// DB runs one SQL statement. A query returns its schema and batches (the
// runner releases them); other statements return a nil schema.
type DB interface {
	Run(ctx context.Context, sql string) (*arrow.Schema, []arrow.RecordBatch, error)
}

// Failure is one record whose outcome differs from the file.
type Failure struct {
	File string
	Line int
	SQL  string
	Msg  string
}

func (f Failure) String() string {
	return fmt.Sprintf("%s:%d: %s\n    %s", f.File, f.Line, f.Msg, strings.ReplaceAll(f.SQL, "\n", "\n    "))
}

// RunFile runs every record of the file at path against db and returns the
// failures (an error only when the file cannot be read or parsed).
func RunFile(ctx context.Context, db DB, path string) ([]Failure, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	recs, err := Parse(filepath.Base(path), fh)
	if err != nil {
		return nil, err
	}
	return Run(ctx, db, filepath.Base(path), recs), nil
}

// Run runs parsed records; name labels the failures.
func Run(ctx context.Context, db DB, name string, recs []Record) []Failure {
	var fails []Failure
	for _, r := range recs {
		if r.Halt {
			break
		}
		if msg := runRecord(ctx, db, r); msg != "" {
			fails = append(fails, Failure{File: name, Line: r.Line, SQL: r.SQL, Msg: msg})
		}
	}
	return fails
}

func runRecord(ctx context.Context, db DB, r Record) (msg string) {
	schema, batches, err := safeRun(ctx, db, r.SQL)
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	if r.WantError {
		if err == nil {
			return "expected an error, the statement succeeded"
		}
		if r.ErrRegex != "" {
			re, rerr := regexp.Compile(r.ErrRegex)
			if rerr != nil {
				return fmt.Sprintf("bad error regex %q: %v", r.ErrRegex, rerr)
			}
			if !re.MatchString(err.Error()) {
				return fmt.Sprintf("error %q does not match %q", err.Error(), r.ErrRegex)
			}
		}
		return ""
	}
	if err != nil {
		return fmt.Sprintf("unexpected error: %v", err)
	}
	if !r.Query {
		return ""
	}
	if schema == nil {
		return "query returned no result set"
	}
	if len(r.Types) != schema.NumFields() {
		return fmt.Sprintf("query declares %d columns (%s), result has %d", len(r.Types), r.Types, schema.NumFields())
	}
	return compare(r, FormatRows(batches))
}

// safeRun turns a panic in the engine into a failure of this record only.
func safeRun(ctx context.Context, db DB, sql string) (s *arrow.Schema, b []arrow.RecordBatch, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("panic: %v", p)
		}
	}()
	return db.Run(ctx, sql)
}

var hashLine = regexp.MustCompile(`^(\d+) values hashing to ([0-9a-f]{32})$`)

// compare checks rows against the expected lines of r.
func compare(r Record, rows [][]string) string {
	ncols := len(r.Types)
	switch r.Sort {
	case RowSort:
		slices.SortFunc(rows, func(a, b []string) int { return slices.Compare(a, b) })
	case ValueSort:
		var vals []string
		for _, row := range rows {
			vals = append(vals, row...)
		}
		slices.Sort(vals)
		rows = nil
		for i := 0; i+ncols <= len(vals); i += ncols {
			rows = append(rows, vals[i:i+ncols])
		}
	}
	var vals []string
	for _, row := range rows {
		vals = append(vals, row...)
	}
	if len(r.Expected) == 1 {
		if m := hashLine.FindStringSubmatch(strings.TrimSpace(r.Expected[0])); m != nil {
			h := md5.New()
			for _, v := range vals {
				h.Write([]byte(v))
				h.Write([]byte("\n"))
			}
			got := fmt.Sprintf("%d values hashing to %s", len(vals), hex.EncodeToString(h.Sum(nil)))
			if got != strings.TrimSpace(r.Expected[0]) {
				return fmt.Sprintf("result mismatch:\n  got:  %s\n  want: %s", got, r.Expected[0])
			}
			return ""
		}
	}
	got := make([]string, len(rows))
	for i, row := range rows {
		got[i] = strings.Join(row, " ")
	}
	want := make([]string, len(r.Expected))
	for i, l := range r.Expected {
		want[i] = strings.Join(strings.Fields(l), " ")
	}
	// The original format lists one value per line.
	if ncols > 1 && len(want) == len(vals) && len(want) != len(got) {
		got = vals
	}
	if r.Sort == RowSort && len(want) == len(got) {
		// Expected rows of a rowsort query may be written in any order.
		slices.Sort(want)
		slices.Sort(got)
	}
	if slices.Equal(got, want) {
		return ""
	}
	return fmt.Sprintf("result mismatch:\n--- got (%d rows)\n%s\n--- want (%d rows)\n%s",
		len(got), strings.Join(got, "\n"), len(want), strings.Join(want, "\n"))
}
