// Package expr evaluates scalar expressions over record batches and owns the
// scalar function registry: the canonical function names, their typing
// rules (Resolve, used by the binder) and their vectorized kernels.
package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// Expr is a physical scalar expression over the columns of an input batch.
type Expr interface {
	DataType() arrow.DataType
	// Eval returns an array of b.NumRows() values; the caller releases it.
	Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error)
	String() string
}

// Column reads input column Index.
type Column struct {
	Index int
	Name  string
	Type  arrow.DataType
}

// Literal is a constant broadcast to the batch length.
type Literal struct {
	Value scalar.Scalar
}

// Call applies a registered scalar function; arguments already have the
// types Resolve returned (the binder inserts casts).
type Call struct {
	Name string
	Args []Expr
	Type arrow.DataType
}

// CastExpr converts Input to Type.
type CastExpr struct {
	Input Expr
	Type  arrow.DataType
}

// CaseExpr is a searched CASE with lazy branch evaluation.
type CaseExpr struct {
	Whens, Thens []Expr
	Else         Expr // nil = NULL
	Type         arrow.DataType
}

// Signature is the typing of one call: the types the arguments must be cast
// to, and the result type.
type Signature struct {
	Args   []arrow.DataType
	Return arrow.DataType
}
