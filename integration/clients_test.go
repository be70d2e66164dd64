package integration

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
)

var updateClients = flag.Bool("update-clients", false, "rewrite testdata/clients/expected.txt from the Go client")

const clientsDir = "testdata/clients"

// clientQuery is one named query of testdata/clients/queries.sql.
type clientQuery struct{ name, sql string }

// readClientQueries parses queries.sql: each query starts at `-- name: x`
// and runs to the next; other comment lines are ignored.
func readClientQueries(t testing.TB) []clientQuery {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(clientsDir, "queries.sql"))
	if err != nil {
		t.Fatal(err)
	}
	var qs []clientQuery
	for _, line := range strings.Split(string(b), "\n") {
		if name, ok := strings.CutPrefix(line, "-- name:"); ok {
			qs = append(qs, clientQuery{name: strings.TrimSpace(name)})
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "--") || len(qs) == 0 {
			continue
		}
		q := &qs[len(qs)-1]
		q.sql = strings.TrimSpace(q.sql + "\n" + line)
	}
	return qs
}

// clientsDataDir is a fresh data dir with the TPC-H SF 0.01 tables (schema
// tpch) and clients.alltypes, as every client suite serves it.
func clientsDataDir(t testing.TB) string {
	dir := t.TempDir()
	copyTree(t, sf001, dir)
	if err := os.MkdirAll(filepath.Join(dir, "clients"), 0o755); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(clientsDir, "alltypes.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "clients", "alltypes.parquet"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestClientIdentity runs the shared client queries through the Go Flight SQL
// client, as plain statements and as prepared statements, and compares the
// canonical rendering with expected.txt, which the Python and Java suites
// compare with too.
func TestClientIdentity(t *testing.T) {
	eng := newEngine(t, clientsDataDir(t), "tpch")
	cl := serve(t, eng)
	ctx := context.Background()
	var stmt, prep strings.Builder
	for _, q := range readClientQueries(t) {
		info, err := cl.Execute(ctx, q.sql)
		if err != nil {
			t.Fatalf("%s: %v", q.name, err)
		}
		renderFlight(t, &stmt, q.name, cl, info.Endpoint)

		ps, err := cl.Prepare(ctx, q.sql)
		if err != nil {
			t.Fatalf("%s: prepare: %v", q.name, err)
		}
		info, err = ps.Execute(ctx)
		if err != nil {
			t.Fatalf("%s: prepared execute: %v", q.name, err)
		}
		renderFlight(t, &prep, q.name, cl, info.Endpoint)
		if err := ps.Close(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if stmt.String() != prep.String() {
		t.Errorf("prepared statements render differently from statements:\n%s", firstDiff(stmt.String(), prep.String()))
	}
	path := filepath.Join(clientsDir, "expected.txt")
	if *updateClients {
		if err := os.WriteFile(path, []byte(stmt.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := stmt.String(); got != string(want) {
		t.Errorf("Go client results differ from %s:\n%s", path, firstDiff(string(want), got))
	}
}

func renderFlight(t *testing.T, w *strings.Builder, name string, cl *flightsql.Client, eps []*flight.FlightEndpoint) {
	t.Helper()
	fmt.Fprintf(w, "== %s\n", name)
	header := false
	for _, ep := range eps {
		rdr, err := cl.DoGet(context.Background(), ep.Ticket)
		if err != nil {
			t.Fatalf("%s: DoGet: %v", name, err)
		}
		if !header {
			names := make([]string, 0, rdr.Schema().NumFields())
			for _, f := range rdr.Schema().Fields() {
				names = append(names, f.Name)
			}
			w.WriteString(strings.Join(names, "\t") + "\n")
			header = true
		}
		for rdr.Next() {
			b := rdr.RecordBatch()
			for r := 0; r < int(b.NumRows()); r++ {
				for c := 0; c < int(b.NumCols()); c++ {
					if c > 0 {
						w.WriteByte('\t')
					}
					w.WriteString(canonical(t, b.Column(c), r))
				}
				w.WriteByte('\n')
			}
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			t.Fatalf("%s: fetch: %v", name, err)
		}
	}
}

// canonical renders one value in the cross-client form of
// testdata/clients/README.md.
func canonical(t *testing.T, a arrow.Array, i int) string {
	if a.IsNull(i) {
		return "NULL"
	}
	switch c := a.(type) {
	case *array.Null:
		return "NULL"
	case *array.Boolean:
		return fmt.Sprint(c.Value(i))
	case *array.Int8:
		return fmt.Sprint(c.Value(i))
	case *array.Int16:
		return fmt.Sprint(c.Value(i))
	case *array.Int32:
		return fmt.Sprint(c.Value(i))
	case *array.Int64:
		return fmt.Sprint(c.Value(i))
	case *array.Uint8:
		return fmt.Sprint(c.Value(i))
	case *array.Uint16:
		return fmt.Sprint(c.Value(i))
	case *array.Uint32:
		return fmt.Sprint(c.Value(i))
	case *array.Uint64:
		return fmt.Sprint(c.Value(i))
	case *array.Float32:
		return canonicalFloat(float64(c.Value(i)))
	case *array.Float64:
		return canonicalFloat(c.Value(i))
	case *array.Decimal128:
		return c.Value(i).ToString(c.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Decimal256:
		return c.Value(i).ToString(c.DataType().(*arrow.Decimal256Type).Scale)
	case *array.String:
		return canonicalString(c.Value(i))
	case *array.LargeString:
		return canonicalString(c.Value(i))
	case *array.Binary:
		return fmt.Sprintf("0x%x", c.Value(i))
	case *array.Date32:
		return c.Value(i).ToTime().Format("2006-01-02")
	case *array.Timestamp:
		unit := c.DataType().(*arrow.TimestampType).Unit
		return c.Value(i).ToTime(unit).UTC().Format("2006-01-02 15:04:05.000000")
	}
	t.Fatalf("no canonical form for %s", a.DataType())
	return ""
}

func canonicalFloat(f float64) string {
	if a := math.Abs(f); f == 0 || (a >= 1e-4 && a < 1e15) {
		return fmt.Sprintf("%.6f", f)
	}
	return fmt.Sprintf("%.6e", f)
}

func canonicalString(s string) string {
	if s == "" {
		return "(empty)"
	}
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`).Replace(s)
}

// firstDiff shows the first differing line of two renderings.
func firstDiff(want, got string) string {
	wl, gl := strings.Split(want, "\n"), strings.Split(got, "\n")
	for i := 0; i < len(wl) || i < len(gl); i++ {
		var w, g string
		if i < len(wl) {
			w = wl[i]
		}
		if i < len(gl) {
			g = gl[i]
		}
		if w != g {
			return fmt.Sprintf("line %d:\nwant %q\ngot  %q", i+1, w, g)
		}
	}
	return "(identical)"
}
