package engine

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// TestOutfileNullColumn writes a NULL-typed column (SELECT NULL) as \N.
func TestOutfileNullColumn(t *testing.T) {
	e, s := scratchEngine(t)
	path := filepath.Join(e.cfg.DataDir, "nulls.txt")
	if _, err := e.Execute(context.Background(), s, "SELECT NULL, 1, NULL AS n UNION ALL SELECT NULL, 2, NULL INTO OUTFILE '"+path+"' FIELDS TERMINATED BY ','", nil); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(path)
	if want := "\\N,1,\\N\n\\N,2,\\N\n"; err != nil || string(got) != want {
		t.Errorf("file %q (%v), want %q", got, err, want)
	}
}
