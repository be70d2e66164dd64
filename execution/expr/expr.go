// Package expr evaluates scalar expressions over record batches and owns the
// scalar function registry: the canonical function names, their typing
// rules (Resolve, used by the binder) and their vectorized kernels.
//
// Kernels see only compute types: Boolean, Int64, Uint64, Float64,
// Decimal128(p,s), String, Binary, Date32, Timestamp(µs, no zone, a UTC wall
// clock), Time64(µs) and Null; Resolve asks the binder to cast everything
// else (Int32 → Int64, Float32 → Float64, LargeString → String, ...).
//
// Semantics follow MySQL 8 in its default (non-strict for expressions) mode:
//   - Strings compare as bytes: our only collation is utf8mb4_bin (case
//     sensitive), for =, <, LIKE, REGEXP, LOCATE, REPLACE, ...
//   - Division and modulo by zero give NULL; BIGINT and DECIMAL overflow in
//   - - * are errors ("BIGINT value is out of range in '(a + b)'").
//   - CAST of a string to a number reads its longest numeric prefix
//     (CAST('12abc' AS SIGNED) = 12, CAST('abc' AS SIGNED) = 0) without a
//     warning; CAST of an invalid string to DATE/DATETIME/TIME gives NULL.
//     Doubles cast to integers round half away from zero and saturate.
//   - Decimal arithmetic is exact: an int64 fast path when operands fit, a
//     128-bit (and math/big for division) path otherwise.
package expr

import (
	"context"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/qerr"
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

	kernel kernelFn
	// consumed marks literal arguments the binder already used (LIKE
	// patterns, units): Eval passes nil for them instead of materializing.
	consumed []bool
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

// NewColumn returns a reference to input column index of type t.
func NewColumn(index int, name string, t arrow.DataType) Expr {
	return &Column{Index: index, Name: name, Type: t}
}

// NewLiteral returns a constant expression.
func NewLiteral(v scalar.Scalar) Expr { return &Literal{Value: v} }

// NewCall binds a call of a registered function to its kernel. Arguments
// must already have the types Resolve returned; ret is the resolved type.
func NewCall(name string, args []Expr, ret arrow.DataType) (Expr, error) {
	n := canonical(name)
	def, ok := registry[n]
	if !ok {
		return nil, qerr.New(qerr.NotFound, "FUNCTION %s does not exist", name)
	}
	if len(args) < def.minArgs || (def.maxArgs >= 0 && len(args) > def.maxArgs) {
		return nil, qerr.New(qerr.InvalidArgument, "Incorrect parameter count in the call to native function '%s'", name)
	}
	bind, ok := kernels[n]
	if !ok {
		return nil, qerr.New(qerr.Unimplemented, "function %s is not supported", name)
	}
	c := &Call{Name: n, Args: args, Type: ret}
	k, err := bind(c)
	if err != nil {
		return nil, err
	}
	c.kernel = k
	return c, nil
}

// NewCast returns CAST(e AS to); unsupported conversions are InvalidArgument.
func NewCast(e Expr, to arrow.DataType) (Expr, error) {
	if !CanCast(e.DataType(), to) {
		return nil, qerr.New(qerr.InvalidArgument, "cannot cast %s to %s", e.DataType(), to)
	}
	return &CastExpr{Input: e, Type: to}, nil
}

// NewCase returns a searched CASE; every then and els (nil = NULL) must have
// type t, every when must be boolean.
func NewCase(whens, thens []Expr, els Expr, t arrow.DataType) (Expr, error) {
	if len(whens) != len(thens) || len(whens) == 0 {
		return nil, qerr.New(qerr.Internal, "CASE: %d WHENs for %d THENs", len(whens), len(thens))
	}
	for _, w := range whens {
		if id := w.DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
			return nil, qerr.New(qerr.Internal, "CASE: WHEN %s is %s, not boolean", w, w.DataType())
		}
	}
	for _, e := range append(append([]Expr{}, thens...), els) {
		if e != nil && !arrow.TypeEqual(e.DataType(), t) && e.DataType().ID() != arrow.NULL {
			return nil, qerr.New(qerr.Internal, "CASE: branch %s is %s, not %s", e, e.DataType(), t)
		}
	}
	return &CaseExpr{Whens: whens, Thens: thens, Else: els, Type: t}, nil
}

// EvalScalar evaluates an expression without column references (constant
// folding, VALUES rows) to a scalar.
func EvalScalar(e Expr) (scalar.Scalar, error) {
	b := array.NewRecordBatch(arrow.NewSchema(nil, nil), nil, 1)
	defer b.Release()
	arr, err := e.Eval(memory.DefaultAllocator, b)
	if err != nil {
		return nil, err
	}
	defer arr.Release()
	s, err := scalar.GetScalar(arr, 0)
	if err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "EvalScalar %s", e)
	}
	return s, nil
}

func (c *Column) DataType() arrow.DataType { return c.Type }
func (c *Column) String() string {
	if c.Name != "" {
		return c.Name
	}
	return fmt.Sprintf("#%d", c.Index)
}

// Eval returns the batch column itself, retained.
func (c *Column) Eval(_ memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	if c.Index < 0 || c.Index >= int(b.NumCols()) {
		return nil, qerr.New(qerr.Internal, "column %s: index %d out of %d columns", c, c.Index, b.NumCols())
	}
	col := b.Column(c.Index)
	if !arrow.TypeEqual(col.DataType(), c.Type) {
		return nil, qerr.New(qerr.Internal, "column %s: batch has %s, plan expects %s", c, col.DataType(), c.Type)
	}
	col.Retain()
	return col, nil
}

func (l *Literal) DataType() arrow.DataType { return l.Value.DataType() }
func (l *Literal) String() string {
	if !l.Value.IsValid() {
		return "NULL"
	}
	if id := l.Value.DataType().ID(); id == arrow.STRING || id == arrow.LARGE_STRING {
		return "'" + l.Value.String() + "'"
	}
	return l.Value.String()
}

// Eval materializes the constant to the batch length (a fresh array, so that
// nothing outlives the query's allocator).
func (l *Literal) Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	n := int(b.NumRows())
	if l.Value.DataType().ID() == arrow.NULL {
		return array.NewNull(n), nil
	}
	arr, err := scalar.MakeArrayFromScalar(l.Value, n, mem)
	if err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "literal %s", l)
	}
	return arr, nil
}

func (c *Call) DataType() arrow.DataType { return c.Type }
func (c *Call) String() string {
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = a.String()
	}
	switch {
	case len(args) == 2 && isOperatorName(c.Name):
		return "(" + args[0] + " " + c.Name + " " + args[1] + ")"
	case c.Name == "neg":
		return "-" + args[0]
	case c.Name == "~":
		return "~" + args[0]
	}
	return c.Name + "(" + strings.Join(args, ", ") + ")"
}

func isOperatorName(f string) bool {
	switch f {
	case "+", "-", "*", "/", "%", "div", "=", "<>", "<", "<=", ">", ">=", "<=>", "and", "or", "xor",
		"&", "|", "^", "<<", ">>":
		return true
	}
	return false
}

// Eval evaluates the arguments, then the kernel.
func (c *Call) Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	if c.kernel == nil {
		return nil, qerr.New(qerr.Internal, "call %s was not built with NewCall", c)
	}
	args := make([]arrow.Array, len(c.Args))
	defer func() {
		for _, a := range args {
			if a != nil {
				a.Release()
			}
		}
	}()
	for i, e := range c.Args {
		if c.consumed != nil && c.consumed[i] {
			continue
		}
		a, err := e.Eval(mem, b)
		if err != nil {
			return nil, err
		}
		args[i] = a
	}
	return c.kernel(&evalCtx{mem: mem, n: int(b.NumRows()), call: c}, args)
}

func (c *CastExpr) DataType() arrow.DataType { return c.Type }
func (c *CastExpr) String() string           { return fmt.Sprintf("CAST(%s AS %s)", c.Input, c.Type) }
func (c *CastExpr) Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	in, err := c.Input.Eval(mem, b)
	if err != nil {
		return nil, err
	}
	defer in.Release()
	return castArray(mem, in, c.Type)
}

func (c *CaseExpr) DataType() arrow.DataType { return c.Type }
func (c *CaseExpr) String() string {
	var sb strings.Builder
	sb.WriteString("CASE")
	for i := range c.Whens {
		fmt.Fprintf(&sb, " WHEN %s THEN %s", c.Whens[i], c.Thens[i])
	}
	if c.Else != nil {
		fmt.Fprintf(&sb, " ELSE %s", c.Else)
	}
	sb.WriteString(" END")
	return sb.String()
}

// evalCtx is what a kernel needs besides its arguments.
type evalCtx struct {
	mem  memory.Allocator
	n    int
	call *Call
}

// kernelFn computes a call over evaluated arguments of length ec.n
// (consumed arguments are nil).
type kernelFn func(ec *evalCtx, args []arrow.Array) (arrow.Array, error)

// binder prepares a kernel for one call site (validates argument types,
// compiles constant patterns and units, and may mark such arguments
// consumed).
type binder func(c *Call) (kernelFn, error)

func computeCtx(mem memory.Allocator) context.Context {
	return compute.WithAllocator(context.Background(), mem)
}
