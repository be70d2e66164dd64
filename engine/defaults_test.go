package engine

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/scalar"
	"go.uber.org/zap/zaptest"
)

// A column's DEFAULT is part of the table: it survives a restart and
// still fills the columns an INSERT leaves out.
func TestColumnDefaultsSurviveRestart(t *testing.T) {
	_, open := restartable(t, "d")
	e, s := open()
	run(t, e, s, "CREATE TABLE t (id INT NOT NULL, a DECIMAL(5,2) DEFAULT 1.555, b VARCHAR(5) NOT NULL DEFAULT 'it''s', ts DATETIME DEFAULT CURRENT_TIMESTAMP)")
	run(t, e, s, "INSERT INTO t (id) VALUES (1)")
	e.Close()

	e, s = open()
	defer e.Close()
	run(t, e, s, "INSERT INTO t (id) VALUES (2)")
	got := run(t, e, s, "SELECT id, a, b, ts IS NOT NULL FROM t ORDER BY id")
	want := []string{"1|1.56|it's|1", "2|1.56|it's|1"}
	if !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	got = run(t, e, s, "SELECT column_default FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position")
	if want := []string{"NULL", "1.56", "it's", "CURRENT_TIMESTAMP"}; !slices.Equal(got, want) {
		t.Fatalf("column_default %q, want %q", got, want)
	}
}

// Parameters of an INSERT with a column list keep their order when the
// columns it leaves out get their defaults; a parameter is no default.
func TestColumnDefaultsWithParams(t *testing.T) {
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), Config{DataDir: dir, DefaultSchema: "d"}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	s := e.NewSession()
	run(t, e, s, "CREATE TABLE t (id INT NOT NULL, a INT DEFAULT 7, b VARCHAR(5) DEFAULT 'd', c INT)")
	res, err := e.Execute(context.Background(), s, "INSERT INTO t (c, b, id) VALUES (?, ?, ?), (?, DEFAULT, ?)",
		[]scalar.Scalar{scalar.NewInt64Scalar(30), scalar.NewStringScalar("x"), scalar.NewInt64Scalar(1), scalar.NewInt64Scalar(40), scalar.NewInt64Scalar(2)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Stream != nil {
		res.Stream.Close()
	}
	got := run(t, e, s, "SELECT id, a, b, c FROM t ORDER BY id")
	if want := []string{"1|7|x|30", "2|7|d|40"}; !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	// The parser refuses DEFAULT ? already (the binder would too).
	_, err = e.Execute(context.Background(), s, "CREATE TABLE p (x INT DEFAULT ?)", []scalar.Scalar{scalar.NewInt64Scalar(1)})
	if err == nil || !strings.Contains(err.Error(), "syntax") {
		t.Fatalf("DEFAULT ?: %v, want a syntax error", err)
	}
}
