package scan

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

var ctx = context.Background()

const lineitemRows = 60175

func tpchDir(t testing.TB) string {
	d, _ := filepath.Abs("../../testdata/tpch-sf0.01")
	if _, err := os.Stat(d); err != nil {
		t.Skip("no TPC-H data")
	}
	return d
}

func table(t testing.TB, dir, schema, name string) *catalog.Table {
	t.Helper()
	c, err := catalog.Open(ctx, catalog.Options{DataDir: dir}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := c.Table(ctx, schema, name)
	if err != nil {
		t.Fatal(err)
	}
	return tbl
}

func taskCtx(mem memory.Allocator) *execution.TaskContext {
	return &execution.TaskContext{Alloc: execution.NewQueryAllocator(mem, 0)}
}

func project(tbl *catalog.Table, cols ...int) *arrow.Schema {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = tbl.Columns.Field(c)
	}
	return arrow.NewSchema(fields, nil)
}

func splitsOf(tbl *catalog.Table) []catalog.Split {
	out := make([]catalog.Split, len(tbl.Files))
	for i, f := range tbl.Files {
		out[i] = catalog.Split{File: f}
	}
	return out
}

// drain reads a stream to the end, checks every batch against the schema
// and returns the rows as text plus the number of batches.
func drain(t testing.TB, s execution.Stream) ([]string, int) {
	t.Helper()
	var rows []string
	batches := 0
	for {
		b, err := s.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if !b.Schema().Equal(s.Schema()) {
			t.Fatalf("batch schema %v, stream schema %v", b.Schema(), s.Schema())
		}
		batches++
		for r := 0; r < int(b.NumRows()); r++ {
			var vals []string
			for _, c := range b.Columns() {
				if c.IsNull(r) {
					vals = append(vals, "NULL")
				} else {
					vals = append(vals, c.ValueStr(r))
				}
			}
			rows = append(rows, strings.Join(vals, "|"))
		}
		b.Release()
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	return rows, batches
}

// orderKeyBetween is a test filter (the real expression kernels live in
// execution/expr): lo <= column 0 (int64) <= hi.
type orderKeyBetween struct{ lo, hi int64 }

func (f orderKeyBetween) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (f orderKeyBetween) String() string           { return fmt.Sprintf("#0 BETWEEN %d AND %d", f.lo, f.hi) }
func (f orderKeyBetween) Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	col := b.Column(0).(*array.Int64)
	bb := array.NewBooleanBuilder(mem)
	defer bb.Release()
	for i := 0; i < col.Len(); i++ {
		if col.IsNull(i) {
			bb.AppendNull()
			continue
		}
		v := col.Value(i)
		bb.Append(v >= f.lo && v <= f.hi)
	}
	return bb.NewArray(), nil
}

func TestParquetProjection(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	li := table(t, tpchDir(t), "tpch", "lineitem")
	cols := []int{4, 0, 10, 8, 0} // l_quantity, l_orderkey, l_shipdate, l_returnflag, l_orderkey again
	out := project(li, cols...)
	s, err := NewParquetScan(ctx, taskCtx(mem), splitsOf(li), cols, out, nil, -1)
	if err != nil {
		t.Fatal(err)
	}
	rows, batches := drain(t, s)
	if len(rows) != lineitemRows || batches < lineitemRows/execution.BatchSize {
		t.Fatalf("rows=%d batches=%d", len(rows), batches)
	}
	if rows[0] != "17|1|1996-03-13|N|1" {
		t.Errorf("first row = %q", rows[0])
	}
}

func TestParquetCountOnly(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	li := table(t, tpchDir(t), "tpch", "lineitem")
	s, err := NewParquetScan(ctx, taskCtx(mem), splitsOf(li), nil, arrow.NewSchema(nil, nil), nil, -1)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := drain(t, s)
	if len(rows) != lineitemRows {
		t.Fatalf("rows = %d", len(rows))
	}
}

// writeOrderedLineitem rewrites lineitem (sorted by l_orderkey) with
// 10000-row groups so that pruning has something to skip.
func writeOrderedLineitem(t testing.TB) (dir string, numGroups int) {
	t.Helper()
	src := table(t, tpchDir(t), "tpch", "lineitem")
	s, err := NewParquetScan(ctx, taskCtx(memory.DefaultAllocator), splitsOf(src), []int{0, 4, 8}, project(src, 0, 4, 8), nil, -1)
	if err != nil {
		t.Fatal(err)
	}
	batches, err := execution.Collect(ctx, s)
	if err != nil {
		t.Fatal(err)
	}
	dir = t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "s", "li"), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "s", "li", "part.parquet"))
	if err != nil {
		t.Fatal(err)
	}
	w, err := pqarrow.NewFileWriter(s.Schema(), f, parquet.NewWriterProperties(parquet.WithMaxRowGroupLength(10000)), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := w.WriteBuffered(b); err != nil {
			t.Fatal(err)
		}
		b.Release()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return dir, (lineitemRows + 9999) / 10000
}

func TestParquetPruningAndFilter(t *testing.T) {
	dir, groups := writeOrderedLineitem(t)
	li := table(t, dir, "s", "li")
	if len(li.Files[0].RowGroups) != groups {
		t.Fatalf("row groups = %d, want %d", len(li.Files[0].RowGroups), groups)
	}
	key := func(v int64) scalar.Scalar { return scalar.NewInt64Scalar(v) }
	tests := []struct {
		name       string
		preds      []pred
		filter     orderKeyBetween
		wantRead   int
		wantPruned int
	}{
		{"between in one group", []pred{{col: 0, op: opGe, vals: []scalar.Scalar{key(20000)}}, {col: 0, op: opLe, vals: []scalar.Scalar{key(20100)}}}, orderKeyBetween{20000, 20100}, 1, groups - 1},
		{"no pruning preds", nil, orderKeyBetween{20000, 20100}, groups, 0},
		{"equality outside data", []pred{{col: 0, op: opEq, vals: []scalar.Scalar{key(999999)}}}, orderKeyBetween{999999, 999999}, 0, groups},
		{"in list", []pred{{col: 0, op: opIn, vals: []scalar.Scalar{key(1), key(59000)}}}, orderKeyBetween{1, 1}, 2, groups - 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			cols := []int{0, 2}
			s, err := NewParquetScan(ctx, taskCtx(mem), splitsOf(li), cols, project(li, cols...), nil, -1)
			if err != nil {
				t.Fatal(err)
			}
			ps := s.(*parquetScan)
			ps.filters, ps.preds = []expr.Expr{tt.filter}, tt.preds
			rows, _ := drain(t, s)
			if ps.rowGroupsRead != tt.wantRead || ps.rowGroupsPruned != tt.wantPruned {
				t.Errorf("read %d pruned %d row groups, want %d and %d", ps.rowGroupsRead, ps.rowGroupsPruned, tt.wantRead, tt.wantPruned)
			}
			for _, r := range rows {
				var k int64
				fmt.Sscan(strings.Split(r, "|")[0], &k)
				if k < tt.filter.lo || k > tt.filter.hi {
					t.Fatalf("row %q passed filter %s", r, tt.filter)
				}
			}
			// orders 20000..20100 of SF0.01 hold 114 lineitems, pruned or not
			if tt.filter.lo == 20000 && len(rows) != 114 {
				t.Errorf("rows = %d, want 114", len(rows))
			}
			if tt.wantRead > 0 && len(rows) == 0 {
				t.Error("no rows passed the filter")
			}
		})
	}
}

func TestParquetLimitStopsEarly(t *testing.T) {
	dir, _ := writeOrderedLineitem(t)
	li := table(t, dir, "s", "li")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, err := NewParquetScan(ctx, taskCtx(mem), splitsOf(li), []int{0}, project(li, 0), nil, 100)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := drain(t, s)
	if len(rows) != 100 || rows[0] != "1" {
		t.Fatalf("rows=%d first=%q", len(rows), rows[0])
	}
	if n := s.(*parquetScan).rowGroupsRead; n != 1 {
		t.Errorf("read %d row groups for LIMIT 100", n)
	}
}

func TestParquetSplitRowGroupsAndCancel(t *testing.T) {
	dir, _ := writeOrderedLineitem(t)
	li := table(t, dir, "s", "li")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	sp := []catalog.Split{{File: li.Files[0], RowGroups: []int{2, 3}}}
	s, err := NewParquetScan(ctx, taskCtx(mem), sp, []int{0}, project(li, 0), nil, -1)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := drain(t, s)
	if len(rows) != 20000 {
		t.Errorf("two row groups gave %d rows", len(rows))
	}
	cctx, cancel := context.WithCancel(ctx)
	s, err = NewParquetScan(cctx, taskCtx(mem), sp, []int{0}, project(li, 0), nil, -1)
	if err != nil {
		t.Fatal(err)
	}
	b, err := s.Next(cctx)
	if err != nil {
		t.Fatal(err)
	}
	b.Release()
	cancel()
	if _, err := s.Next(cctx); !errors.Is(err, context.Canceled) {
		t.Errorf("after cancel: %v", err)
	}
	s.Close()
	s.Close() // idempotent
}

func TestCSVScan(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "s", "people.csv")
	os.MkdirAll(filepath.Dir(p), 0o755)
	os.WriteFile(p, []byte("id,score,born,name,seen,ok\n1,1.5,2020-01-02,ann,2020-01-02 03:04:05,true\n2,,2021-12-31,\\N,2020-01-02 03:04:05.25,false\n3,7,,bob,,\n"), 0o644)
	tbl := table(t, dir, "s", "people")
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	cols := []int{0, 3, 2, 4, 5}
	s, err := NewCSVScan(ctx, taskCtx(mem), splitsOf(tbl), cols, project(tbl, cols...), []expr.Expr{orderKeyBetween{2, 3}}, -1)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := drain(t, s)
	if strings.Join(rows, ";") != "2|NULL|2021-12-31|2020-01-02T03:04:05.25|false;3|bob|NULL|NULL|NULL" {
		t.Errorf("rows = %q", rows)
	}
	s, err = NewCSVScan(ctx, taskCtx(mem), splitsOf(tbl), nil, arrow.NewSchema(nil, nil), nil, 2)
	if err != nil {
		t.Fatal(err)
	}
	if rows, _ := drain(t, s); len(rows) != 2 {
		t.Errorf("count with limit 2: %d", len(rows))
	}
}

func TestMemoryScan(t *testing.T) {
	dir := t.TempDir()
	c, err := catalog.Open(ctx, catalog.Options{DataDir: dir, DefaultSchema: "main"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	tbl, err := c.Table(ctx, "information_schema", "schemata")
	if err != nil {
		t.Fatal(err)
	}
	s, err := NewMemoryScan(ctx, tbl, []int{1}, project(tbl, 1))
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := drain(t, s)
	if strings.Join(rows, ",") != "information_schema,main" {
		t.Errorf("schemata = %v", rows)
	}
}

func TestStatsMayMatch(t *testing.T) {
	i64 := func(v int64) scalar.Scalar { return scalar.NewInt64Scalar(v) }
	st := &catalog.ColumnStats{Min: i64(10), Max: i64(20), NullCount: 0}
	tests := []struct {
		op   predOp
		v    scalar.Scalar
		want bool
	}{
		{opEq, i64(10), true}, {opEq, i64(9), false}, {opEq, i64(21), false},
		{opLt, i64(10), false}, {opLt, i64(11), true},
		{opLe, i64(10), true}, {opLe, i64(9), false},
		{opGt, i64(20), false}, {opGt, i64(19), true},
		{opGe, i64(20), true}, {opGe, i64(21), false},
		{opEq, scalar.MakeNullScalar(arrow.PrimitiveTypes.Int64), false},
		{opEq, scalar.NewStringScalar("x"), true}, // type mismatch: never prune
		{opIsNull, nil, false},
	}
	for _, tt := range tests {
		p := pred{op: tt.op}
		if tt.v != nil {
			p.vals = []scalar.Scalar{tt.v}
		}
		if got := statsMayMatch(st, 100, p); got != tt.want {
			t.Errorf("op %d %v: got %v", tt.op, tt.v, got)
		}
	}
	// widening cast: an int32 column compared as int64
	st32 := &catalog.ColumnStats{Min: scalar.NewInt32Scalar(1), Max: scalar.NewInt32Scalar(7), NullCount: -1}
	if statsMayMatch(st32, 10, pred{op: opGt, vals: []scalar.Scalar{i64(7)}, cast: arrow.PrimitiveTypes.Int64}) {
		t.Error("int32 stats cast to int64 not pruned")
	}
	if !statsMayMatch(st32, 10, pred{op: opIsNull}) {
		t.Error("unknown null count pruned IS NULL")
	}
	strs := &catalog.ColumnStats{Min: scalar.NewStringScalar("AIR"), Max: scalar.NewStringScalar("MAIL"), NullCount: 0}
	if statsMayMatch(strs, 10, pred{op: opEq, vals: []scalar.Scalar{scalar.NewStringScalar("SHIP")}}) {
		t.Error("string outside range not pruned")
	}
}

func TestWriteCSV(t *testing.T) {
	dir := t.TempDir()
	sc := arrow.NewSchema([]arrow.Field{
		{Name: "a", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
		{Name: "b", Type: arrow.BinaryTypes.String, Nullable: true},
		{Name: "c", Type: &arrow.Decimal128Type{Precision: 10, Scale: 2}, Nullable: true},
	}, nil)
	mk := func() execution.Stream {
		b := array.NewRecordBuilder(memory.DefaultAllocator, sc)
		defer b.Release()
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 0}, []bool{true, false})
		b.Field(1).(*array.StringBuilder).AppendValues([]string{"x\ty", `q"\`}, nil)
		b.Field(2).(*array.Decimal128Builder).Append(decimalOf(1234))
		b.Field(2).AppendNull()
		return execution.NewBatchStream(sc, []arrow.RecordBatch{b.NewRecordBatch()})
	}
	tests := []struct {
		name string
		opts CSVWriteOptions
		want string
	}{
		{"defaults", CSVWriteOptions{}, "1\tx\\\ty\t12.34\n\\N\tq\"\\\\\t\\N\n"},
		{"enclosed", CSVWriteOptions{FieldsTerm: ",", Enclosed: `"`, LinesTerm: "\r\n"}, "\"1\",\"x\ty\",\"12.34\"\r\n\\N,\"q\\\"\\\\\",\\N\r\n"},
		{"optionally", CSVWriteOptions{FieldsTerm: ",", Enclosed: `"`, OptionallyEnclosed: true}, "1,\"x\ty\",12.34\n\\N,\"q\\\"\\\\\",\\N\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(dir, tt.name+".txt")
			s := mk()
			defer s.Close()
			n, err := WriteCSV(ctx, s, p, tt.opts)
			if err != nil || n != 2 {
				t.Fatalf("WriteCSV: %d %v", n, err)
			}
			got, _ := os.ReadFile(p)
			if string(got) != tt.want {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
			s2 := mk()
			defer s2.Close()
			_, err = WriteCSV(ctx, s2, p, tt.opts)
			if qerr.KindOf(err) != qerr.AlreadyExists || !strings.Contains(err.Error(), "already exists") {
				t.Errorf("overwrite: %v", err)
			}
		})
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
}

func TestWriteParquetRoundTrip(t *testing.T) {
	li := table(t, tpchDir(t), "tpch", "lineitem")
	cols := []int{0, 4, 10, 15}
	s, err := NewParquetScan(ctx, taskCtx(memory.DefaultAllocator), splitsOf(li), cols, project(li, cols...), nil, 1000)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	p := filepath.Join(dir, "s", "out.parquet")
	os.MkdirAll(filepath.Dir(p), 0o755)
	n, err := WriteParquet(ctx, s, p)
	s.Close()
	if err != nil || n != 1000 {
		t.Fatalf("WriteParquet: %d %v", n, err)
	}
	out := table(t, dir, "s", "out")
	for i, c := range cols {
		if !arrow.TypeEqual(out.Columns.Field(i).Type, li.Columns.Field(c).Type) {
			t.Errorf("column %d type %s, want %s", i, out.Columns.Field(i).Type, li.Columns.Field(c).Type)
		}
	}
	if out.Stats.RowCount != 1000 {
		t.Errorf("rows = %d", out.Stats.RowCount)
	}
	s, err = NewParquetScan(ctx, taskCtx(memory.DefaultAllocator), splitsOf(out), []int{0, 1, 2, 3}, out.Columns, nil, 1)
	if err != nil {
		t.Fatal(err)
	}
	rows, _ := drain(t, s)
	if len(rows) != 1 || rows[0] != "1|17|1996-03-13|egular courts above the" {
		t.Errorf("round trip first row = %q", rows)
	}
}

// BenchmarkScanLineitem4Cols scans 4 lineitem columns (SF1 from
// /tmp/tpch-sf1 when present, else the committed SF0.01): three decimals
// and a date.
func BenchmarkScanLineitem4Cols(b *testing.B) { benchScanLineitem(b, 4, 5, 6, 10) }

// BenchmarkScanLineitemStrings scans the lineitem strings: three of low
// cardinality and l_comment.
func BenchmarkScanLineitemStrings(b *testing.B) { benchScanLineitem(b, 8, 9, 14, 15) }

// BenchmarkScanLineitemInts scans the lineitem keys and a date (pqarrow).
func BenchmarkScanLineitemInts(b *testing.B) { benchScanLineitem(b, 0, 1, 2, 10) }

func benchScanLineitem(b *testing.B, cols ...int) {
	dir := "/tmp/tpch-sf1"
	if _, err := os.Stat(filepath.Join(dir, "tpch", "lineitem.parquet")); err != nil {
		dir = tpchDir(b)
	}
	li := table(b, dir, "tpch", "lineitem")
	out := project(li, cols...)
	b.ResetTimer()
	var bytes int64
	for i := 0; i < b.N; i++ {
		s, err := NewParquetScan(ctx, taskCtx(memory.DefaultAllocator), splitsOf(li), cols, out, nil, -1)
		if err != nil {
			b.Fatal(err)
		}
		var rows int64
		bytes = 0
		for {
			bt, err := s.Next(ctx)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			rows += bt.NumRows()
			for _, c := range bt.Columns() {
				for _, buf := range c.Data().Buffers() {
					if buf != nil {
						bytes += int64(buf.Len())
					}
				}
			}
			bt.Release()
		}
		s.Close()
		if rows != li.Stats.RowCount {
			b.Fatalf("rows %d, want %d", rows, li.Stats.RowCount)
		}
	}
	// MB/s of Arrow data produced.
	b.SetBytes(bytes)
}

func decimalOf(v int64) decimal128.Num { return decimal128.FromI64(v) }

// TestPruningWithPlannerExprs runs the filters the planner builds (real
// expression kernels): they are recognized for pruning and applied exactly.
func TestPruningWithPlannerExprs(t *testing.T) {
	dir, groups := writeOrderedLineitem(t)
	li := table(t, dir, "s", "li")
	i64 := arrow.PrimitiveTypes.Int64
	bl := arrow.FixedWidthTypes.Boolean
	key := expr.NewColumn(0, "l_orderkey", i64)
	lit := func(v int64) expr.Expr { return expr.NewLiteral(scalar.NewInt64Scalar(v)) }
	call := func(name string, args ...expr.Expr) expr.Expr {
		e, err := expr.NewCall(name, args, bl)
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	tests := []struct {
		name       string
		filters    []expr.Expr
		wantRows   int
		wantPruned int
	}{
		{"range as two conjuncts", []expr.Expr{call(">=", key, lit(20000)), call("<=", key, lit(20100))}, 114, groups - 1},
		{"range under and", []expr.Expr{call("and", call(">=", key, lit(20000)), call("<=", key, lit(20100)))}, 114, groups - 1},
		{"literal on the left", []expr.Expr{call(">", lit(9000), key)}, 9013, groups - 1},
		{"in list", []expr.Expr{call("in", key, lit(1), lit(59975))}, 8, groups - 2},
		{"is null never true", []expr.Expr{call("is_null", key)}, 0, groups},
		{"is not null", []expr.Expr{call("is_not_null", key)}, lineitemRows, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			s, err := NewParquetScan(ctx, taskCtx(mem), splitsOf(li), []int{0, 1}, project(li, 0, 1), tt.filters, -1)
			if err != nil {
				t.Fatal(err)
			}
			rows, _ := drain(t, s)
			if pruned := s.(*parquetScan).rowGroupsPruned; len(rows) != tt.wantRows || pruned != tt.wantPruned {
				t.Errorf("rows %d pruned %d, want %d and %d", len(rows), pruned, tt.wantRows, tt.wantPruned)
			}
			// The same filters without pruning give the same rows.
			ref, err := NewParquetScan(ctx, taskCtx(mem), splitsOf(li), []int{0, 1}, project(li, 0, 1), tt.filters, -1)
			if err != nil {
				t.Fatal(err)
			}
			ref.(*parquetScan).preds = nil
			if refRows, _ := drain(t, ref); strings.Join(refRows, ";") != strings.Join(rows, ";") {
				t.Errorf("pruned scan gave %d rows, unpruned %d", len(rows), len(refRows))
			}
		})
	}
}
