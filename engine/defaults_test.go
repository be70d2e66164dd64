package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"go.uber.org/zap/zaptest"
)

// A column's DEFAULT is part of the table: it survives a restart and
// still fills the columns an INSERT leaves out.
func TestColumnDefaultsSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	open := func() (*Engine, *Session) {
		e, err := New(context.Background(), Config{DataDir: dir, DefaultSchema: "d"}, zaptest.NewLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		return e, e.NewSession()
	}
	e, s := open()
	run(t, e, s, "CREATE TABLE t (id INT NOT NULL, a DECIMAL(5,2) DEFAULT 1.555, b VARCHAR(5) NOT NULL DEFAULT 'it''s')")
	run(t, e, s, "INSERT INTO t (id) VALUES (1)")
	e.Close()

	e, s = open()
	defer e.Close()
	run(t, e, s, "INSERT INTO t (id) VALUES (2)")
	got := run(t, e, s, "SELECT id, a, b FROM t ORDER BY id")
	want := []string{"1|1.56|it's", "2|1.56|it's"}
	if !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	got = run(t, e, s, "SELECT column_default FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position")
	if want := []string{"NULL", "1.56", "it's"}; !slices.Equal(got, want) {
		t.Fatalf("column_default %q, want %q", got, want)
	}
}
