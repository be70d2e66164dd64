package engine

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap/zaptest"
)

// scratchEngine opens an engine over an empty data dir with schema "test".
func scratchEngine(t *testing.T) (*Engine, *Session) {
	t.Helper()
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "test"), 0o755); err != nil {
		t.Fatal(err)
	}
	e, err := New(context.Background(), Config{DataDir: dir, DefaultSchema: "test"}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, e.NewSession()
}

// TestInsertStrictMode checks that INSERT refuses what MySQL 8 strict mode
// refuses, with its messages, and that a refused INSERT stores nothing.
func TestInsertStrictMode(t *testing.T) {
	e, s := scratchEngine(t)
	run(t, e, s, "CREATE TABLE r (x TINYINT, u TINYINT UNSIGNED, v VARCHAR(3) NOT NULL, dc DECIMAL(4,2), f FLOAT, d DATE, b VARBINARY(2), c CHAR(2))")
	for _, c := range []struct{ sql, msg string }{
		{"INSERT INTO r (x, v) VALUES (128, 'a')", "Out of range value for column 'x' at row 1"},
		{"INSERT INTO r (x, v) VALUES (1, 'a'), (-129, 'b')", "Out of range value for column 'x' at row 2"},
		{"INSERT INTO r (u, v) VALUES (-1, 'a')", "Out of range value for column 'u' at row 1"},
		{"INSERT INTO r (u, v) VALUES (255.5, 'a')", "Out of range value for column 'u' at row 1"},
		{"INSERT INTO r (x, v) VALUES ('1000', 'a')", "Out of range value for column 'x' at row 1"},
		{"INSERT INTO r (v) VALUES ('abcd')", "Data too long for column 'v' at row 1"},
		{"INSERT INTO r (v, c) VALUES ('a', 'éèà')", "Data too long for column 'c' at row 1"},
		{"INSERT INTO r (v, b) VALUES ('a', 'xyz')", "Data too long for column 'b' at row 1"},
		{"INSERT INTO r (v) VALUES (1234)", "Data too long for column 'v' at row 1"},
		{"INSERT INTO r (v) VALUES (NULL)", "Column 'v' cannot be null"},
		{"INSERT INTO r (x) VALUES (1)", "Field 'v' doesn't have a default value"},
		{"INSERT INTO r (v, dc) VALUES ('a', 100)", "Out of range value for column 'dc' at row 1"},
		{"INSERT INTO r (v, dc) VALUES ('a', -99.995)", "Out of range value for column 'dc' at row 1"},
		{"INSERT INTO r (v, f) VALUES ('a', 1e39)", "Out of range value for column 'f' at row 1"},
		{"INSERT INTO r (v, x) VALUES ('a', 'abc')", "Incorrect integer value: 'abc' for column 'x' at row 1"},
		{"INSERT INTO r (v, x) VALUES ('a', '')", "Incorrect integer value: '' for column 'x' at row 1"},
		{"INSERT INTO r (v, x) VALUES ('a', '12abc')", "Data truncated for column 'x' at row 1"},
		{"INSERT INTO r (v, dc) VALUES ('a', 'x1')", "Incorrect decimal value: 'x1' for column 'dc' at row 1"},
		{"INSERT INTO r (v, d) VALUES ('a', '2020-13-45')", "Incorrect date value: '2020-13-45' for column 'd' at row 1"},
		{"INSERT INTO r SELECT 1000, 1, 'a', 1, 1, NULL, NULL, NULL", "Out of range value for column 'x' at row 1"},
		{"INSERT INTO r SELECT 1, 1, NULL, 1, 1, NULL, NULL, NULL", "Column 'v' cannot be null"},
	} {
		_, err := e.Execute(context.Background(), s, c.sql, nil)
		if err == nil || qerr.KindOf(err) != qerr.InvalidArgument || !strings.Contains(err.Error(), c.msg) {
			t.Errorf("%s: got %v, want InvalidArgument %q", c.sql, err, c.msg)
		}
	}
	if got := run(t, e, s, "SELECT count(*) FROM r"); got[0] != "0" {
		t.Fatalf("refused INSERTs stored rows: %v", got)
	}
	// What strict mode accepts: numeric strings (rounded), boundary values,
	// decimals rounded to the column's scale, mixed types across rows.
	run(t, e, s, "INSERT INTO r VALUES (' 12 ', '2.55e2', 'abc', '1.2345', '3.5e2', '20200102', 'xy', 'é'), (-128, 0, 'é', -99.994, 3.4e38, '2020-02-29', NULL, NULL), ('1.5', 1, '', 99.99, -1, NULL, '', '')")
	got := strings.Join(run(t, e, s, "SELECT x, u, v, dc, f, d, CAST(b AS CHAR), c FROM r ORDER BY x"), "\n")
	want := strings.Join([]string{
		"-128|0|é|-99.99|3.4e+38|2020-02-29|NULL|NULL",
		"2|1||99.99|-1|NULL||",
		"12|255|abc|1.23|350|2020-01-02|xy|é",
	}, "\n")
	if got != want {
		t.Errorf("stored rows:\n%s\nwant:\n%s", got, want)
	}
}

// TestNoLeaksAcrossQueries runs successful, failing, cancelled and
// abandoned queries and checks that each leaves no buffers accounted and no
// goroutines behind.
func TestNoLeaksAcrossQueries(t *testing.T) {
	e, s := tpchEngine(t)
	ctx := context.Background()
	settle := func(want int) int {
		n := runtime.NumGoroutine()
		for i := 0; i < 100 && n > want; i++ {
			time.Sleep(10 * time.Millisecond)
			n = runtime.NumGoroutine()
		}
		return n
	}
	base := settle(0)
	check := func(what string) {
		t.Helper()
		if n := settle(base); n > base {
			buf := make([]byte, 1<<16)
			t.Fatalf("%s: %d goroutines, %d before\n%s", what, n, base, buf[:runtime.Stack(buf, true)])
		}
		if m := e.MemoryInUse(); m != 0 {
			t.Fatalf("%s: %d bytes still allocated", what, m)
		}
		if l := e.MemoryLost(); l != 0 {
			t.Fatalf("%s: %d bytes still held by queries when they ended", what, l)
		}
	}
	for i := 0; i < 3; i++ {
		for _, q := range []string{
			"SELECT l_returnflag, sum(l_quantity), count(*) FROM lineitem GROUP BY l_returnflag ORDER BY 1",
			"SELECT n_name, count(*) FROM nation JOIN customer ON c_nationkey = n_nationkey GROUP BY n_name",
			"SELECT o_orderkey, row_number() OVER (PARTITION BY o_custkey ORDER BY o_orderdate) FROM orders ORDER BY 1 LIMIT 5",
			"EXPLAIN ANALYZE SELECT count(*) FROM lineitem WHERE l_quantity > 10",
		} {
			run(t, e, s, q)
			check(q)
		}
		for _, q := range []string{"SELECT nope FROM nation", "SELECT 9223372036854775807 + l_orderkey FROM lineitem", "SELEC 1"} {
			res, err := e.Execute(ctx, s, q, nil)
			if err == nil && res.Stream != nil {
				_, err = drain(ctx, res.Stream)
			}
			if err == nil {
				t.Fatalf("%s: no error", q)
			}
			check(q)
		}
		// Abandoned after the first batch, and cancelled mid-stream.
		res, err := e.Execute(ctx, s, "SELECT * FROM lineitem", nil)
		if err != nil {
			t.Fatal(err)
		}
		b, err := res.Stream.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if e.MemoryInUse() == 0 {
			t.Fatal("a running query holds no accounted memory: the check above proves nothing")
		}
		b.Release()
		res.Stream.Close()
		check("abandoned scan")
		cctx, cancel := context.WithCancel(ctx)
		res, err = e.Execute(cctx, s, "SELECT l1.l_orderkey FROM lineitem l1 JOIN lineitem l2 ON l1.l_orderkey = l2.l_orderkey", nil)
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		if _, err := drain(cctx, res.Stream); qerr.KindOf(err) != qerr.Canceled {
			t.Fatalf("cancelled join: %v", err)
		}
		check("cancelled join")
	}
}

// TestInsertTimeOfDay checks that TIME values outside a day (which MySQL
// accepts up to 838:59:59 but Arrow Time64 cannot hold) are refused, not
// wrapped, and that the day's bounds are stored exactly.
func TestInsertTimeOfDay(t *testing.T) {
	e, s := scratchEngine(t)
	run(t, e, s, "CREATE TABLE tt (t TIME)")
	for _, v := range []string{"'838:59:59'", "'-00:00:01'", "'24:00:00'", "'1 01:00:00'", "'-838:59:59'"} {
		_, err := e.Execute(context.Background(), s, "INSERT INTO tt VALUES ('12:00:00'), ("+v+")", nil)
		if err == nil || qerr.KindOf(err) != qerr.InvalidArgument || !strings.Contains(err.Error(), "Out of range value for column 't' at row 2") {
			t.Errorf("INSERT %s: got %v", v, err)
		}
	}
	run(t, e, s, "INSERT INTO tt VALUES ('00:00:00'), ('23:59:59'), (NULL)")
	got := strings.Join(run(t, e, s, "SELECT CAST(t AS CHAR) FROM tt ORDER BY t"), ",")
	if want := "NULL,00:00:00,23:59:59"; got != want {
		t.Errorf("stored %s, want %s", got, want)
	}
}
