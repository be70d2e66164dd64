package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestOutfileNullColumn writes a NULL-typed column (SELECT NULL) as \N.
func TestOutfileNullColumn(t *testing.T) {
	e, s := scratchEngine(t)
	path := filepath.Join(e.cfg.DataDir, "nulls.txt")
	if _, err := e.Execute(context.Background(), s, "SELECT NULL, 1, NULL AS n UNION ALL SELECT NULL, 2, NULL INTO OUTFILE '"+path+"' FIELDS TERMINATED BY ','", nil); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	lines := strings.Split(string(b), "\n")
	slices.Sort(lines) // UNION ALL branches run in parallel
	if got, want := strings.Join(lines, "|"), `|\N,1,\N|\N,2,\N`; err != nil || got != want {
		t.Errorf("file %q (%v), want lines %q", b, err, want)
	}
}
