package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// TestPreparedInsertBatch sends 10,000 parameter rows with one prepared
// INSERT through the Go Flight SQL client to a real `quiver serve`: the
// server reports 10,000 rows and stores them as one part file (one commit);
// a batch with one bad row fails naming that row and stores nothing.
func TestPreparedInsertBatch(t *testing.T) {
	bin := buildQuiver(t)
	data := t.TempDir()
	p := startQuiver(t, bin, "--data", data)
	execUpdate(t, p, "CREATE DATABASE app")
	execUpdate(t, p, "CREATE TABLE app.b (id INT NOT NULL, name VARCHAR(8), day DATE)")

	ctx := context.Background()
	cl := dial(t, p.addr)
	defer cl.Close()
	ps, err := cl.Prepare(ctx, "INSERT INTO app.b VALUES (?, ?, CAST(? AS DATE))")
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close(ctx)

	batch := func(n, bad int) arrow.RecordBatch {
		ib := array.NewInt64Builder(memory.DefaultAllocator)
		sb := array.NewStringBuilder(memory.DefaultAllocator)
		db := array.NewStringBuilder(memory.DefaultAllocator)
		defer ib.Release()
		defer sb.Release()
		defer db.Release()
		for i := 1; i <= n; i++ {
			ib.Append(int64(i))
			name := fmt.Sprintf("r%d", i)
			if i == bad {
				name = "much too long"
			}
			sb.Append(name)
			db.Append(fmt.Sprintf("2024-%02d-%02d", i%12+1, i%28+1))
		}
		cols := []arrow.Array{ib.NewArray(), sb.NewArray(), db.NewArray()}
		schema := arrow.NewSchema([]arrow.Field{
			{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
			{Name: "name", Type: arrow.BinaryTypes.String, Nullable: true},
			{Name: "day", Type: arrow.BinaryTypes.String, Nullable: true},
		}, nil)
		rb := array.NewRecordBatch(schema, cols, int64(n))
		for _, c := range cols {
			c.Release()
		}
		return rb
	}

	const n = 10000
	good := batch(n, 0)
	defer good.Release()
	ps.SetParameters(good)
	start := time.Now()
	got, err := ps.ExecuteUpdate(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d rows in one prepared INSERT: %v", n, time.Since(start))
	if got != n {
		t.Fatalf("ExecuteUpdate reported %d rows, want %d", got, n)
	}
	parts, _ := filepath.Glob(filepath.Join(data, "app", "b", "*.parquet"))
	if len(parts) != 1 {
		t.Fatalf("%d part files, want 1 (one commit)", len(parts))
	}
	if rows := joinRows(queryRows(t, p, "SELECT COUNT(*), MIN(id), MAX(id), MAX(name), MIN(day) FROM app.b")); rows != "10000|1|10000|r9999|2024-01-01" {
		t.Fatalf("stored: %s", rows)
	}

	bad := batch(n, 4321)
	defer bad.Release()
	ps.SetParameters(bad)
	if _, err := ps.ExecuteUpdate(ctx); err == nil || !strings.Contains(err.Error(), "Data too long for column 'name' at row 4321") {
		t.Fatalf("bad batch: %v, want the error naming row 4321", err)
	}
	if rows := joinRows(queryRows(t, p, "SELECT COUNT(*) FROM app.b")); rows != "10000" {
		t.Fatalf("a failed batch changed the table: %s rows", rows)
	}
	if parts, _ := filepath.Glob(filepath.Join(data, "app", "b", "*.parquet")); len(parts) != 1 {
		t.Fatalf("a failed batch left %d part files", len(parts))
	}

	// A DoPut of several record batches is one commit too.
	var recs []arrow.RecordBatch
	for i := 0; i < 3; i++ {
		r := batch(1000, 0)
		defer r.Release()
		recs = append(recs, r)
	}
	rdr, err := array.NewRecordReader(recs[0].Schema(), recs)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	ps.SetRecordReader(rdr)
	if got, err := ps.ExecuteUpdate(ctx); err != nil || got != 3000 {
		t.Fatalf("three record batches: %d rows, %v", got, err)
	}
	if parts, _ := filepath.Glob(filepath.Join(data, "app", "b", "*.parquet")); len(parts) != 2 {
		t.Fatalf("three record batches in one DoPut left %d part files, want 2 (one more commit)", len(parts))
	}
	if rows := joinRows(queryRows(t, p, "SELECT COUNT(*) FROM app.b WHERE id <= 1000")); rows != "4000" {
		t.Fatalf("after the three batches: %s rows with id <= 1000", rows)
	}
}
