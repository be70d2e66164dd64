package logical

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
)

// BindConstants binds expressions that may not reference columns (INSERT
// VALUES rows, SET values).
func (b *Binder) BindConstants(es []ast.ExprNode) ([]Expr, error) {
	return b.bindExprs(es, &exprCtx{scope: &scope{}, clause: "field list"})
}

// CastTo converts e to type t (a NULL literal or untyped parameter simply
// takes the type; anything else gets a Cast).
func CastTo(e Expr, t arrow.DataType) Expr { return castTo(e, t) }

// NullLiteral is a NULL of type t.
func NullLiteral(t arrow.DataType) *Literal { return nullLiteral(t) }
