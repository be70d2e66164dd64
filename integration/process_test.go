package integration

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// process is a running `quiver serve`.
type process struct {
	cmd    *exec.Cmd
	addr   string
	exited chan error
	stderr *strings.Builder
}

func buildQuiver(t *testing.T) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := filepath.Join(t.TempDir(), "quiver")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/quiver").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

func startQuiver(t *testing.T, bin string, args ...string) *process {
	t.Helper()
	p := &process{addr: freeAddr(t), exited: make(chan error, 1), stderr: &strings.Builder{}}
	p.cmd = dieWithTest(exec.Command(bin, append([]string{"serve", "--listen", p.addr, "--log-level", "warn"}, args...)...))
	p.cmd.Stderr = p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.exited <- p.cmd.Wait() }()
	t.Cleanup(func() { p.stop(t, syscall.SIGKILL) })
	if err := waitListening(p.addr, p.exited); err != nil {
		t.Fatalf("%v\nserver output:\n%s", err, p.stderr.String())
	}
	return p
}

// stop sends sig and waits for the process to end (no-op if it has).
func (p *process) stop(t *testing.T, sig syscall.Signal) {
	if p.cmd.ProcessState != nil {
		return
	}
	p.cmd.Process.Signal(sig)
	select {
	case <-p.exited:
	case <-time.After(20 * time.Second):
		p.cmd.Process.Kill()
		<-p.exited
		t.Errorf("server did not stop after %v", sig)
	}
}

func execUpdate(t *testing.T, p *process, sql string) int64 {
	t.Helper()
	cl := dial(t, p.addr)
	defer cl.Close()
	n, err := cl.ExecuteUpdate(context.Background(), sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	return n
}

func queryRows(t *testing.T, p *process, sql string) [][]string {
	t.Helper()
	cl := dial(t, p.addr)
	defer cl.Close()
	_, rows := runQuery(t, cl, sql)
	return rows
}

func joinRows(rows [][]string) string {
	var lines []string
	for _, r := range rows {
		lines = append(lines, strings.Join(r, "|"))
	}
	return strings.Join(lines, "\n")
}

// TestTablesSurviveRestart creates and fills tables through Flight SQL on a
// real `quiver serve`, kills it (SIGKILL, then SIGTERM) and checks that the
// restarted server serves the same rows, and that an INSERT killed mid-way
// leaves either all of its rows or none.
func TestTablesSurviveRestart(t *testing.T) {
	bin := buildQuiver(t)
	data := t.TempDir()
	copyTree(t, filepath.Join(sf001, "tpch"), filepath.Join(data, "tpch"))
	args := []string{"--data", data, "--default-schema", "tpch"}

	p := startQuiver(t, bin, args...)
	execUpdate(t, p, "CREATE DATABASE app")
	execUpdate(t, p, "CREATE TABLE app.t (id INT NOT NULL, name VARCHAR(10), price DECIMAL(8,2), day DATE, at DATETIME, ok BOOLEAN, f DOUBLE, u BIGINT UNSIGNED)")
	if n := execUpdate(t, p, "INSERT INTO app.t VALUES (1, 'one', 1.25, '2024-02-29', '2024-02-29 13:14:15', true, 0.5, 18446744073709551615), (2, NULL, NULL, NULL, NULL, NULL, NULL, NULL)"); n != 2 {
		t.Fatalf("INSERT reported %d rows", n)
	}
	execUpdate(t, p, "CREATE TABLE app.n AS SELECT n_nationkey, n_name FROM nation WHERE n_regionkey = 0")
	execUpdate(t, p, "CREATE VIEW app.v AS SELECT id, name FROM app.t WHERE id > 1")
	const wantT = "1|one|1.25|2024-02-29|2024-02-29T13:14:15|1|0.5|18446744073709551615\n2|||||||"
	const tQuery = "SELECT id, name, price, day, at, ok, f, u FROM app.t ORDER BY id"
	p.stop(t, syscall.SIGKILL)

	p = startQuiver(t, bin, args...)
	if got := joinRows(queryRows(t, p, tQuery)); got != wantT {
		t.Errorf("after SIGKILL app.t:\n%s\nwant:\n%s", got, wantT)
	}
	if got := joinRows(queryRows(t, p, "SELECT count(*), min(n_name) FROM app.n")); got != "5|ALGERIA" {
		t.Errorf("after SIGKILL app.n: %s", got)
	}
	if got := joinRows(queryRows(t, p, "SELECT * FROM app.v")); got != "2|" {
		t.Errorf("after SIGKILL app.v: %s", got)
	}
	if got := joinRows(queryRows(t, p, "SELECT column_type, is_nullable FROM information_schema.columns WHERE table_schema = 'app' AND table_name = 't' AND column_name IN ('id', 'name') ORDER BY ordinal_position")); got != "int|NO\nvarchar(10)|YES" {
		t.Errorf("declared types after restart: %s", got)
	}
	execUpdate(t, p, "INSERT INTO app.t (id) VALUES (3)")
	execUpdate(t, p, "DROP TABLE app.n")
	p.stop(t, syscall.SIGTERM)

	p = startQuiver(t, bin, args...)
	if got := joinRows(queryRows(t, p, "SELECT id FROM app.t ORDER BY id")); got != "1\n2\n3" {
		t.Errorf("after SIGTERM app.t ids: %s", got)
	}
	if got := joinRows(queryRows(t, p, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'app' AND table_name = 'n'")); got != "0" {
		t.Errorf("dropped table is back after restart")
	}

	// Kill the server while a large INSERT ... SELECT runs.
	execUpdate(t, p, "CREATE TABLE app.big (k BIGINT, c VARCHAR(44))")
	go func() {
		cl := dial(t, p.addr)
		defer cl.Close()
		cl.ExecuteUpdate(context.Background(), "INSERT INTO app.big SELECT l_orderkey, l_comment FROM lineitem, (SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) x")
	}()
	time.Sleep(150 * time.Millisecond)
	p.stop(t, syscall.SIGKILL)
	p = startQuiver(t, bin, args...)
	got := joinRows(queryRows(t, p, "SELECT count(*) FROM app.big"))
	if got != "0" && got != "180525" {
		t.Errorf("killed INSERT left %s rows (want all or none)", got)
	}
}

// TestOutfile writes query results with SELECT ... INTO OUTFILE as CSV and
// Parquet under the data dir and an --allow-dir, reads them back, and
// checks that paths leading elsewhere are refused with PermissionDenied.
func TestOutfile(t *testing.T) {
	bin := buildQuiver(t)
	data, allowed, outside := t.TempDir(), t.TempDir(), t.TempDir()
	copyTree(t, filepath.Join(sf001, "tpch"), filepath.Join(data, "tpch"))
	if err := os.Symlink(outside, filepath.Join(allowed, "escape")); err != nil {
		t.Fatal(err)
	}
	p := startQuiver(t, bin, "--data", data, "--default-schema", "tpch", "--allow-dir", allowed)

	// CSV in MySQL's format: NULL as \N, embedded separators escaped.
	csvPath := filepath.Join(allowed, "r.csv")
	if n := execUpdate(t, p, "SELECT r_regionkey, r_name, NULLIF(r_regionkey, 0), 'a,b' FROM region ORDER BY r_regionkey INTO OUTFILE '"+csvPath+"'"); n != 5 {
		t.Errorf("INTO OUTFILE reported %d rows", n)
	}
	b, err := os.ReadFile(csvPath)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	if len(lines) != 5 || lines[0] != `0,AFRICA,\N,a\,b` {
		t.Errorf("CSV file:\n%s", b)
	}
	// With FIELDS ENCLOSED BY the file is standard CSV; put under a schema
	// folder of the data dir, it is a table.
	if err := os.Mkdir(filepath.Join(data, "out"), 0o755); err != nil {
		t.Fatal(err)
	}
	encl := filepath.Join(data, "out", "nations.csv")
	execUpdate(t, p, "SELECT n_nationkey AS k, n_name AS name FROM nation WHERE n_regionkey = 1 ORDER BY 1 INTO OUTFILE '"+encl+"' FIELDS TERMINATED BY ',' ENCLOSED BY '\"'")
	f, err := os.Open(encl)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(recs) < 5 || recs[len(recs)-5][1] != "ARGENTINA" {
		t.Errorf("enclosed CSV: %v %v", recs, err)
	}

	pq := filepath.Join(data, "out", "regions.parquet")
	if n := execUpdate(t, p, "SELECT r_regionkey, r_name FROM region INTO OUTFILE '"+pq+"'"); n != 5 {
		t.Errorf("parquet INTO OUTFILE reported %d rows", n)
	}
	if got := readParquetColumn(t, pq, 1); got != "AFRICA,AMERICA,ASIA,EUROPE,MIDDLE EAST" {
		t.Errorf("parquet file column r_name: %s", got)
	}
	if got := joinRows(queryRows(t, p, "SELECT count(*), max(r_name) FROM `out`.regions")); got != "5|MIDDLE EAST" {
		t.Errorf("written parquet queried as a table: %s", got)
	}

	cl := dial(t, p.addr)
	defer cl.Close()
	for _, path := range []string{
		filepath.Join(outside, "x.csv"),
		filepath.Join(allowed, "..", filepath.Base(outside), "x.csv"),
		"../x.csv",
		filepath.Join(allowed, "escape", "x.csv"),
		"/etc/passwd",
	} {
		_, err := cl.ExecuteUpdate(context.Background(), "SELECT 1 INTO OUTFILE '"+path+"'")
		if status.Code(err) != codes.PermissionDenied {
			t.Errorf("INTO OUTFILE %q: got %v, want PermissionDenied", path, err)
		}
	}
	if ents, _ := os.ReadDir(outside); len(ents) != 0 {
		t.Errorf("files written outside the allowed dirs: %v", ents)
	}
	// An existing file is not overwritten (MySQL refuses too).
	if _, err := cl.ExecuteUpdate(context.Background(), "SELECT 1 INTO OUTFILE '"+csvPath+"'"); err == nil {
		t.Errorf("INTO OUTFILE over an existing file succeeded")
	}
}

func readParquetColumn(t *testing.T, path string, col int) string {
	t.Helper()
	rdr, err := file.OpenParquetFile(path, false)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Close()
	fr, err := pqarrow.NewFileReader(rdr, pqarrow.ArrowReadProperties{BatchSize: 1024}, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := fr.ReadTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tbl.Release()
	var vals []string
	for _, c := range tbl.Column(col).Data().Chunks() {
		for i := 0; i < c.Len(); i++ {
			vals = append(vals, c.ValueStr(i))
		}
	}
	return strings.Join(vals, ",")
}

// TestErrorsThroughServer sends failing statements concurrently with valid
// ones to a real server and checks each error's gRPC code and message, that
// a query over --query-memory-limit fails alone, and that the server keeps
// answering.
func TestErrorsThroughServer(t *testing.T) {
	bin := buildQuiver(t)
	p := startQuiver(t, bin, "--data", sf001, "--default-schema", "tpch", "--query-memory-limit", "4MiB")
	cases := []struct {
		sql  string
		code codes.Code
		msg  string
	}{
		{"SELEC 1", codes.InvalidArgument, "near 'SELEC 1' at line 1 column 1"},
		{"SELECT 1,\n  2 FROM FROM", codes.InvalidArgument, "near 'FROM' at line 2 column 10"},
		{"SELECT * FROM nope", codes.NotFound, "Table 'tpch.nope' doesn't exist"},
		{"SELECT nope FROM nation", codes.NotFound, "Unknown column 'nope'"},
		{"SELECT * FROM nodb.nation", codes.NotFound, "nodb"},
		{"SELECT nofunc(1)", codes.NotFound, "nofunc"},
		{"SELECT n_name FROM nation a, nation b", codes.InvalidArgument, "Column 'n_name' in field list is ambiguous"},
		{"SELECT abs(1, 2)", codes.InvalidArgument, "Incorrect parameter count in the call to native function 'abs'"},
		{"SELECT 9223372036854775807 + 1", codes.InvalidArgument, "BIGINT value is out of range"},
		{"SELECT * FROM lineitem ORDER BY l_comment", codes.ResourceExhausted, "memory limit"},
		{"", codes.InvalidArgument, "Query was empty"},
		{" ; ", codes.InvalidArgument, "Query was empty"},
	}
	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for _, c := range cases {
		wg.Add(2)
		go func() {
			defer wg.Done()
			cl := dial(t, p.addr)
			defer cl.Close()
			_, err := fetchAll(cl, c.sql)
			if status.Code(err) != c.code || !strings.Contains(strings.ToLower(status.Convert(err).Message()), strings.ToLower(c.msg)) {
				errs <- fmt.Sprintf("%q: got %v %q, want %v containing %q", c.sql, status.Code(err), status.Convert(err).Message(), c.code, c.msg)
			}
		}()
		go func() {
			defer wg.Done()
			cl := dial(t, p.addr)
			defer cl.Close()
			rows, err := fetchAll(cl, "SELECT count(*), sum(r_regionkey) FROM region")
			if err != nil || joinRows(rows) != "5|10" {
				errs <- fmt.Sprintf("concurrent small query: %v %v", rows, err)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
	// Division by zero is NULL, not an error.
	if got := joinRows(queryRows(t, p, "SELECT 1 / 0, 1 DIV 0, MOD(1, 0)")); got != "||" {
		t.Errorf("division by zero: %q", got)
	}
	// Prepared statement given the wrong number of parameters.
	cl := dial(t, p.addr)
	defer cl.Close()
	ctx := context.Background()
	prep, err := cl.Prepare(ctx, "SELECT n_name FROM nation WHERE n_nationkey = ? AND n_regionkey = ?")
	if err != nil {
		t.Fatal(err)
	}
	defer prep.Close(ctx)
	bld := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{{Name: "0", Type: arrow.PrimitiveTypes.Int64}}, nil))
	bld.Field(0).(*array.Int64Builder).Append(1)
	params := bld.NewRecordBatch()
	bld.Release()
	defer params.Release()
	prep.SetParameters(params)
	if _, err = prep.Execute(ctx); err == nil {
		t.Errorf("prepared statement with 1 of 2 parameters succeeded")
	} else if status.Code(err) != codes.InvalidArgument {
		t.Errorf("prepared statement with 1 of 2 parameters: %v, want InvalidArgument", err)
	}
	if got := joinRows(queryRows(t, p, "SELECT count(*) FROM nation")); got != "25" {
		t.Errorf("after errors: %s", got)
	}
}
