package logical

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/qerr"
)

// Assignment is one `col = expr` of an UPDATE (Expr nil = DEFAULT).
type Assignment struct {
	Column int // index into the table's columns
	Expr   ast.ExprNode
}

// BindRewrite binds what a single-table UPDATE or DELETE reads. The plan
// yields every table column (the old values), then one column per
// assignment (its new value where the row is hit, NULL elsewhere), then a
// boolean "hit" column: WHERE is true and the row is within ORDER BY ...
// LIMIT. It returns the table snapshot the plan reads.
//
// Assignments see the values assigned to columns before them, as MySQL's
// single-table UPDATE evaluates SET left to right.
func (b *Binder) BindRewrite(ts *ast.TableSource, where ast.ExprNode, order *ast.OrderByClause, limit *ast.Limit, set []Assignment, stmt string) (Node, *catalog.Table, error) {
	node, cols, err := b.bindTableSource(ts, nil, nil)
	if err != nil {
		return nil, nil, err
	}
	scan, ok := node.(*Scan)
	if !ok {
		return nil, nil, qerr.New(qerr.InvalidArgument, "The target table %s of the %s is not updatable", ts.AsName.O, stmt)
	}
	sc := &scope{cols: cols}
	var hit Expr = &Literal{Value: scalar.NewBooleanScalar(true)}
	if where != nil {
		if hit, err = b.bindExpr(&ast.IsTruthExpr{Expr: where, True: 1}, &exprCtx{scope: sc, clause: "where clause"}); err != nil {
			return nil, nil, err
		}
	}
	if limit != nil {
		n, ok := ordinal(limit.Count)
		if !ok || n < 0 || limit.Offset != nil {
			return nil, nil, qerr.New(qerr.InvalidArgument, "Incorrect arguments to LIMIT")
		}
		// The first n hit rows in ORDER BY order: ROW_NUMBER over the rows
		// partitioned by whether WHERE holds.
		win := &winState{named: map[string]*ast.WindowSpec{}}
		spec := ast.WindowSpec{OrderBy: order}
		if where != nil {
			spec.PartitionBy = &ast.PartitionByClause{Items: []*ast.ByItem{{Expr: &ast.IsTruthExpr{Expr: where, True: 1}}}}
		}
		rn, err := b.bindExpr(&ast.WindowFuncExpr{Name: "row_number", Spec: spec}, &exprCtx{scope: sc, clause: "order clause", win: win})
		if err != nil {
			return nil, nil, err
		}
		node = &Window{Input: node, Funcs: win.calls, Fields: win.fields}
		within, err := b.call("<=", []Expr{rn, &Literal{Value: scalar.NewInt64Scalar(int64(n))}})
		if err != nil {
			return nil, nil, err
		}
		if hit, err = b.call("and", []Expr{hit, within}); err != nil {
			return nil, nil, err
		}
	}
	p := &Project{Input: node}
	for _, c := range cols {
		f := c.Field
		p.Exprs = append(p.Exprs, &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable})
		p.Fields = append(p.Fields, f)
	}
	// assigned: column ID → its new value (in the column's type) so far.
	assigned := map[ColumnID]Expr{}
	ctx := &exprCtx{scope: sc, clause: "field list"}
	for _, a := range set {
		col := cols[a.Column].Field
		var e Expr
		if a.Expr == nil {
			e = nullLiteral(col.Type)
		} else {
			if e, err = b.bindExpr(a.Expr, ctx); err != nil {
				return nil, nil, err
			}
			e = replaceRefs(e, assigned)
		}
		assigned[col.ID] = castTo(e, col.Type)
		t := Type(e)
		if t.ID() == arrow.NULL {
			t, e = col.Type, nullLiteral(col.Type)
		}
		p.Exprs = append(p.Exprs, &Case{Whens: []Expr{hit}, Thens: []Expr{e}, Type: t})
		p.Fields = append(p.Fields, Field{ID: b.NewID(), Name: col.Name, Type: t, Nullable: true})
	}
	p.Exprs = append(p.Exprs, hit)
	p.Fields = append(p.Fields, Field{ID: b.NewID(), Name: "__hit", Type: arrow.FixedWidthTypes.Boolean})
	return p, scan.Table, nil
}

// replaceRefs substitutes column references by the expressions in m.
func replaceRefs(e Expr, m map[ColumnID]Expr) Expr {
	if r, ok := e.(*ColumnRef); ok {
		if x, ok := m[r.ID]; ok {
			return x
		}
		return e
	}
	ch := e.Children()
	if len(ch) == 0 || len(m) == 0 {
		return e
	}
	out := make([]Expr, len(ch))
	for i, c := range ch {
		out[i] = replaceRefs(c, m)
	}
	if n, err := e.WithChildren(out...); err == nil {
		return n
	}
	return e
}
