package physical

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution/ops"
	"github.com/quiverdb/quiver/planner/logical"
)

func (b *builder) buildProject(n *logical.Project) (Plan, error) {
	in, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	inSchema := n.Input.Schema()
	if _, ok := n.Input.(*logical.Join); ok {
		if need, ok := columnRefs(n.Exprs); ok {
			in, inSchema = narrowJoin(in, inSchema, need)
		}
	}
	es, err := ToExprs(n.Exprs, inSchema)
	if err != nil {
		return nil, err
	}
	return &Project{Input: in, Exprs: es, Out: n.Schema().ToArrow()}, nil
}

// columnRefs collects the columns es read; ok is false when they hold a
// subquery (whose outer references are not plain columns here).
func columnRefs(es []logical.Expr) (map[logical.ColumnID]bool, bool) {
	need := map[logical.ColumnID]bool{}
	ok := true
	var walk func(logical.Expr)
	walk = func(e logical.Expr) {
		switch e := e.(type) {
		case *logical.ColumnRef:
			need[e.ID] = true
		case *logical.Subquery:
			ok = false
		}
		for _, c := range e.Children() {
			walk(c)
		}
	}
	for _, e := range es {
		walk(e)
	}
	return need, ok
}

// narrowJoin folds a projection into the hash join p (planned from a join
// whose output is want): the join outputs only the needed columns, so the
// others are never gathered per matched pair. It returns the new plan and
// its logical schema; anything else is returned unchanged.
func narrowJoin(p Plan, want *logical.Schema, need map[logical.ColumnID]bool) (Plan, *logical.Schema) {
	have := want
	hj, ok := p.(*HashJoin)
	if r, isProj := p.(*Project); isProj {
		// The join swapped its inputs and a Project restores the column
		// order: recover the join's own order from it (it picks every column).
		if hj, ok = r.Input.(*HashJoin); !ok || len(r.Exprs) != len(want.Fields) || hj.Out.NumFields() != len(want.Fields) {
			return p, want
		}
		fs := make([]logical.Field, len(want.Fields))
		seen := make([]bool, len(fs))
		for k, e := range r.Exprs {
			i, isCol := columnIndex(e)
			if !isCol || i >= len(fs) || seen[i] {
				return p, want
			}
			fs[i], seen[i] = want.Fields[k], true
		}
		have = logical.NewSchema(fs...)
	}
	if !ok || hj.Proj != nil || hj.Out.NumFields() != len(have.Fields) {
		return p, want
	}
	switch hj.Type {
	case ops.SemiJoin, ops.AntiJoin, ops.MarkJoin:
		return p, want
	}
	var proj []int
	var fs []logical.Field
	var afs []arrow.Field
	for i, f := range have.Fields {
		if need[f.ID] {
			proj = append(proj, i)
			fs = append(fs, f)
			afs = append(afs, hj.Out.Field(i))
		}
	}
	if len(proj) == len(have.Fields) {
		return p, want
	}
	if len(proj) == 0 {
		// Row counts still need a column.
		proj, fs, afs = []int{0}, have.Fields[:1], []arrow.Field{hj.Out.Field(0)}
	}
	c := *hj
	c.Proj, c.Out = proj, arrow.NewSchema(afs, nil)
	return &c, logical.NewSchema(fs...)
}
