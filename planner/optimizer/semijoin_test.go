package optimizer

import (
	"context"
	"testing"

	"github.com/quiverdb/quiver/planner/logical"
)

// TestPushDownSemiJoins: an IN subquery on a column of one join input (TPC-H
// Q18 shape) filters that input before the joins; one whose probe columns
// span both inputs, or whose input the joins shrink (TPC-H Q21 shape), stays
// above the join.
func TestPushDownSemiJoins(t *testing.T) {
	build := func(needle func(c, o, l logical.Node) logical.Expr, typ string) logical.Node {
		c, o, l, l2 := scan(customer, 1), scan(orders, 10), scan(lineitem, 20), scan(lineitem, 30)
		lo := &logical.Join{Left: l, Right: o, Type: logical.InnerJoin, Condition: cmp("=", col(l, "l_orderkey"), col(o, "o_orderkey"))}
		var cust logical.Node = c
		if typ == "filtered" {
			cust = &logical.Filter{Input: c, Predicate: cmp("=", col(c, "c_name"), lit("x"))}
		}
		j := &logical.Join{Left: lo, Right: cust, Type: logical.InnerJoin, Condition: cmp("=", col(c, "c_custkey"), col(o, "o_custkey"))}
		var pred logical.Expr = &logical.Subquery{Kind: logical.InSubquery, Type: bool_, Needles: []logical.Expr{needle(c, o, l)}, Plan: project(l2, "l_orderkey")}
		if typ == "anti" {
			pred = call("not", bool_, pred)
		}
		return project(&logical.Filter{Input: j, Predicate: pred}, "c_name", "o_orderkey", "l_quantity")
	}
	cases := []struct {
		name      string
		needle    func(c, o, l logical.Node) logical.Expr
		typ       string
		wantTable string // the table the semi/anti join probes; "" = a join
	}{
		{"in on orders", func(c, o, l logical.Node) logical.Expr { return col(o, "o_orderkey") }, "semi", "orders"},
		{"not in on customer", func(c, o, l logical.Node) logical.Expr { return col(c, "c_custkey") }, "anti", "customer"},
		{"in on two inputs", func(c, o, l logical.Node) logical.Expr {
			return call("plus", i64, col(c, "c_custkey"), col(o, "o_custkey"))
		}, "semi", ""},
		{"in on lineitem, customers filtered", func(c, o, l logical.Node) logical.Expr { return col(l, "l_orderkey") }, "filtered", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in := build(tc.needle, tc.typ)
			out, err := Optimize(context.Background(), in, Options{})
			if err != nil {
				t.Fatal(err)
			}
			if !sameSchema(in.Schema(), out.Schema()) {
				t.Fatalf("schema changed: %v → %v", in.Schema(), out.Schema())
			}
			probe := semiProbe(out)
			if probe == nil {
				t.Fatalf("no semi/anti join in\n%s", logical.Format(out))
			}
			got := ""
			if s, ok := stripProjects(probe).(*logical.Scan); ok {
				got = s.Table.Name
			}
			if got != tc.wantTable {
				t.Fatalf("semi/anti join probes %q, want %q:\n%s", got, tc.wantTable, logical.Format(out))
			}
		})
	}
}

// semiProbe returns the probe (left) input of the first semi/anti join.
func semiProbe(n logical.Node) logical.Node {
	if j, ok := n.(*logical.Join); ok && (j.Type == logical.SemiJoin || j.Type == logical.AntiJoin) {
		return j.Left
	}
	for _, c := range n.Children() {
		if p := semiProbe(c); p != nil {
			return p
		}
	}
	return nil
}

func stripProjects(n logical.Node) logical.Node {
	for {
		p, ok := n.(*logical.Project)
		if !ok {
			return n
		}
		n = p.Input
	}
}
