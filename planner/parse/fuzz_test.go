package parse_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/quiverdb/quiver/integration/slt"
	"github.com/quiverdb/quiver/planner/parse"
	"github.com/quiverdb/quiver/qerr"
)

// FuzzParse: parsing never panics and every failure is a classified syntax
// error (or ResourceExhausted past MaxSQLBytes); what parses keeps each statement's text non-empty.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("..", "..", "integration", "testdata", "slt", "*.slt"))
	if err != nil || len(files) == 0 {
		f.Fatalf("no slt files (%v)", err)
	}
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		recs, err := slt.Parse(file, strings.NewReader(string(b)))
		if err != nil {
			f.Fatal(err)
		}
		for _, r := range recs {
			f.Add(r.SQL)
		}
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := parse.Parse(sql)
		if err != nil {
			if k := qerr.KindOf(err); k != qerr.Syntax && !(k == qerr.ResourceExhausted && len(sql) > parse.MaxSQLBytes) {
				t.Fatalf("%q: error of kind %v, want Syntax: %v", sql, k, err)
			}
			return
		}
		for _, st := range stmts {
			if st.Text() == "" {
				t.Fatalf("%q: statement without text", sql)
			}
		}
	})
}
