package physical

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/planner/logical"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var (
	i64 = arrow.PrimitiveTypes.Int64
	f64 = arrow.PrimitiveTypes.Float64
	bl  = arrow.FixedWidthTypes.Boolean
)

// requireExprs skips while the expression constructors are stubs.
func requireExprs(t *testing.T) {
	t.Helper()
	defer func() {
		if recover() != nil {
			t.Skip("execution/expr constructors not implemented yet")
		}
	}()
	expr.NewColumn(0, "x", i64)
}

// fakeTable has files × rowGroups row groups of rgRows rows each.
func fakeTable(name string, files, rowGroups int, rgRows int64, cols ...string) *catalog.Table {
	fs := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fs[i] = arrow.Field{Name: c, Type: i64, Nullable: true}
	}
	t := &catalog.Table{Schema: "tpch", Name: name, Kind: catalog.BaseTable, Format: catalog.Parquet, Columns: arrow.NewSchema(fs, nil)}
	for f := 0; f < files; f++ {
		file := catalog.File{Path: name + string(rune('a'+f)) + ".parquet", NumRows: int64(rowGroups) * rgRows}
		for r := 0; r < rowGroups; r++ {
			file.RowGroups = append(file.RowGroups, catalog.RowGroup{Index: r, NumRows: rgRows})
		}
		t.Files = append(t.Files, file)
	}
	t.Stats = catalog.Stats{RowCount: int64(files*rowGroups) * rgRows, Bytes: -1}
	return t
}

var (
	facts = fakeTable("facts", 2, 4, 1_000_000, "f_key", "f_dim", "f_val")
	dims  = fakeTable("dims", 1, 1, 100, "d_key", "d_name")
	big   = fakeTable("big", 2, 2, 1_000_000, "b_key", "b_val")
)

func lscan(t *catalog.Table, base logical.ColumnID) *logical.Scan {
	s := &logical.Scan{Table: t, Limit: -1}
	for i, f := range t.Columns.Fields() {
		s.Columns = append(s.Columns, i)
		s.Fields = append(s.Fields, logical.Field{ID: base + logical.ColumnID(i), Qualifier: t.Name, Name: f.Name, Type: f.Type, Nullable: true})
	}
	return s
}

func ref(n logical.Node, i int) *logical.ColumnRef {
	f := n.Schema().Fields[i]
	return &logical.ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type}
}

func eqc(a, b logical.Expr) logical.Expr {
	return &logical.Call{Func: "=", Args: []logical.Expr{a, b}, Type: bl}
}

func sumAgg(in logical.Node, key, val int) *logical.Aggregate {
	a := &logical.Aggregate{Input: in, Aggs: []*logical.AggregateCall{{Func: "sum", Args: []logical.Expr{ref(in, val)}, Type: f64}},
		AggFields: []logical.Field{{ID: 900, Name: "s", Type: f64, Nullable: true}}}
	if key >= 0 {
		a.GroupBy = []logical.Expr{ref(in, key)}
		a.GroupFields = []logical.Field{in.Schema().Fields[key]}
	}
	return a
}

func TestSplitsBalanced(t *testing.T) {
	tests := []struct {
		target, wantParts int
	}{{1, 1}, {3, 3}, {8, 8}, {20, 8}}
	for _, tc := range tests {
		sp := Splits(facts, tc.target)
		if len(sp) != tc.wantParts {
			t.Fatalf("target %d: %d partitions, want %d", tc.target, len(sp), tc.wantParts)
		}
		total, minRG, maxRG := 0, 1<<30, 0
		for _, part := range sp {
			n := 0
			for _, s := range part {
				n += len(s.RowGroups)
			}
			total += n
			minRG, maxRG = min(minRG, n), max(maxRG, n)
		}
		if total != 8 || maxRG-minRG > 1 {
			t.Fatalf("target %d: %d row groups, spread %d..%d", tc.target, total, minRG, maxRG)
		}
	}
	if sp := Splits(fakeTable("empty", 0, 0, 0, "x"), 4); len(sp) != 1 || len(sp[0]) != 0 {
		t.Fatalf("empty table: %v", sp)
	}
}

func TestBuildGolden(t *testing.T) {
	requireExprs(t)
	cases := map[string]func() logical.Node{
		"broadcast_join": func() logical.Node {
			f, d := lscan(facts, 1), lscan(dims, 10)
			return &logical.Join{Left: f, Right: d, Type: logical.InnerJoin, Condition: eqc(ref(f, 1), ref(d, 0))}
		},
		"partitioned_join": func() logical.Node {
			f, b := lscan(facts, 1), lscan(big, 10)
			return &logical.Join{Left: f, Right: b, Type: logical.InnerJoin, Condition: eqc(ref(f, 0), ref(b, 0))}
		},
		"swap_small_left": func() logical.Node {
			f, d := lscan(facts, 1), lscan(dims, 10)
			return &logical.Join{Left: d, Right: f, Type: logical.InnerJoin, Condition: eqc(ref(d, 0), ref(f, 1))}
		},
		"group_by":   func() logical.Node { return sumAgg(lscan(facts, 1), 1, 2) },
		"global_agg": func() logical.Node { return sumAgg(lscan(facts, 1), -1, 2) },
		"top_n": func() logical.Node {
			f := lscan(facts, 1)
			return &logical.Limit{Input: &logical.Sort{Input: f, Keys: []logical.SortExpr{{Expr: ref(f, 2), Desc: true}}}, Offset: 5, Count: 10}
		},
		"limit": func() logical.Node { return &logical.Limit{Input: lscan(facts, 1), Count: 10} },
		"nested_loop": func() logical.Node {
			f, d := lscan(facts, 1), lscan(dims, 10)
			return &logical.Join{Left: f, Right: d, Type: logical.InnerJoin, Condition: &logical.Call{Func: "<", Args: []logical.Expr{ref(f, 1), ref(d, 0)}, Type: bl}}
		},
		"union_distinct": func() logical.Node {
			f, d := lscan(facts, 1), lscan(dims, 10)
			fp := &logical.Project{Input: f, Exprs: []logical.Expr{ref(f, 0)}, Fields: f.Fields[:1]}
			dp := &logical.Project{Input: d, Exprs: []logical.Expr{ref(d, 0)}, Fields: d.Fields[:1]}
			return &logical.SetOp{Kind: logical.Union, Inputs: []logical.Node{fp, dp}, Fields: []logical.Field{{ID: 800, Name: "k", Type: i64, Nullable: true}}}
		},
		// EXCEPT ALL: anti join on the column (<=>) and the occurrence number.
		"except_all": func() logical.Node {
			f, d := lscan(facts, 1), lscan(dims, 10)
			fp := &logical.Project{Input: f, Exprs: []logical.Expr{ref(f, 0)}, Fields: f.Fields[:1]}
			dp := &logical.Project{Input: d, Exprs: []logical.Expr{ref(d, 0)}, Fields: d.Fields[:1]}
			return &logical.SetOp{Kind: logical.Except, All: true, Inputs: []logical.Node{fp, dp}, Fields: []logical.Field{{ID: 800, Name: "k", Type: i64, Nullable: true}}}
		},
		"values": func() logical.Node {
			return &logical.Values{Fields: []logical.Field{{ID: 1, Name: "x", Type: i64}},
				Rows: [][]logical.Expr{{&logical.Literal{Value: scalar.NewInt64Scalar(1)}}}}
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			n := mk()
			p, err := Build(context.Background(), n, Options{TargetPartitions: 4})
			if err != nil {
				t.Fatal(err)
			}
			if got, want := p.Schema().NumFields(), n.Schema().Len(); got != want {
				t.Fatalf("physical plan has %d columns, logical %d", got, want)
			}
			checkGolden(t, name, Format(p))
		})
	}
}

func TestBuildErrors(t *testing.T) {
	requireExprs(t)
	f := lscan(facts, 1)
	bad := &logical.Filter{Input: f, Predicate: &logical.Param{Index: 0, Type: bl}}
	if _, err := Build(context.Background(), bad, Options{}); err == nil || !strings.Contains(err.Error(), "unbound parameter") {
		t.Fatalf("want unbound parameter error, got %v", err)
	}
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if strings.TrimSpace(string(want)) != strings.TrimSpace(got) {
		t.Fatalf("plan differs from %s:\n--- got\n%s--- want\n%s", path, got, want)
	}
}
