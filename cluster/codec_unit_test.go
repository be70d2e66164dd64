package cluster_test

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/cluster/planpb"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/planner/physical"
	"google.golang.org/protobuf/proto"
)

// valuesOf wraps literals in a one-row Values plan so they go through
// EncodePlan/DecodePlan like any fragment.
func valuesOf(t *testing.T, ss ...scalar.Scalar) *physical.Values {
	t.Helper()
	row := make([]expr.Expr, len(ss))
	fields := make([]arrow.Field, len(ss))
	for i, s := range ss {
		row[i] = expr.NewLiteral(s)
		fields[i] = arrow.Field{Name: string(rune('a' + i)), Type: s.DataType(), Nullable: true}
	}
	md := arrow.NewMetadata([]string{"k"}, []string{"v"})
	return &physical.Values{Rows: [][]expr.Expr{row}, Out: arrow.NewSchema(fields, &md)}
}

func listScalar(t *testing.T) scalar.Scalar {
	b := array.NewInt64Builder(memory.DefaultAllocator)
	defer b.Release()
	b.AppendValues([]int64{1, 2, 3}, nil)
	b.AppendNull()
	arr := b.NewArray()
	defer arr.Release()
	return scalar.NewListScalar(arr)
}

// TestCodecLiterals: literals of every Arrow scalar kind (and typed NULLs)
// come back with the same type and value.
func TestCodecLiterals(t *testing.T) {
	tsTZ := &arrow.TimestampType{Unit: arrow.Millisecond, TimeZone: "Europe/Paris"}
	ss := []scalar.Scalar{
		scalar.NewBooleanScalar(true),
		scalar.NewInt8Scalar(-128), scalar.NewInt16Scalar(32767), scalar.NewInt32Scalar(-5), scalar.NewInt64Scalar(-1 << 63),
		scalar.NewUint8Scalar(255), scalar.NewUint16Scalar(65535), scalar.NewUint32Scalar(1 << 31), scalar.NewUint64Scalar(1<<64 - 1),
		scalar.NewFloat16Scalar(float16.New(1.5)), scalar.NewFloat32Scalar(3.25), scalar.NewFloat64Scalar(-0.1),
		scalar.NewDecimal128Scalar(decimal128.FromI64(-123456789), &arrow.Decimal128Type{Precision: 15, Scale: 2}),
		scalar.NewDecimal128Scalar(decimal128.New(-1<<40, 12345), &arrow.Decimal128Type{Precision: 38, Scale: 10}),
		scalar.NewDecimal256Scalar(decimal256.New(1, 2, 3, 4), &arrow.Decimal256Type{Precision: 76, Scale: 5}),
		scalar.NewStringScalar("héllo 'q'"), scalar.NewLargeStringScalar(""),
		scalar.NewBinaryScalar(memory.NewBufferBytes([]byte{0, 1, 0xff}), arrow.BinaryTypes.Binary),
		scalar.NewLargeBinaryScalar(memory.NewBufferBytes([]byte("lb"))),
		scalar.NewFixedSizeBinaryScalar(memory.NewBufferBytes([]byte("abcd")), &arrow.FixedSizeBinaryType{ByteWidth: 4}),
		scalar.NewDate32Scalar(9204), scalar.NewDate64Scalar(86400000),
		scalar.NewTime32Scalar(3600, arrow.FixedWidthTypes.Time32s), scalar.NewTime64Scalar(45296000000, arrow.FixedWidthTypes.Time64us),
		scalar.NewTimestampScalar(981173106789000, arrow.FixedWidthTypes.Timestamp_us), scalar.NewTimestampScalar(-1, tsTZ),
		scalar.NewDurationScalar(42, arrow.FixedWidthTypes.Duration_ns),
		scalar.NewMonthIntervalScalar(14),
		scalar.NewDayTimeIntervalScalar(arrow.DayTimeInterval{Days: 3, Milliseconds: 4}),
		scalar.NewMonthDayNanoIntervalScalar(arrow.MonthDayNanoInterval{Months: 1, Days: 2, Nanoseconds: 3}),
		listScalar(t),
		scalar.ScalarNull,
		scalar.MakeNullScalar(arrow.PrimitiveTypes.Int64),
		scalar.MakeNullScalar(&arrow.Decimal128Type{Precision: 15, Scale: 2}),
		scalar.MakeNullScalar(arrow.BinaryTypes.String),
	}
	v := valuesOf(t, ss...)
	b, err := cluster.EncodePlan(v)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cluster.DecodePlan(context.Background(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := p.(*physical.Values)
	if !got.Out.Equal(v.Out) || !got.Out.Metadata().Equal(v.Out.Metadata()) {
		t.Fatalf("schema %v, want %v", got.Out, v.Out)
	}
	for i, want := range ss {
		lit, ok := got.Rows[0][i].(*expr.Literal)
		if !ok {
			t.Fatalf("%d: %T", i, got.Rows[0][i])
		}
		if !arrow.TypeEqual(lit.Value.DataType(), want.DataType()) || !scalar.Equals(lit.Value, want) {
			t.Errorf("%d: got %s %v, want %s %v", i, lit.Value.DataType(), lit.Value, want.DataType(), want)
		}
	}
}

// TestCodecTypes: nested, dictionary and parameterized types and field
// metadata survive (as column types of a ShuffleRead schema).
func TestCodecTypes(t *testing.T) {
	fields := []arrow.Field{
		{Name: "l", Type: arrow.ListOfField(arrow.Field{Name: "item", Type: arrow.PrimitiveTypes.Int32, Nullable: true})},
		{Name: "ll", Type: arrow.LargeListOf(arrow.BinaryTypes.String)},
		{Name: "fl", Type: arrow.FixedSizeListOf(3, arrow.PrimitiveTypes.Float64)},
		{Name: "s", Type: arrow.StructOf(arrow.Field{Name: "x", Type: arrow.PrimitiveTypes.Int64}, arrow.Field{Name: "y", Type: arrow.BinaryTypes.String, Nullable: true})},
		{Name: "m", Type: arrow.MapOf(arrow.BinaryTypes.String, arrow.PrimitiveTypes.Int64)},
		{Name: "d", Type: &arrow.DictionaryType{IndexType: arrow.PrimitiveTypes.Int32, ValueType: arrow.BinaryTypes.String}},
		{Name: "dur", Type: arrow.FixedWidthTypes.Duration_ms},
		{Name: "t32", Type: arrow.FixedWidthTypes.Time32ms},
		{Name: "t64", Type: arrow.FixedWidthTypes.Time64ns},
		{Name: "sv", Type: arrow.BinaryTypes.StringView},
		{Name: "c", Type: arrow.BinaryTypes.String, Nullable: true, Metadata: arrow.NewMetadata([]string{"quiver.column_type", "quiver.max_length"}, []string{"char(3)", "3"})},
	}
	sr := &physical.ShuffleRead{Stage: 2, Partitions: 3, Out: arrow.NewSchema(fields, nil),
		Part: physical.Partitioning{Kind: physical.HashPartitioning, Keys: []expr.Expr{expr.NewColumn(0, "l", fields[0].Type)}, Count: 3}}
	b, err := cluster.EncodePlan(sr)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cluster.DecodePlan(context.Background(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	got := p.(*physical.ShuffleRead)
	for i, f := range fields {
		g := got.Out.Field(i)
		if !g.Equal(f) {
			t.Errorf("field %d: %v, want %v", i, g, f)
		}
	}
	if physical.Format(p) != physical.Format(sr) {
		t.Errorf("%s != %s", physical.Format(p), physical.Format(sr))
	}
}

// TestCodecDecodedExpressionsEvaluate: calls, casts and CASE come back with
// their kernels bound (a hand-built &expr.Call fails at Eval).
func TestCodecDecodedExpressionsEvaluate(t *testing.T) {
	dec := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	sum, err := expr.NewCall("+", []expr.Expr{expr.NewLiteral(scalar.NewInt64Scalar(40)), expr.NewLiteral(scalar.NewInt64Scalar(2))}, arrow.PrimitiveTypes.Int64)
	if err != nil {
		t.Fatal(err)
	}
	gt, err := expr.NewCall(">", []expr.Expr{sum, expr.NewLiteral(scalar.NewInt64Scalar(41))}, arrow.FixedWidthTypes.Boolean)
	if err != nil {
		t.Fatal(err)
	}
	cast, err := expr.NewCast(sum, dec)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := expr.NewCase([]expr.Expr{gt}, []expr.Expr{expr.NewLiteral(scalar.NewStringScalar("yes"))}, expr.NewLiteral(scalar.NewStringScalar("no")), arrow.BinaryTypes.String)
	if err != nil {
		t.Fatal(err)
	}
	like, err := expr.NewCall("like", []expr.Expr{expr.NewLiteral(scalar.NewStringScalar("abc")), expr.NewLiteral(scalar.NewStringScalar("a%"))}, arrow.FixedWidthTypes.Boolean)
	if err != nil {
		t.Fatal(err)
	}
	v := &physical.Values{Rows: [][]expr.Expr{{sum, cast, cs, like}}, Out: arrow.NewSchema([]arrow.Field{
		{Name: "s", Type: arrow.PrimitiveTypes.Int64}, {Name: "c", Type: dec}, {Name: "k", Type: arrow.BinaryTypes.String}, {Name: "l", Type: arrow.FixedWidthTypes.Boolean},
	}, nil)}
	b, err := cluster.EncodePlan(v)
	if err != nil {
		t.Fatal(err)
	}
	p, err := cluster.DecodePlan(context.Background(), b, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"42", "42", "yes", "true"}
	for i, e := range p.(*physical.Values).Rows[0] {
		s, err := expr.EvalScalar(e)
		if err != nil {
			t.Fatalf("%s: %v", e, err)
		}
		orig, err := expr.EvalScalar(v.Rows[0][i])
		if err != nil {
			t.Fatal(err)
		}
		if !scalar.Equals(s, orig) || s.String() != want[i] || !arrow.TypeEqual(s.DataType(), orig.DataType()) {
			t.Errorf("%s = %s, want %s (%s)", e, s, orig, want[i])
		}
	}
}

// TestCodecTask: a task and its shuffle locations round-trip.
func TestCodecTask(t *testing.T) {
	in := &cluster.TaskSpec{
		QueryID: "q1-7", Stage: 3, Partition: 5, Attempt: 2, Fragment: []byte{1, 2, 3},
		Inputs: []cluster.ShuffleLocation{
			{Stage: 1, Producer: 0, Attempt: 0, NodeID: "n1", Addr: "127.0.0.1:40001"},
			{Stage: 1, Producer: 1, Attempt: 3, NodeID: "n2", Addr: "10.0.0.2:32011"},
		},
		CoordinatorNode: "n0", CoordinatorAddr: "127.0.0.1:32011", MemoryLimit: 1 << 30,
	}
	b, err := cluster.EncodeTask(in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := cluster.DecodeTask(b)
	if err != nil {
		t.Fatal(err)
	}
	if out.QueryID != in.QueryID || out.Stage != in.Stage || out.Partition != in.Partition || out.Attempt != in.Attempt ||
		string(out.Fragment) != string(in.Fragment) || len(out.Inputs) != 2 || out.Inputs[1] != in.Inputs[1] ||
		out.CoordinatorNode != in.CoordinatorNode || out.CoordinatorAddr != in.CoordinatorAddr || out.MemoryLimit != in.MemoryLimit {
		t.Fatalf("got %+v, want %+v", out, in)
	}
	if _, err := cluster.DecodeTask([]byte{0xff, 0xff}); !errors.Is(err, cluster.ErrMalformedFragment) {
		t.Fatalf("garbage task: %v", err)
	}
	if _, err := cluster.DecodeTask(nil); !errors.Is(err, cluster.ErrMalformedFragment) {
		t.Fatalf("empty task: %v", err)
	}
}

// TestCodecMalformed: bad bytes, versions, nodes and expressions are
// ErrMalformedFragment; unknown Go nodes are ErrUnsupported.
func TestCodecMalformed(t *testing.T) {
	ctx := context.Background()
	cat := openCatalog(t, sf001Dir)
	r := cluster.CatalogResolver(cat)
	good, err := cluster.EncodePlan(compile(t, cat, "SELECT n_name FROM nation WHERE n_regionkey = 1", 0).graph.Final().Root)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cluster.DecodePlan(ctx, good, r); err != nil {
		t.Fatal(err)
	}
	marshal := func(f *planpb.Fragment) []byte {
		b, err := proto.Marshal(f)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	col := &planpb.Expr{Kind: &planpb.Expr_Column{Column: &planpb.ColumnExpr{Index: 0, Type: &planpb.DataType{Id: planpb.TypeId_INT64}}}}
	values := func(e *planpb.Expr) *planpb.PlanNode {
		return &planpb.PlanNode{Node: &planpb.PlanNode_Values{Values: &planpb.ValuesNode{
			Rows: []*planpb.ValuesRow{{Values: []*planpb.Expr{e}}},
			Out:  &planpb.Schema{Fields: []*planpb.Field{{Name: "a", Type: &planpb.DataType{Id: planpb.TypeId_INT64}}}},
		}}}
	}
	cases := map[string][]byte{
		"truncated":       good[:len(good)/2],
		"garbage":         []byte("not a plan at all"),
		"empty":           nil,
		"version":         marshal(&planpb.Fragment{Version: 99, Root: values(col)}),
		"no root":         marshal(&planpb.Fragment{Version: cluster.CodecVersion}),
		"empty node":      marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: &planpb.PlanNode{}}),
		"filter no input": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: &planpb.PlanNode{Node: &planpb.PlanNode_Filter{Filter: &planpb.FilterNode{Predicate: col}}}}),
		"empty expr":      marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: values(&planpb.Expr{})}),
		"unknown func": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: values(&planpb.Expr{Kind: &planpb.Expr_Call{Call: &planpb.CallExpr{
			Name: "no_such_function", Args: []*planpb.Expr{col}, Type: &planpb.DataType{Id: planpb.TypeId_INT64}}}})}),
		"bad arity": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: values(&planpb.Expr{Kind: &planpb.Expr_Call{Call: &planpb.CallExpr{
			Name: "+", Args: []*planpb.Expr{col}, Type: &planpb.DataType{Id: planpb.TypeId_INT64}}}})}),
		"negative column": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: values(&planpb.Expr{Kind: &planpb.Expr_Column{Column: &planpb.ColumnExpr{Index: -1, Type: &planpb.DataType{Id: planpb.TypeId_INT64}}}})}),
		"no type":         marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: values(&planpb.Expr{Kind: &planpb.Expr_Column{Column: &planpb.ColumnExpr{Index: 0}}})}),
		"bad decimal": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: values(&planpb.Expr{Kind: &planpb.Expr_Literal{Literal: &planpb.Scalar{
			Type: &planpb.DataType{Id: planpb.TypeId_DECIMAL128, Precision: 60}, Value: &planpb.Scalar_DecimalValue{DecimalValue: &planpb.Decimal{Words: []uint64{1, 0}}}}}})}),
		"int8 overflow": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: values(&planpb.Expr{Kind: &planpb.Expr_Literal{Literal: &planpb.Scalar{
			Type: &planpb.DataType{Id: planpb.TypeId_INT8}, Value: &planpb.Scalar_IntValue{IntValue: 300}}}})}),
		"wrong value kind": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: values(&planpb.Expr{Kind: &planpb.Expr_Literal{Literal: &planpb.Scalar{
			Type: &planpb.DataType{Id: planpb.TypeId_STRING}, Value: &planpb.Scalar_IntValue{IntValue: 3}}}})}),
		"bad ipc": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: values(&planpb.Expr{Kind: &planpb.Expr_Literal{Literal: &planpb.Scalar{
			Type: &planpb.DataType{Id: planpb.TypeId_INTERVAL_DAY_TIME}, Value: &planpb.Scalar_IpcValue{IpcValue: []byte("xx")}}}})}),
		"row width": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: &planpb.PlanNode{Node: &planpb.PlanNode_Values{Values: &planpb.ValuesNode{
			Rows: []*planpb.ValuesRow{{Values: []*planpb.Expr{col, col}}}, Out: &planpb.Schema{}}}}}),
		"huge partitions": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: &planpb.PlanNode{Node: &planpb.PlanNode_ShuffleRead{ShuffleRead: &planpb.ShuffleReadNode{
			Stage: 1, Partitions: 1 << 30, Out: &planpb.Schema{}, Part: &planpb.Partitioning{Count: 1}}}}}),
		"unknown type id": marshal(&planpb.Fragment{Version: cluster.CodecVersion, Root: &planpb.PlanNode{Node: &planpb.PlanNode_ShuffleRead{ShuffleRead: &planpb.ShuffleReadNode{
			Stage: 1, Partitions: 1, Out: &planpb.Schema{Fields: []*planpb.Field{{Name: "x", Type: &planpb.DataType{Id: 1000}}}}, Part: &planpb.Partitioning{Count: 1}}}}}),
	}
	for name, b := range cases {
		t.Run(name, func(t *testing.T) {
			p, err := cluster.DecodePlan(ctx, b, r)
			if !errors.Is(err, cluster.ErrMalformedFragment) {
				t.Fatalf("got %v, %v; want ErrMalformedFragment", p, err)
			}
		})
	}

	// A node the codec does not know is refused when encoding.
	if _, err := cluster.EncodePlan(&unknownNode{Filter: physical.Filter{}}); !errors.Is(err, cluster.ErrUnsupported) {
		t.Fatalf("unknown node: %v", err)
	}
	bogus := &physical.Filter{Input: valuesOf(t, scalar.NewInt64Scalar(1)), Predicate: &bogusExpr{}}
	if _, err := cluster.EncodePlan(bogus); !errors.Is(err, cluster.ErrUnsupported) || !strings.Contains(err.Error(), "bogusExpr") {
		t.Fatalf("unknown expression: %v", err)
	}
}

type unknownNode struct{ physical.Filter }

type bogusExpr struct{ expr.Column }

// TestCodecTableChanged: the receiver checks the table it resolves is the
// one the plan was made with, against a real data directory whose files
// change between encoding and decoding.
func TestCodecTableChanged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "tpch"), 0o755); err != nil {
		t.Fatal(err)
	}
	cp := func(from, to string) {
		t.Helper()
		src, err := os.Open(filepath.Join(sf001Dir, "tpch", from))
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		tmp := filepath.Join(dir, "tpch", "."+to+".tmp")
		dst, err := os.Create(tmp)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.Copy(dst, src); err != nil {
			t.Fatal(err)
		}
		if err := dst.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, "tpch", to)); err != nil {
			t.Fatal(err)
		}
	}
	cp("nation.parquet", "nation.parquet")
	cp("region.parquet", "region.parquet")
	plan := func(cat *catalog.Catalog) []byte {
		c := compile(t, cat, "SELECT n_name, r_name FROM nation JOIN region ON n_regionkey = r_regionkey", 0)
		b, err := cluster.EncodePlan(c.plan)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	cat := openCatalog(t, dir)
	b := plan(cat)
	if _, err := cluster.DecodePlan(ctx, b, cluster.CatalogResolver(openCatalog(t, dir))); err != nil {
		t.Fatalf("unchanged table: %v", err)
	}

	// Another node's catalog sees region replaced by a file of other
	// columns: the projected column is gone.
	cp("nation.parquet", "region.parquet")
	_, err := cluster.DecodePlan(ctx, b, cluster.CatalogResolver(openCatalog(t, dir)))
	if !errors.Is(err, cluster.ErrTableChanged) || !strings.Contains(err.Error(), "tpch.region") {
		t.Fatalf("replaced table: %v", err)
	}

	// The table is gone.
	if err := os.Remove(filepath.Join(dir, "tpch", "region.parquet")); err != nil {
		t.Fatal(err)
	}
	_, err = cluster.DecodePlan(ctx, b, cluster.CatalogResolver(openCatalog(t, dir)))
	if !errors.Is(err, cluster.ErrTableChanged) {
		t.Fatalf("dropped table: %v", err)
	}

	// Same columns, other file: a resolver returning the table with its
	// file list changed (as after a rewrite) is refused by path and size.
	cp("region.parquet", "region.parquet")
	cat2 := openCatalog(t, dir)
	b = plan(cat2)
	mutate := func(f func(*catalog.Table)) cluster.TableResolver {
		return resolverFunc(func(ctx context.Context, schema, name string) (*catalog.Table, error) {
			tb, err := cat2.Table(ctx, schema, name)
			if err != nil || name != "region" {
				return tb, err
			}
			c := *tb
			c.Files = append([]catalog.File(nil), tb.Files...)
			f(&c)
			return &c, nil
		})
	}
	_, err = cluster.DecodePlan(ctx, b, mutate(func(tb *catalog.Table) { tb.Files[0].Size++ }))
	if !errors.Is(err, cluster.ErrTableChanged) || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("resized file: %v", err)
	}
	_, err = cluster.DecodePlan(ctx, b, mutate(func(tb *catalog.Table) { tb.Files[0].Path += ".old" }))
	if !errors.Is(err, cluster.ErrTableChanged) || !strings.Contains(err.Error(), "no longer has file") {
		t.Fatalf("renamed file: %v", err)
	}
	_, err = cluster.DecodePlan(ctx, b, mutate(func(tb *catalog.Table) {
		fs := tb.Columns.Fields()
		fs[1].Type = arrow.PrimitiveTypes.Int32
		tb.Columns = arrow.NewSchema(fs, nil)
	}))
	if !errors.Is(err, cluster.ErrTableChanged) || !strings.Contains(err.Error(), "r_name") {
		t.Fatalf("retyped column: %v", err)
	}
	_, err = cluster.DecodePlan(ctx, b, mutate(func(tb *catalog.Table) { tb.Kind = catalog.View }))
	if !errors.Is(err, cluster.ErrTableChanged) {
		t.Fatalf("table became a view: %v", err)
	}
}

type resolverFunc func(ctx context.Context, schema, name string) (*catalog.Table, error)

func (f resolverFunc) ResolveTable(ctx context.Context, schema, name string) (*catalog.Table, error) {
	return f(ctx, schema, name)
}

// FuzzDecodePlan: no input makes DecodePlan panic; what decodes prints and
// encodes again. The seeds (fragments of real stages, run by plain `go
// test`) keep the happy path in the corpus.
func FuzzDecodePlan(f *testing.F) {
	cat := openCatalog(f, sf001Dir)
	for _, sql := range []string{
		"SELECT l_returnflag, SUM(l_quantity) FROM lineitem WHERE l_shipdate <= DATE '1998-09-02' GROUP BY l_returnflag ORDER BY l_returnflag",
		"SELECT n_name, ROW_NUMBER() OVER (PARTITION BY n_regionkey ORDER BY n_name) FROM nation",
		"SELECT n_regionkey FROM nation INTERSECT SELECT r_regionkey FROM region",
		"SELECT c_name FROM customer WHERE c_custkey NOT IN (SELECT o_custkey FROM orders)",
		"SELECT CASE WHEN n_nationkey > 3 THEN CAST(n_nationkey AS DECIMAL(10,2)) END, x'00ff', TIMESTAMP '2001-02-03 04:05:06' FROM nation LIMIT 3",
		"SELECT table_name FROM information_schema.tables",
	} {
		g := compile(f, cat, sql, 0).graph
		for _, st := range g.Stages {
			b, err := cluster.EncodePlan(st.Root)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x08, 0x01, 0x12, 0x00})
	r := cluster.CatalogResolver(cat)
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := cluster.DecodePlan(context.Background(), data, r)
		if err != nil {
			return
		}
		_ = physical.Format(p)
		if _, err := cluster.EncodePlan(p); err != nil {
			t.Fatalf("a decoded plan does not encode: %v", err)
		}
	})
}
