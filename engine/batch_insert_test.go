package engine

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// paramBatch builds a parameter batch from columns of Go values (int64,
// string or nil for NULL).
func paramBatch(t *testing.T, cols ...[]any) arrow.RecordBatch {
	t.Helper()
	var fields []arrow.Field
	var arrs []arrow.Array
	for c, vals := range cols {
		var b array.Builder
		switch vals[0].(type) {
		case int64:
			b = array.NewInt64Builder(memory.DefaultAllocator)
		default:
			b = array.NewStringBuilder(memory.DefaultAllocator)
		}
		for _, v := range vals {
			switch v := v.(type) {
			case nil:
				b.AppendNull()
			case int64:
				b.(*array.Int64Builder).Append(v)
			case string:
				b.(*array.StringBuilder).Append(v)
			}
		}
		arrs = append(arrs, b.NewArray())
		b.Release()
		fields = append(fields, arrow.Field{Name: fmt.Sprintf("p%d", c), Type: arrs[c].DataType(), Nullable: true})
	}
	rb := array.NewRecordBatch(arrow.NewSchema(fields, nil), arrs, int64(arrs[0].Len()))
	for _, a := range arrs {
		a.Release()
	}
	t.Cleanup(rb.Release)
	return rb
}

func partFiles(t *testing.T, e *Engine, table string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(e.cfg.DataDir, "test", table, "*.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	return len(m)
}

// rowsOf is one batch row's values as the per-row path binds them.
func rowsOf(t *testing.T, b arrow.RecordBatch) [][]scalar.Scalar {
	var out [][]scalar.Scalar
	for i := 0; i < int(b.NumRows()); i++ {
		row := make([]scalar.Scalar, b.NumCols())
		for c := range row {
			v, err := scalar.GetScalar(b.Column(c), i)
			if err != nil {
				t.Fatal(err)
			}
			row[c] = v
		}
		out = append(out, row)
	}
	return out
}

// A prepared INSERT … VALUES over N parameter rows is one insert: one part
// file, N rows, the same values the statement run once per row stores.
func TestInsertBatchOneCommit(t *testing.T) {
	e, s := scratchEngine(t)
	ctx := context.Background()
	for _, tb := range []string{"b", "ref"} {
		run(t, e, s, "CREATE TABLE "+tb+" (id INT NOT NULL, name VARCHAR(6), d DATE, k INT DEFAULT 7, x BIGINT)")
	}
	const n = 3000
	ids, names, dates := make([]any, n), make([]any, n), make([]any, n)
	for i := range ids {
		ids[i] = int64(i + 1)
		names[i] = fmt.Sprintf("n%d", i%1000)
		dates[i] = fmt.Sprintf("2024-%02d-%02d", i%12+1, i%28+1)
		if i%10 == 3 {
			names[i] = nil
		}
	}
	const sql = "INSERT INTO %s (id, name, d, x) VALUES (?, CONCAT(?, '!'), CAST(? AS DATE), ? * 2 + 1)"
	// ? * 2 + 1 reads the first parameter again: 4 placeholders, 3 columns.
	withX := paramBatch(t, ids, names, dates, ids)
	got, ok, err := e.InsertBatch(ctx, s, fmt.Sprintf(sql, "b"), []arrow.RecordBatch{withX})
	if err != nil || !ok || got != n {
		t.Fatalf("InsertBatch = %d, %v, %v; want %d rows", got, ok, err, n)
	}
	if f := partFiles(t, e, "b"); f != 1 {
		t.Fatalf("%d part files, want 1 (one commit)", f)
	}
	for _, row := range rowsOf(t, withX)[:200] {
		if _, err := e.Execute(ctx, s, fmt.Sprintf(sql, "ref"), row); err != nil {
			t.Fatal(err)
		}
	}
	const q = "SELECT id, name, d, k, x FROM %s WHERE id <= 200 ORDER BY id"
	want, have := run(t, e, s, fmt.Sprintf(q, "ref")), run(t, e, s, fmt.Sprintf(q, "b"))
	if strings.Join(want, "\n") != strings.Join(have, "\n") || len(have) != 200 {
		t.Fatalf("batch insert stored\n%v\nper-row insert stored\n%v", have[:5], want[:5])
	}
	if c := run(t, e, s, "SELECT COUNT(*), COUNT(name), SUM(x) FROM b"); c[0] != fmt.Sprintf("%d|%d|%d", n, n-n/10, n*(n+1)+n) {
		t.Fatalf("counts %v", c)
	}
}

// A bad value in any row fails the whole batch, naming the row, and writes
// nothing; with several VALUES rows per statement the rows are numbered in
// statement order (parameter row i's VALUES rows are adjacent).
func TestInsertBatchStrictAllOrNothing(t *testing.T) {
	e, s := scratchEngine(t)
	ctx := context.Background()
	run(t, e, s, "CREATE TABLE b (id TINYINT NOT NULL, name VARCHAR(3))")
	run(t, e, s, "INSERT INTO b VALUES (0, 'old')")
	ids, names := make([]any, 50), make([]any, 50)
	for i := range ids {
		ids[i], names[i] = int64(i), "ok"
	}
	names[36] = "long"
	_, ok, err := e.InsertBatch(ctx, s, "INSERT INTO b VALUES (?, ?)", []arrow.RecordBatch{paramBatch(t, ids, names)})
	if !ok || err == nil || !strings.Contains(err.Error(), "Data too long for column 'name' at row 37") {
		t.Fatalf("ok=%v err=%v, want the error naming row 37", ok, err)
	}
	// Second batch: VALUES (?, 'a'), (? * 10, 'b'): parameter row 13 (id 12)
	// makes 120 (fits), row 14 (id 13) makes 130: statement row 2×14 = 28.
	ids2 := make([]any, 20)
	for i := range ids2 {
		ids2[i] = int64(i)
	}
	p := paramBatch(t, ids2, ids2)
	_, ok, err = e.InsertBatch(ctx, s, "INSERT INTO b VALUES (?, 'a'), (? * 10, 'b')", []arrow.RecordBatch{p})
	if !ok || err == nil || !strings.Contains(err.Error(), "Out of range value for column 'id' at row 28") {
		t.Fatalf("ok=%v err=%v, want the error naming row 28", ok, err)
	}
	if c := run(t, e, s, "SELECT COUNT(*) FROM b"); c[0] != "1" || partFiles(t, e, "b") != 1 {
		t.Fatalf("a failed batch wrote rows: count %v, %d part files", c, partFiles(t, e, "b"))
	}
	// The same statement over rows that fit stores them in statement order.
	small := paramBatch(t, []any{int64(1), int64(2)}, []any{int64(3), int64(4)})
	n, ok, err := e.InsertBatch(ctx, s, "INSERT INTO b VALUES (?, 'a'), (? * 10, 'b')", []arrow.RecordBatch{small})
	if err != nil || !ok || n != 4 {
		t.Fatalf("InsertBatch = %d, %v, %v", n, ok, err)
	}
	if got := strings.Join(run(t, e, s, "SELECT id, name FROM b WHERE id > 0 ORDER BY id"), " "); got != "1|a 2|a 30|b 40|b" {
		t.Fatalf("rows %s", got)
	}
}

// Statements other than INSERT … VALUES are left to the per-row path.
func TestInsertBatchDeclines(t *testing.T) {
	e, s := scratchEngine(t)
	ctx := context.Background()
	run(t, e, s, "CREATE TABLE b (id INT)")
	p := paramBatch(t, []any{int64(1), int64(2)})
	for _, sql := range []string{
		"INSERT INTO b SELECT ?",
		"UPDATE b SET id = ?",
		"DELETE FROM b WHERE id = ?",
		"INSERT INTO b VALUES ((SELECT MAX(id) FROM b) + ?)",
	} {
		if _, ok, err := e.InsertBatch(ctx, s, sql, []arrow.RecordBatch{p}); ok || err != nil {
			t.Errorf("%s: ok=%v err=%v, want declined", sql, ok, err)
		}
	}
	if c := run(t, e, s, "SELECT COUNT(*) FROM b"); c[0] != "0" {
		t.Fatalf("a declined batch wrote rows: %v", c)
	}
}

// Several parameter batches in one call (a DoPut of many record batches)
// are still one insert: one part file, rows numbered across the batches.
func TestInsertBatchSeveralBatches(t *testing.T) {
	e, s := scratchEngine(t)
	ctx := context.Background()
	run(t, e, s, "CREATE TABLE b (id TINYINT, name VARCHAR(3))")
	b1 := paramBatch(t, []any{int64(1), int64(2)}, []any{"a", "b"})
	empty := array.NewRecordBatch(b1.Schema(), []arrow.Array{array.NewInt64Builder(memory.DefaultAllocator).NewArray(), array.NewStringBuilder(memory.DefaultAllocator).NewArray()}, 0)
	defer empty.Release()
	b3 := paramBatch(t, []any{int64(3), int64(4), int64(5)}, []any{"c", "d", "e"})
	bad := paramBatch(t, []any{int64(6), int64(300)}, []any{"f", "g"})
	if _, _, err := e.InsertBatch(ctx, s, "INSERT INTO b VALUES (?, ?)", []arrow.RecordBatch{b1, empty, b3, bad}); err == nil || !strings.Contains(err.Error(), "Out of range value for column 'id' at row 7") {
		t.Fatalf("err %v, want the error naming row 7 (second row of the fourth batch)", err)
	}
	n, ok, err := e.InsertBatch(ctx, s, "INSERT INTO b VALUES (?, ?)", []arrow.RecordBatch{b1, empty, b3})
	if err != nil || !ok || n != 5 {
		t.Fatalf("InsertBatch = %d, %v, %v", n, ok, err)
	}
	if got := strings.Join(run(t, e, s, "SELECT id, name FROM b ORDER BY id"), " "); got != "1|a 2|b 3|c 4|d 5|e" || partFiles(t, e, "b") != 1 {
		t.Fatalf("rows %s, %d part files", got, partFiles(t, e, "b"))
	}
}

// A bare `?` is stored with the INSERT rules, like a literal: a string
// parameter is rounded into an INT column, and an all-NULL parameter
// column (Arrow type null) stores NULLs or is refused by NOT NULL.
func TestInsertBatchBareParamsStoredLikeLiterals(t *testing.T) {
	e, s := scratchEngine(t)
	ctx := context.Background()
	run(t, e, s, "CREATE TABLE b (id INT NOT NULL, v INT, d DATE)")
	nulls := array.NewNull(3)
	defer nulls.Release()
	strs := paramBatch(t, []any{"1", "2.5", " 3 "}, []any{"2024-02-29", "2024-03-01", "2024-03-02"})
	schema := arrow.NewSchema([]arrow.Field{strs.Schema().Field(0), {Name: "n", Type: arrow.Null, Nullable: true}, strs.Schema().Field(1)}, nil)
	p := array.NewRecordBatch(schema, []arrow.Array{strs.Column(0), nulls, strs.Column(1)}, 3)
	defer p.Release()
	n, ok, err := e.InsertBatch(ctx, s, "INSERT INTO b (id, v, d) VALUES (?, ?, ?)", []arrow.RecordBatch{p})
	if err != nil || !ok || n != 3 {
		t.Fatalf("InsertBatch = %d, %v, %v", n, ok, err)
	}
	if got := strings.Join(run(t, e, s, "SELECT id, v, d FROM b ORDER BY id"), " "); got != "1|NULL|2024-02-29 3|NULL|2024-03-01 3|NULL|2024-03-02" {
		t.Fatalf("rows %s", got)
	}
	_, _, err = e.InsertBatch(ctx, s, "INSERT INTO b (v, id, d) VALUES (?, ?, ?)", []arrow.RecordBatch{p})
	if err == nil || !strings.Contains(err.Error(), "Column 'id' cannot be null") {
		t.Fatalf("NULL into NOT NULL: %v", err)
	}
	bad := paramBatch(t, []any{"1", "x"}, []any{"2024-01-01", "2024-01-02"})
	_, _, err = e.InsertBatch(ctx, s, "INSERT INTO b (id, d) VALUES (?, ?)", []arrow.RecordBatch{bad})
	if err == nil || !strings.Contains(err.Error(), "Incorrect integer value: 'x' for column 'id' at row 2") {
		t.Fatalf("string into INT: %v", err)
	}
}
