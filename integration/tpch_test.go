package integration

import (
	"context"
	"fmt"
	"os"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quiverdb/quiver/integration/tpch"
)

// TestTPCH runs the 22 TPC-H queries through Flight SQL and compares them
// with the reference answers. QUIVER_TPCH_DIR (a data dir holding tpch/)
// and QUIVER_TPCH_ANSWERS switch it to another scale factor (make tpch-sf1).
func TestTPCH(t *testing.T) {
	dataDir, answers := sf001, "tpch/answers/sf0.01"
	if d := os.Getenv("QUIVER_TPCH_DIR"); d != "" {
		dataDir = d
		answers = os.Getenv("QUIVER_TPCH_ANSWERS")
		if answers == "" {
			t.Fatal("QUIVER_TPCH_DIR needs QUIVER_TPCH_ANSWERS")
		}
	}
	cl := serve(t, newEngine(t, dataDir, "tpch"))
	for q := 1; q <= 22; q++ {
		name := fmt.Sprintf("q%02d", q)
		t.Run(name, func(t *testing.T) {
			header, got := runQuery(t, cl, readQuery(t, name))
			msg, err := tpch.Check(answers, name, header, got)
			if err != nil {
				t.Fatal(err)
			}
			if msg != "" {
				t.Fatal(msg)
			}
		})
	}
}

// readQuery prefers the MySQL-dialect rewrite in queries-mysql/.
func readQuery(t testing.TB, name string) string {
	sql, err := tpch.ReadQuery("tpch", name)
	if err != nil {
		t.Fatal(err)
	}
	return sql
}

// runQuery executes sql and renders every value as the answer files do.
func runQuery(t *testing.T, cl *flightsql.Client, sql string) ([]string, [][]string) {
	t.Helper()
	ctx := context.Background()
	info, err := cl.Execute(ctx, sql)
	if err != nil {
		t.Fatalf("execute: %v", err)
	}
	var (
		header []string
		rows   [][]string
	)
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.Ticket)
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		header = header[:0]
		for _, f := range rdr.Schema().Fields() {
			header = append(header, f.Name)
		}
		for rdr.Next() {
			rows = append(rows, tpch.Rows([]arrow.RecordBatch{rdr.RecordBatch()})...)
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
	}
	return header, rows
}
