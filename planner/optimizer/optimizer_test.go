package optimizer

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
	"github.com/quiverdb/quiver/planner/logical"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

var (
	i64   = arrow.PrimitiveTypes.Int64
	str   = arrow.BinaryTypes.String
	f64   = arrow.PrimitiveTypes.Float64
	bool_ = arrow.FixedWidthTypes.Boolean
)

func table(name string, rows int64, cols ...arrow.Field) *catalog.Table {
	return &catalog.Table{Schema: "tpch", Name: name, Kind: catalog.BaseTable, Format: catalog.Parquet,
		Columns: arrow.NewSchema(cols, nil), Stats: catalog.Stats{RowCount: rows, Bytes: -1}}
}

var (
	lineitem = table("lineitem", 6_000_000, arrow.Field{Name: "l_orderkey", Type: i64}, arrow.Field{Name: "l_suppkey", Type: i64}, arrow.Field{Name: "l_quantity", Type: f64})
	orders   = table("orders", 1_500_000, arrow.Field{Name: "o_orderkey", Type: i64}, arrow.Field{Name: "o_custkey", Type: i64}, arrow.Field{Name: "o_status", Type: str})
	customer = table("customer", 150_000, arrow.Field{Name: "c_custkey", Type: i64}, arrow.Field{Name: "c_name", Type: str}, arrow.Field{Name: "c_nationkey", Type: i64})
	nation   = table("nation", 25, arrow.Field{Name: "n_nationkey", Type: i64}, arrow.Field{Name: "n_name", Type: str})
)

// scan builds a scan of all of t's columns with IDs base, base+1, ...
func scan(t *catalog.Table, base logical.ColumnID) *logical.Scan {
	s := &logical.Scan{Table: t, Alias: t.Name, Limit: -1}
	for i, f := range t.Columns.Fields() {
		s.Columns = append(s.Columns, i)
		s.Fields = append(s.Fields, logical.Field{ID: base + logical.ColumnID(i), Qualifier: t.Name, Name: f.Name, Type: f.Type, Nullable: true})
	}
	return s
}

func col(n logical.Node, name string) *logical.ColumnRef {
	for _, f := range n.Schema().Fields {
		if f.Name == name {
			return colRef(f)
		}
	}
	panic("no column " + name)
}

func call(fn string, t arrow.DataType, args ...logical.Expr) *logical.Call {
	return &logical.Call{Func: fn, Args: args, Type: t}
}

func cmp(fn string, a, b logical.Expr) *logical.Call { return call(fn, bool_, a, b) }
func and(a, b logical.Expr) *logical.Call            { return call("and", bool_, a, b) }
func or(a, b logical.Expr) *logical.Call             { return call("or", bool_, a, b) }
func lit(v any) *logical.Literal                     { return &logical.Literal{Value: scalar.MakeScalar(v)} }
func nullB() *logical.Literal                        { return &logical.Literal{Value: scalar.MakeNullScalar(bool_)} }

func project(in logical.Node, names ...string) *logical.Project {
	p := &logical.Project{Input: in}
	for _, n := range names {
		c := col(in, n)
		f, _ := in.Schema().Field(c.ID)
		p.Exprs = append(p.Exprs, c)
		p.Fields = append(p.Fields, f)
	}
	return p
}

func cross(l, r logical.Node) *logical.Join {
	return &logical.Join{Left: l, Right: r, Type: logical.CrossJoin}
}

func TestSimplifyAndOr(t *testing.T) {
	x := &logical.ColumnRef{ID: 1, Name: "x", Type: bool_}
	tests := []struct {
		name string
		in   logical.Expr
		want string
	}{
		{"and false", and(x, lit(false)), "false"},
		{"false and null", and(nullB(), lit(false)), "false"},
		{"and true", and(lit(true), x), "x#1"},
		{"or true", or(x, lit(true)), "true"},
		{"or false", or(lit(false), x), "x#1"},
		{"and null keeps null", and(x, nullB()), "(x#1 and NULL)"},
		{"not not", call("not", bool_, call("not", bool_, x)), "x#1"},
		{"nested", or(and(x, lit(false)), x), "x#1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := foldExpr(tc.in).String(); got != tc.want {
				t.Fatalf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestNullRejects(t *testing.T) {
	side := idSet{5: true}
	c := &logical.ColumnRef{ID: 5, Name: "c", Type: i64}
	o := &logical.ColumnRef{ID: 1, Name: "o", Type: i64}
	tests := []struct {
		name string
		e    logical.Expr
		want bool
	}{
		{"compare", cmp(">", c, lit(int64(3))), true},
		{"other side", cmp(">", o, lit(int64(3))), false},
		{"arith", cmp("=", call("+", i64, c, lit(int64(1))), o), true},
		{"or both", or(cmp("=", c, o), cmp("<", c, lit(int64(0)))), true},
		{"or one", or(cmp("=", c, o), cmp("<", o, lit(int64(0)))), false},
		{"coalesce", cmp("=", call("coalesce", i64, c, lit(int64(0))), o), false},
		{"is null", call("isnull", bool_, c), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := nullRejects(tc.e, side); got != tc.want {
				t.Fatalf("nullRejects(%s) = %v", tc.e, got)
			}
		})
	}
}

// Golden plans: each case's optimized plan is compared to testdata/<name>.golden.
func TestOptimizeGolden(t *testing.T) {
	cases := map[string]func() logical.Node{
		// Comma joins with WHERE equalities become inner joins, filters
		// reach the scans, and the fact table leads the join order.
		"comma_joins": func() logical.Node {
			n, c, o, l := scan(nation, 1), scan(customer, 10), scan(orders, 20), scan(lineitem, 30)
			j := cross(cross(cross(n, c), o), l)
			where := and(and(cmp("=", col(c, "c_custkey"), col(o, "o_custkey")), cmp("=", col(l, "l_orderkey"), col(o, "o_orderkey"))),
				and(cmp("=", col(c, "c_nationkey"), col(n, "n_nationkey")), cmp("=", col(n, "n_name"), lit("FRANCE"))))
			return project(&logical.Filter{Input: j, Predicate: where}, "c_name", "l_quantity")
		},
		// WHERE on the inner side of a LEFT JOIN makes it an inner join.
		"outer_to_inner": func() logical.Node {
			c, o := scan(customer, 10), scan(orders, 20)
			j := &logical.Join{Left: c, Right: o, Type: logical.LeftJoin, Condition: cmp("=", col(c, "c_custkey"), col(o, "o_custkey"))}
			return project(&logical.Filter{Input: j, Predicate: cmp("=", col(o, "o_status"), lit("F"))}, "c_name")
		},
		// LEFT JOIN: ON conditions on the right go right, WHERE on the left goes left.
		"left_join_pushdown": func() logical.Node {
			c, o := scan(customer, 10), scan(orders, 20)
			on := and(cmp("=", col(c, "c_custkey"), col(o, "o_custkey")), cmp("<>", col(o, "o_status"), lit("F")))
			j := &logical.Join{Left: c, Right: o, Type: logical.LeftJoin, Condition: on}
			return project(&logical.Filter{Input: j, Predicate: cmp(">", col(c, "c_nationkey"), lit(int64(3)))}, "c_name", "o_status")
		},
		// EXISTS / NOT EXISTS (TPC-H Q21 shape) → semi / anti join with a residual.
		"exists_semi_anti": func() logical.Node {
			l1, l2, l3 := scan(lineitem, 1), scan(lineitem, 10), scan(lineitem, 20)
			ex := &logical.Subquery{Kind: logical.ExistsSubquery, Type: bool_, Plan: &logical.Filter{Input: l2,
				Predicate: and(cmp("=", col(l2, "l_orderkey"), col(l1, "l_orderkey")), cmp("<>", col(l2, "l_suppkey"), col(l1, "l_suppkey")))}}
			nex := &logical.Subquery{Kind: logical.ExistsSubquery, Type: bool_, Plan: &logical.Filter{Input: l3,
				Predicate: and(cmp("=", col(l3, "l_orderkey"), col(l1, "l_orderkey")), cmp(">", col(l3, "l_quantity"), lit(1.5)))}}
			return project(&logical.Filter{Input: l1, Predicate: and(ex, call("not", bool_, nex))}, "l_orderkey")
		},
		// NOT IN → null-aware anti join; IN inside OR → mark join.
		"in_subqueries": func() logical.Node {
			o, c, n := scan(orders, 1), scan(customer, 10), scan(nation, 20)
			notIn := call("not", bool_, &logical.Subquery{Kind: logical.InSubquery, Type: bool_, Needles: []logical.Expr{col(o, "o_custkey")}, Plan: project(c, "c_custkey")})
			inOr := or(cmp("=", col(o, "o_status"), lit("F")), &logical.Subquery{Kind: logical.InSubquery, Type: bool_, Needles: []logical.Expr{col(o, "o_custkey")}, Plan: project(n, "n_nationkey")})
			return project(&logical.Filter{Input: o, Predicate: and(notIn, inOr)}, "o_orderkey")
		},
		// Correlated scalar aggregate (TPC-H Q17 shape) → grouped aggregate + left join;
		// COUNT gets coalesced to 0.
		"correlated_scalar": func() logical.Node {
			o, l := scan(orders, 1), scan(lineitem, 10)
			agg := &logical.Aggregate{Input: &logical.Filter{Input: l, Predicate: cmp("=", col(l, "l_orderkey"), col(o, "o_orderkey"))},
				Aggs:      []*logical.AggregateCall{{Func: "count_star", Type: i64}},
				AggFields: []logical.Field{{ID: 50, Name: "count(*)", Type: i64}}}
			sq := &logical.Subquery{Kind: logical.ScalarSubquery, Type: i64, Plan: agg}
			return project(&logical.Filter{Input: o, Predicate: cmp(">", sq, lit(int64(2)))}, "o_orderkey")
		},
		// Correlated scalar subquery without an aggregate → left-single
		// join on the correlation (errors when a row matches twice).
		"correlated_scalar_single": func() logical.Node {
			o, l := scan(orders, 1), scan(lineitem, 10)
			sq := &logical.Subquery{Kind: logical.ScalarSubquery, Type: f64,
				Plan: project(&logical.Filter{Input: l, Predicate: cmp("=", col(l, "l_orderkey"), col(o, "o_orderkey"))}, "l_quantity")}
			return project(&logical.Filter{Input: o, Predicate: cmp(">", sq, lit(1.0))}, "o_orderkey")
		},
		// Non-equality correlation → the distinct outer keys (fresh IDs)
		// joined with the subquery input, grouped, left-joined back with <=>.
		"correlated_scalar_nonequi": func() logical.Node {
			o, l := scan(orders, 1), scan(lineitem, 10)
			agg := &logical.Aggregate{Input: &logical.Filter{Input: l, Predicate: cmp(">", col(l, "l_orderkey"), col(o, "o_orderkey"))},
				Aggs:      []*logical.AggregateCall{{Func: "count_star", Type: i64}},
				AggFields: []logical.Field{{ID: 50, Name: "count(*)", Type: i64}}}
			sq := &logical.Subquery{Kind: logical.ScalarSubquery, Type: i64, Plan: agg}
			return project(&logical.Filter{Input: o, Predicate: cmp(">", sq, lit(int64(2)))}, "o_orderkey")
		},
		// Uncorrelated scalar subquery → left-single join.
		"uncorrelated_scalar": func() logical.Node {
			c, c2 := scan(customer, 1), scan(customer, 10)
			agg := &logical.Aggregate{Input: c2, Aggs: []*logical.AggregateCall{{Func: "max", Args: []logical.Expr{col(c2, "c_nationkey")}, Type: i64}},
				AggFields: []logical.Field{{ID: 50, Name: "m", Type: i64, Nullable: true}}}
			sq := &logical.Subquery{Kind: logical.ScalarSubquery, Type: i64, Plan: agg}
			return project(&logical.Filter{Input: c, Predicate: cmp("=", col(c, "c_nationkey"), sq)}, "c_name")
		},
		// Filters on group keys go below the aggregate; others stay above.
		"aggregate_pushdown": func() logical.Node {
			l := scan(lineitem, 1)
			a := &logical.Aggregate{Input: l, GroupBy: []logical.Expr{col(l, "l_orderkey")}, GroupFields: []logical.Field{l.Fields[0]},
				Aggs:      []*logical.AggregateCall{{Func: "sum", Args: []logical.Expr{col(l, "l_quantity")}, Type: f64}},
				AggFields: []logical.Field{{ID: 50, Name: "s", Type: f64, Nullable: true}}}
			pred := and(cmp(">", col(a, "l_orderkey"), lit(int64(10))), cmp(">", col(a, "s"), lit(300.0)))
			return &logical.Filter{Input: a, Predicate: pred}
		},
		// Limit moves below the projection and into the unfiltered scan.
		"limit_pushdown": func() logical.Node {
			return &logical.Limit{Input: project(scan(customer, 1), "c_name"), Count: 10}
		},
		// Filter false empties the input.
		"filter_false": func() logical.Node {
			c := scan(customer, 1)
			return project(&logical.Filter{Input: c, Predicate: and(cmp(">", col(c, "c_custkey"), lit(int64(1))), lit(false))}, "c_name")
		},
	}
	for name, mk := range cases {
		t.Run(name, func(t *testing.T) {
			in := mk()
			out, err := Optimize(context.Background(), in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !sameSchema(in.Schema(), out.Schema()) {
				t.Fatalf("schema changed: %v → %v", in.Schema(), out.Schema())
			}
			got := logical.Format(out)
			checkGolden(t, name, got)
		})
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

func TestDisableRule(t *testing.T) {
	c := scan(customer, 1)
	in := project(&logical.Filter{Input: c, Predicate: cmp(">", col(c, "c_custkey"), lit(int64(1)))}, "c_name")
	out, err := Optimize(context.Background(), in, Options{Disable: map[string]bool{"push_down_predicates": true}})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logical.Format(out), "Filter") {
		t.Fatalf("filter was pushed although the rule is disabled:\n%s", logical.Format(out))
	}
}

func TestUnsupportedCorrelation(t *testing.T) {
	o, l := scan(orders, 1), scan(lineitem, 10)
	// Correlation below a grouped aggregate cannot be pulled up.
	agg := &logical.Aggregate{Input: &logical.Filter{Input: l, Predicate: cmp("=", col(l, "l_orderkey"), col(o, "o_orderkey"))},
		GroupBy: []logical.Expr{col(l, "l_quantity")}, GroupFields: []logical.Field{{ID: 49, Name: "l_quantity", Type: f64}},
		Aggs:      []*logical.AggregateCall{{Func: "count_star", Type: i64}},
		AggFields: []logical.Field{{ID: 50, Name: "count(*)", Type: i64}}}
	sq := &logical.Subquery{Kind: logical.ScalarSubquery, Type: i64, Plan: agg}
	in := project(&logical.Filter{Input: o, Predicate: cmp(">", sq, lit(int64(1)))}, "o_orderkey")
	_, err := Optimize(context.Background(), in, Options{})
	if err == nil || !strings.Contains(err.Error(), "not supported") {
		t.Fatalf("want unsupported error, got %v", err)
	}
}
