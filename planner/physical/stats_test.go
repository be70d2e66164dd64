package physical

import (
	"context"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/planner/logical"
)

// A semi join against a filtered aggregate (IN (SELECT k … GROUP BY k
// HAVING …), TPC-H q18) keeps only the left rows whose key survives, so a
// later join with a big table broadcasts it instead of shuffling the table.
func TestSemiJoinEstimateShrinks(t *testing.T) {
	requireExprs(t)
	f := lscan(facts, 1)
	agg := sumAgg(lscan(big, 10), 0, 1)
	having := &logical.Filter{Input: agg, Predicate: &logical.Call{Func: ">",
		Args: []logical.Expr{ref(agg, 1), &logical.Literal{Value: scalar.NewFloat64Scalar(300)}}, Type: bl}}
	semi := &logical.Join{Left: f, Right: having, Type: logical.SemiJoin, Condition: eqc(ref(f, 0), ref(having, 0))}
	anti := &logical.Join{Left: f, Right: having, Type: logical.AntiJoin, Condition: eqc(ref(f, 0), ref(having, 0))}
	full := &logical.Join{Left: f, Right: agg, Type: logical.SemiJoin, Condition: eqc(ref(f, 0), ref(agg, 0))}
	l := EstimateRows(f)
	if s, a, u := EstimateRows(semi), EstimateRows(anti), EstimateRows(full); !(s < u && u <= l && a == l) {
		t.Fatalf("estimates: semi %v, semi unfiltered %v, anti %v, left %v", s, u, a, l)
	}
	b := lscan(big, 20)
	join := &logical.Join{Left: b, Right: semi, Type: logical.InnerJoin, Condition: eqc(ref(b, 0), ref(semi, 0))}
	p, err := Build(context.Background(), join, Options{TargetPartitions: 4})
	if err != nil {
		t.Fatal(err)
	}
	if plan := Format(p); !strings.HasPrefix(plan, "HashJoin Inner broadcast") {
		t.Fatalf("join with the semi join's survivors is not broadcast:\n%s", plan)
	}
}
