package physical

import (
	"fmt"

	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/qerr"
)

// ToExpr translates a bound logical expression over schema s into a physical
// expression: each ColumnRef becomes a Column reading its position in s.
// Leftover Params and Subqueries are planner bugs (binding and decorrelation
// remove them) and return an Internal error.
func ToExpr(e logical.Expr, s *logical.Schema) (expr.Expr, error) {
	switch e := e.(type) {
	case *logical.ColumnRef:
		i := -1
		if s != nil {
			i = s.IndexOf(e.ID)
		}
		if i < 0 {
			return nil, qerr.New(qerr.Internal, "internal: column %s not found in input %v", e, s)
		}
		return expr.NewColumn(i, e.Name, e.Type), nil
	case *logical.Literal:
		return expr.NewLiteral(e.Value), nil
	case *logical.Param:
		return nil, qerr.New(qerr.Internal, "internal: unbound parameter %s", e)
	case *logical.Subquery:
		return nil, qerr.New(qerr.Internal, "internal: unbound subquery %s", e)
	case *logical.Call:
		args, err := ToExprs(e.Args, s)
		if err != nil {
			return nil, err
		}
		return expr.NewCall(e.Func, args, e.Type)
	case *logical.Cast:
		in, err := ToExpr(e.Expr, s)
		if err != nil {
			return nil, err
		}
		return expr.NewCast(in, e.Type)
	case *logical.Case:
		whens, err := ToExprs(e.Whens, s)
		if err != nil {
			return nil, err
		}
		thens, err := ToExprs(e.Thens, s)
		if err != nil {
			return nil, err
		}
		var els expr.Expr
		if e.Else != nil {
			if els, err = ToExpr(e.Else, s); err != nil {
				return nil, err
			}
		}
		return expr.NewCase(whens, thens, els, e.Type)
	}
	return nil, qerr.New(qerr.Internal, "internal: cannot translate expression %T", e)
}

// ToExprs translates a list of expressions over s.
func ToExprs(es []logical.Expr, s *logical.Schema) ([]expr.Expr, error) {
	out := make([]expr.Expr, len(es))
	for i, e := range es {
		x, err := ToExpr(e, s)
		if err != nil {
			return nil, err
		}
		out[i] = x
	}
	return out, nil
}

func toSortKeys(keys []logical.SortExpr, s *logical.Schema) ([]expr.SortKey, error) {
	out := make([]expr.SortKey, len(keys))
	for i, k := range keys {
		e, err := ToExpr(k.Expr, s)
		if err != nil {
			return nil, err
		}
		out[i] = expr.SortKey{Expr: e, Desc: k.Desc, NullsFirst: k.NullsFirst}
	}
	return out, nil
}

// columnIndex returns the input index a physical expression reads when it is
// a bare column reference.
func columnIndex(e expr.Expr) (int, bool) {
	if c, ok := e.(*expr.Column); ok {
		return c.Index, true
	}
	return 0, false
}

// exprKey identifies an expression for comparing partitioning keys.
func exprKey(e expr.Expr) string {
	if i, ok := columnIndex(e); ok {
		return fmt.Sprintf("#%d", i)
	}
	return e.String()
}

func sameKeys(a, b []expr.Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if exprKey(a[i]) != exprKey(b[i]) {
			return false
		}
	}
	return true
}
