package engine_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/integration/slt"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// fixtureSQL builds the tables fuzz inputs run against: a few types, NULLs in
// every column, duplicates and an empty table.
var fixtureSQL = []string{
	"CREATE TABLE t (a INT, b VARCHAR(10), c DOUBLE, d DECIMAL(10,2), e DATE, f BIGINT NOT NULL)",
	"INSERT INTO t VALUES (1,'x',1.5,2.25,'2024-01-31',10),(2,NULL,-0.5,NULL,'1999-12-31',20),(NULL,'yy',NULL,-3.10,NULL,30),(2,'',0,0,'2000-02-29',20)",
	"CREATE TABLE u (k INT, s VARCHAR(20), ts DATETIME)",
	"INSERT INTO u VALUES (1,'one','2024-01-01 10:00:00'),(2,NULL,NULL),(NULL,'n',NULL),(5,'five','1970-01-01 00:00:01')",
	"CREATE TABLE empty_t (a INT, b VARCHAR(5))",
}

var (
	templateOnce sync.Once
	templateDir  string
	templateErr  error
)

// fixtureTemplate builds the fixture tables once; each input gets a copy so
// DDL/DML in one input cannot change what the next one sees.
func fixtureTemplate() (string, error) {
	templateOnce.Do(func() {
		templateDir, templateErr = os.MkdirTemp("", "quiver-fuzz-")
		if templateErr != nil {
			return
		}
		e, s, err := openEngine(templateDir)
		if err != nil {
			templateErr = err
			return
		}
		for _, q := range fixtureSQL {
			if _, err := e.Execute(context.Background(), s, q, nil); err != nil {
				templateErr = fmt.Errorf("%s: %w", q, err)
				return
			}
		}
	})
	return templateDir, templateErr
}

func TestMain(m *testing.M) {
	code := m.Run()
	if templateDir != "" {
		os.RemoveAll(templateDir)
	}
	os.Exit(code)
}

func openEngine(dir string) (*engine.Engine, *engine.Session, error) {
	e, err := engine.New(context.Background(), engine.Config{DataDir: dir, DefaultSchema: "db", Parallelism: 2}, zap.NewNop())
	if err != nil {
		return nil, nil, err
	}
	return e, e.NewSession(), nil
}

func copyDir(src, dst string) error {
	return filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o644)
	})
}

// sltSeeds returns the SQL of every record of the sqllogictest corpus.
func sltSeeds(t testing.TB) []string {
	files, err := filepath.Glob(filepath.Join("..", "integration", "testdata", "slt", "*.slt"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no slt files (%v)", err)
	}
	var out []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		recs, err := slt.Parse(f, strings.NewReader(string(b)))
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.SQL != "" {
				out = append(out, r.SQL)
			}
		}
	}
	return out
}

// checkQuery runs sql to the end and reports a robustness failure: an
// Internal error, or memory still accounted after the result is closed.
// A panic fails the caller by itself.
func checkQuery(ctx context.Context, e *engine.Engine, s *engine.Session, sql string) (rows int64, first string, err error, failure string) {
	lost := e.MemoryLost()
	rows, first, err = runDrain(ctx, e, s, sql)
	if err != nil && qerr.KindOf(err) == qerr.Internal {
		failure = fmt.Sprintf("internal error: %v", err)
	}
	// Tasks may release their buffers just after the stream is closed.
	for i := 0; e.MemoryInUse() != 0 && i < 200; i++ {
		time.Sleep(5 * time.Millisecond)
	}
	if m := e.MemoryInUse(); m != 0 && failure == "" {
		failure = fmt.Sprintf("%d bytes still in use after the query", m)
	}
	// The engine settles an ended query's remainder into MemoryLost.
	if l := e.MemoryLost() - lost; l != 0 && failure == "" {
		failure = fmt.Sprintf("%d bytes still held by the query when it ended", l)
	}
	return rows, first, err, failure
}

// runDrain returns the number of rows (or rows affected) and the first
// value of the first row.
func runDrain(ctx context.Context, e *engine.Engine, s *engine.Session, sql string) (n int64, first string, err error) {
	res, err := e.Execute(ctx, s, sql, nil)
	if err != nil {
		return 0, "", err
	}
	if res.Stream == nil {
		return res.RowsAffected, "", nil
	}
	defer res.Stream.Close()
	for {
		b, err := res.Stream.Next(ctx)
		if errors.Is(err, io.EOF) {
			return n, first, nil
		}
		if err != nil {
			return n, first, err
		}
		if n == 0 && b.NumRows() > 0 && b.NumCols() > 0 {
			first = b.Column(0).ValueStr(0)
		}
		n += b.NumRows()
		b.Release()
	}
}

// FuzzExecute runs arbitrary SQL over the fixture tables and drains the
// result: no panic, no Internal error, no memory left accounted.
func FuzzExecute(f *testing.F) {
	for _, q := range sltSeeds(f) {
		f.Add(q)
	}
	for _, q := range []string{
		"SELECT a, SUM(c), GROUP_CONCAT(b) FROM t GROUP BY a WITH ROLLUP",
		"SELECT * FROM t LEFT JOIN u ON t.a = u.k WHERE u.s IS NULL",
		"SELECT b, ROW_NUMBER() OVER (PARTITION BY a ORDER BY e) FROM t",
		"SELECT (SELECT MAX(k) FROM u WHERE u.k = t.a) FROM t",
		"SELECT CAST(d AS CHAR), CAST(b AS SIGNED), e + INTERVAL 1 MONTH FROM t",
		"SELECT * FROM empty_t e1 JOIN t ON e1.a = t.a",
		"UPDATE t SET c = c * 2 WHERE a IS NULL",
		"DELETE FROM u WHERE k > 1",
	} {
		f.Add(q)
	}
	tmpl, err := fixtureTemplate()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		if len(sql) > 4096 {
			t.Skip("long input")
		}
		dir := t.TempDir()
		if err := copyDir(tmpl, dir); err != nil {
			t.Fatal(err)
		}
		e, s, err := openEngine(dir)
		if err != nil {
			t.Fatal(err)
		}
		defer e.Close()
		// Inputs such as deep recursive CTEs may run long: cancellation ends them.
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if _, _, _, failure := checkQuery(ctx, e, s, sql); failure != "" {
			t.Fatalf("%q: %s", sql, failure)
		}
	})
}
