package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/qerr"
)

// Resolve types a call of the scalar function name (canonical lower-case
// name, see the registry) with the given argument types. It returns the types
// each argument must be cast to (the binder inserts Cast nodes where they
// differ) and the result type. Unknown name → qerr.NotFound; wrong argument
// count or types → qerr.InvalidArgument.
func Resolve(name string, args []arrow.DataType) (Signature, error) {
	return Signature{}, qerr.New(qerr.Unimplemented, "function %s not implemented", name)
}

// IsFunction reports whether name is a registered scalar function.
func IsFunction(name string) bool { return false }

// CommonType is the type values of all the given types are converted to when
// they meet in one result (CASE/IF/COALESCE branches, UNION columns, IN lists).
func CommonType(types ...arrow.DataType) (arrow.DataType, error) {
	return nil, qerr.New(qerr.Unimplemented, "CommonType not implemented")
}

// CanCast reports whether CAST(from AS to) is supported.
func CanCast(from, to arrow.DataType) bool { return false }

// NewColumn, NewLiteral, NewCall, NewCast, NewCase build physical expressions.
func NewColumn(index int, name string, t arrow.DataType) Expr {
	panic("expr.NewColumn not implemented")
}
func NewLiteral(v scalar.Scalar) Expr { panic("expr.NewLiteral not implemented") }
func NewCall(name string, args []Expr, ret arrow.DataType) (Expr, error) {
	return nil, qerr.New(qerr.Unimplemented, "function %s not implemented", name)
}
func NewCast(e Expr, to arrow.DataType) (Expr, error) {
	return nil, qerr.New(qerr.Unimplemented, "cast not implemented")
}
func NewCase(whens, thens []Expr, els Expr, t arrow.DataType) (Expr, error) {
	return nil, qerr.New(qerr.Unimplemented, "case not implemented")
}

// EvalScalar evaluates an expression without column references (constant
// folding, VALUES rows) to a scalar.
func EvalScalar(e Expr) (scalar.Scalar, error) {
	return nil, qerr.New(qerr.Unimplemented, "EvalScalar not implemented")
}
