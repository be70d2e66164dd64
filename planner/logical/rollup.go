package logical

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/qerr"
)

// GROUP BY g1, ..., gn WITH ROLLUP is planned with existing nodes: every
// input row is repeated once per level (a cross join with VALUES 0..n, the
// level being how many keys are kept), key i becomes
// CASE WHEN level >= i THEN gi END, and one aggregate groups by the keys and
// the level. Level n rows are the plain groups, lower levels the
// super-aggregates with NULL in the rolled-up keys; GROUPING(gi) reads the
// level. The group outputs get fresh IDs, so nothing above mistakes a
// rolled-up NULL for the input column (a HAVING on a key is not pushed below
// the rollup).

// rollupLevel creates the level column of a WITH ROLLUP grouping.
func (b *Binder) rollupLevel() *Field {
	return &Field{ID: b.NewID(), Name: "rollup_level", Type: arrow.PrimitiveTypes.Int64}
}

// rollup rewrites agg (GroupFields already bound, with fresh IDs) into the
// rollup plan and returns the sort keys of MySQL's output order: by each key
// with its super-aggregate row after its groups.
func (b *Binder) rollup(agg *Aggregate, level *Field) ([]SortExpr, error) {
	n := len(agg.GroupBy)
	lvl := &ColumnRef{ID: level.ID, Name: level.Name, Type: level.Type}
	vals := &Values{Fields: []Field{*level}}
	for i := 0; i <= n; i++ {
		vals.Rows = append(vals.Rows, []Expr{&Literal{Value: scalar.NewInt64Scalar(int64(i))}})
	}
	in := &Join{Left: agg.Input, Right: vals, Type: CrossJoin}
	proj := &Project{Input: in}
	for _, f := range in.Schema().Fields {
		proj.Exprs = append(proj.Exprs, &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable})
		proj.Fields = append(proj.Fields, f)
	}
	keys := make([]Expr, 0, n+1)
	var order []SortExpr
	for i, g := range agg.GroupBy {
		kept, err := b.call(">=", []Expr{lvl, &Literal{Value: scalar.NewInt64Scalar(int64(i + 1))}})
		if err != nil {
			return nil, err
		}
		f := Field{ID: b.NewID(), Name: agg.GroupFields[i].Name, Type: Type(g), Nullable: true}
		proj.Exprs = append(proj.Exprs, &Case{Whens: []Expr{kept}, Thens: []Expr{g}, Type: f.Type})
		proj.Fields = append(proj.Fields, f)
		keys = append(keys, &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: true})
		out := agg.GroupFields[i]
		rolled, err := b.call("not", []Expr{kept})
		if err != nil {
			return nil, err
		}
		order = append(order,
			SortExpr{Expr: rolled},
			SortExpr{Expr: &ColumnRef{ID: out.ID, Name: out.Name, Type: out.Type, Nullable: true}, NullsFirst: true})
	}
	agg.Input = proj
	agg.GroupBy = append(keys, lvl)
	agg.GroupFields = append(agg.GroupFields, *level)
	return order, nil
}

// bindGrouping binds GROUPING(g, ...): bit j (from the right) is 1 when the
// j-th argument from the right is rolled up in the row (MySQL).
func (b *Binder) bindGrouping(args []ast.ExprNode, ctx *exprCtx) (Expr, error) {
	if ctx.agg == nil || ctx.agg.rollup == nil {
		return nil, qerr.New(qerr.InvalidArgument, "Invalid use of GROUPING function: it needs GROUP BY ... WITH ROLLUP")
	}
	if len(args) == 0 {
		return nil, errParamCount("grouping")
	}
	level := ctx.agg.rollup
	lvl := &ColumnRef{ID: level.ID, Name: level.Name, Type: level.Type}
	var out Expr
	for j, a := range args {
		e, err := b.bindExpr(a, &exprCtx{scope: ctx.scope, clause: ctx.clause})
		if err != nil {
			return nil, err
		}
		i, ok := ctx.agg.groupIdx(e)
		if !ok {
			return nil, qerr.New(qerr.InvalidArgument, "Argument #%d of GROUPING function is not in GROUP BY", j+1)
		}
		rolled, err := b.call("<", []Expr{lvl, &Literal{Value: scalar.NewInt64Scalar(int64(i + 1))}})
		if err != nil {
			return nil, err
		}
		bit := &Case{Whens: []Expr{rolled}, Thens: []Expr{&Literal{Value: scalar.NewInt64Scalar(1 << (len(args) - 1 - j))}},
			Else: &Literal{Value: scalar.NewInt64Scalar(0)}, Type: arrow.PrimitiveTypes.Int64}
		if out == nil {
			out = bit
		} else if out, err = b.call("+", []Expr{out, bit}); err != nil {
			return nil, err
		}
	}
	return out, nil
}
