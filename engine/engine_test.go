package engine

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap/zaptest"
)

func tpchEngine(t *testing.T) (*Engine, *Session) {
	t.Helper()
	e, err := New(context.Background(), Config{
		DataDir:       filepath.Join("..", "testdata", "tpch-sf0.01"),
		DefaultSchema: "tpch",
	}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e, e.NewSession()
}

// limitedTPCHEngine is an engine over the SF 0.01 data with a query
// memory limit, spilling to work; closed when the test ends.
func limitedTPCHEngine(t *testing.T, work string, limit int64) *Engine {
	t.Helper()
	e, err := New(context.Background(), Config{
		DataDir:          filepath.Join("..", "testdata", "tpch-sf0.01"),
		DefaultSchema:    "tpch",
		WorkDir:          work,
		QueryMemoryLimit: limit,
	}, zaptest.NewLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	return e
}

// restartable returns the data dir of a fresh engine directory holding an
// empty schema and a function opening an engine over it (the caller closes
// each), for tests of what survives a restart.
func restartable(t *testing.T, schema string) (dir string, open func() (*Engine, *Session)) {
	t.Helper()
	dir = t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, schema), 0o755); err != nil {
		t.Fatal(err)
	}
	return dir, func() (*Engine, *Session) {
		e, err := New(context.Background(), Config{DataDir: dir, DefaultSchema: schema}, zaptest.NewLogger(t))
		if err != nil {
			t.Fatal(err)
		}
		return e, e.NewSession()
	}
}

// run executes sql and renders every row as "v1|v2|...".
func run(t *testing.T, e *Engine, s *Session, sql string) []string {
	t.Helper()
	res, err := e.Execute(context.Background(), s, sql, nil)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	if res.Stream == nil {
		return nil
	}
	defer res.Stream.Close()
	var rows []string
	for {
		b, err := res.Stream.Next(context.Background())
		if errors.Is(err, execution.EOF) {
			return rows
		}
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		for r := 0; r < int(b.NumRows()); r++ {
			vals := make([]string, b.NumCols())
			for c, col := range b.Columns() {
				vals[c] = valueString(col, r)
			}
			rows = append(rows, strings.Join(vals, "|"))
		}
		b.Release()
	}
}

func valueString(a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	return a.ValueStr(i)
}

func TestQueriesOverTPCH(t *testing.T) {
	e, s := tpchEngine(t)
	cases := []struct{ sql, want string }{
		{"SELECT count(*) FROM lineitem", "60175"},
		{"SELECT count(*) FROM nation WHERE n_regionkey = 1", "5"},
		{"SELECT r_name FROM region ORDER BY r_name LIMIT 2", "AFRICA,AMERICA"},
		{"SELECT 1 + 2, 7 / 2, 7 DIV 2, 1 / 0", "3|3.5|3|NULL"},
	}
	for _, c := range cases {
		got := strings.Join(run(t, e, s, c.sql), ",")
		if got != c.want {
			t.Errorf("%s: got %q, want %q", c.sql, got, c.want)
		}
	}
}

func TestIntegerDivisionIsDecimal(t *testing.T) {
	e, s := tpchEngine(t)
	p, err := e.Prepare(context.Background(), s, "SELECT 7 / 2")
	if err != nil {
		t.Fatal(err)
	}
	dt, ok := p.Schema.Field(0).Type.(*arrow.Decimal128Type)
	if !ok || dt.Scale != 4 {
		t.Fatalf("7 / 2 has type %s, want DECIMAL with scale 4 (MySQL)", p.Schema.Field(0).Type)
	}
}

func TestErrorsDoNotDisturbOtherQueries(t *testing.T) {
	e, s := tpchEngine(t)
	for _, c := range []struct {
		sql  string
		kind qerr.Kind
	}{
		{"SELEC 1", qerr.Syntax},
		{"SELECT nope FROM nation", qerr.NotFound},
		{"SELECT * FROM nope", qerr.NotFound},
	} {
		_, err := e.Execute(context.Background(), s, c.sql, nil)
		if qerr.KindOf(err) != c.kind {
			t.Errorf("%s: got %v (%v), want kind %v", c.sql, qerr.KindOf(err), err, c.kind)
		}
	}
	if got := run(t, e, s, "SELECT count(*) FROM region"); len(got) != 1 || got[0] != "5" {
		t.Fatalf("after errors: %v", got)
	}
}

func TestCancelStopsQuery(t *testing.T) {
	e, s := tpchEngine(t)
	before := runtime.NumGoroutine()
	res, err := e.Execute(context.Background(), s, "SELECT l1.l_orderkey FROM lineitem l1, lineitem l2 WHERE l1.l_orderkey = l2.l_orderkey", nil)
	if err != nil {
		t.Fatal(err)
	}
	b, err := res.Stream.Next(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	b.Release()
	res.Stream.Close()
	if after := runtime.NumGoroutine(); after > before+2 {
		t.Errorf("goroutines: %d before, %d after close", before, after)
	}
}

func TestBooleansReachClientsAsIntegers(t *testing.T) {
	e, s := tpchEngine(t)
	p, err := e.Prepare(context.Background(), s, "SELECT 1 = 1, NULL = 1, n_nationkey > 20 FROM nation WHERE n_nationkey IN (0, 24)")
	if err != nil {
		t.Fatal(err)
	}
	for i, f := range p.Schema.Fields() {
		if f.Type.ID() != arrow.INT64 {
			t.Errorf("column %d prepared as %s, want BIGINT as in MySQL", i, f.Type)
		}
	}
	got := run(t, e, s, "SELECT 1 = 1, NULL = 1, n_nationkey > 20 FROM nation WHERE n_nationkey IN (0, 24) ORDER BY n_nationkey")
	if strings.Join(got, ",") != "1|NULL|0,1|NULL|1" {
		t.Fatalf("got %v", got)
	}
}

// Query ids name a query's tasks and shuffle output on every node: an
// engine restarted within the same second must not reuse its last ids.
func TestQueryIDsDifferAcrossRestarts(t *testing.T) {
	_, open := restartable(t, "d")
	counter := func() string {
		e, _ := open()
		defer e.Close()
		id := e.newQueryID()
		return id[strings.LastIndex(id, "-")+1:]
	}
	if a, b := counter(), counter(); a == b {
		t.Fatalf("two engine starts both began query ids at counter %s", a)
	}
}
