package engine

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/quiverdb/quiver/qerr"
)

// Keys are part of the table: after a restart a duplicate is still
// refused (by INSERT and UPDATE) and SHOW COLUMNS still marks the columns.
func TestKeysSurviveRestart(t *testing.T) {
	_, open := restartable(t, "d")
	e, s := open()
	run(t, e, s, "CREATE TABLE t (a INT, b VARCHAR(5), u INT UNIQUE, PRIMARY KEY (a, b))")
	run(t, e, s, "INSERT INTO t VALUES (1, 'x', 10), (1, 'y', NULL)")
	e.Close()

	e, s = open()
	defer e.Close()
	for sql, msg := range map[string]string{
		"INSERT INTO t VALUES (1, 'x', 11)":    "Duplicate entry '1-x' for key 't.PRIMARY'",
		"INSERT INTO t VALUES (2, 'x', 10)":    "Duplicate entry '10' for key 't.u'",
		"UPDATE t SET b = 'x' WHERE b = 'y'":   "Duplicate entry '1-x' for key 't.PRIMARY'",
		"INSERT INTO t VALUES (NULL, 'z', 12)": "cannot be null",
	} {
		_, err := e.Execute(context.Background(), s, sql, nil)
		if err == nil || qerr.KindOf(err) != qerr.InvalidArgument || !strings.Contains(err.Error(), msg) {
			t.Errorf("%s: %v (%v), want InvalidArgument %q", sql, err, qerr.KindOf(err), msg)
		}
	}
	run(t, e, s, "INSERT INTO t VALUES (2, 'x', NULL)")
	if got, want := run(t, e, s, "SELECT a, b, u FROM t ORDER BY a, b"), []string{"1|x|10", "1|y|NULL", "2|x|NULL"}; !slices.Equal(got, want) {
		t.Fatalf("rows %q, want %q", got, want)
	}
	if got, want := run(t, e, s, "SELECT column_key FROM information_schema.columns WHERE table_name = 't' ORDER BY ordinal_position"), []string{"PRI", "PRI", "UNI"}; !slices.Equal(got, want) {
		t.Fatalf("column_key %q, want %q", got, want)
	}
}
