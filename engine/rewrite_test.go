package engine

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/scalar"
)

func affected(t *testing.T, e *Engine, s *Session, sql string, params ...scalar.Scalar) int64 {
	t.Helper()
	res, err := e.Execute(context.Background(), s, sql, params)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return res.RowsAffected
}

// TestRewriteRowsAffected checks MySQL's counts: rows deleted, and for
// UPDATE only the rows whose stored value changed.
func TestRewriteRowsAffected(t *testing.T) {
	e, s := scratchEngine(t)
	run(t, e, s, "CREATE TABLE r (k INT, v VARCHAR(10))")
	run(t, e, s, "INSERT INTO r VALUES (1, 'x'), (2, 'y'), (3, NULL), (4, 'x')")
	for _, c := range []struct {
		sql    string
		params []scalar.Scalar
		want   int64
	}{
		{"UPDATE r SET v = 'x'", nil, 2},             // 'y' and NULL change
		{"UPDATE r SET v = 'x' WHERE k > 1", nil, 0}, // all already 'x'
		{"UPDATE r SET k = k + 0.4", nil, 0},         // stored rounded: unchanged
		{"UPDATE r SET v = NULL WHERE k = ?", []scalar.Scalar{scalar.NewInt64Scalar(3)}, 1},
		{"UPDATE r SET v = NULL WHERE k = 3", nil, 0}, // NULL to NULL
		{"DELETE FROM r WHERE v IS NULL", nil, 1},
		{"DELETE FROM r WHERE k > 100", nil, 0},
		{"DELETE FROM r ORDER BY k DESC LIMIT 1", nil, 1},
		{"DELETE FROM r", nil, 2},
	} {
		if got := affected(t, e, s, c.sql, c.params...); got != c.want {
			t.Errorf("%s: %d rows affected, want %d", c.sql, got, c.want)
		}
	}
}

// liveParts lists the visible data files of a table folder.
func liveParts(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, en := range ents {
		if strings.HasSuffix(en.Name(), ".parquet") && !strings.HasPrefix(en.Name(), ".") {
			out = append(out, en.Name())
		}
	}
	return out
}

// TestRewriteSurvivesRestart checks that updated and deleted rows stay so
// after a restart, that replaced files stay (a query reading the old
// snapshot may still scan them; the catalog sweeps them later) while the
// manifest lists only the new part, that a failed UPDATE
// leaves nothing behind, and that files the manifest does not list (what an
// interrupted rewrite leaves) are never read.
func TestRewriteSurvivesRestart(t *testing.T) {
	dir, open := restartable(t, "test")
	e, s := open()
	run(t, e, s, "CREATE TABLE r (k INT NOT NULL, v INT)")
	run(t, e, s, "INSERT INTO r VALUES (1, 10), (2, 20)")
	run(t, e, s, "INSERT INTO r VALUES (3, 30)")
	tdir := filepath.Join(dir, "test", "r")
	before := liveParts(t, tdir)
	if len(before) != 2 {
		t.Fatalf("files before: %v", before)
	}
	run(t, e, s, "UPDATE r SET v = v + 1 WHERE k >= 2")
	run(t, e, s, "DELETE FROM r WHERE k = 1")
	var m struct{ Files []string }
	if b, err := os.ReadFile(filepath.Join(tdir, "_files.json")); err != nil || json.Unmarshal(b, &m) != nil {
		t.Fatalf("manifest: %s %v", b, err)
	}
	after := liveParts(t, tdir)
	if len(m.Files) != 1 || slices.Contains(before, m.Files[0]) || !slices.Contains(after, m.Files[0]) || len(after) != 4 {
		t.Fatalf("files after rewrite: %v listing %v (before %v)", after, m.Files, before)
	}
	// A refused UPDATE writes nothing.
	if _, err := e.Execute(context.Background(), s, "UPDATE r SET k = NULL", nil); err == nil {
		t.Fatal("UPDATE r SET k = NULL succeeded")
	}
	if got := liveParts(t, tdir); !slices.Equal(got, after) {
		t.Fatalf("files after a failed UPDATE: %v, want %v", got, after)
	}
	e.Close()

	// What a crash leaves: a finished new part not yet in the manifest, and
	// an old part not yet removed. Neither may be read.
	orphan, err := os.ReadFile(filepath.Join(tdir, m.Files[0]))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"part-0-orphan.parquet", "part-9-orphan.parquet"} {
		if err := os.WriteFile(filepath.Join(tdir, name), orphan, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	e, s = open()
	defer e.Close()
	if got, want := strings.Join(run(t, e, s, "SELECT k, v FROM r ORDER BY k"), ","), "2|21,3|31"; got != want {
		t.Fatalf("after restart: %s, want %s", got, want)
	}
	// INSERT after a rewrite lists its file in the manifest.
	run(t, e, s, "INSERT INTO r VALUES (4, 40)")
	if got, want := strings.Join(run(t, e, s, "SELECT k, v FROM r ORDER BY k"), ","), "2|21,3|31,4|40"; got != want {
		t.Fatalf("after insert: %s, want %s", got, want)
	}
}
