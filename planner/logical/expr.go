package logical

import (
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// Expr is a typed, immutable scalar expression. The binder produces only
// well-typed expressions: every Call's arguments already have the types the
// function's kernel expects (implicit casts are explicit Cast nodes), and
// every expression's type is known without looking at a schema, so
// DataType never fails after binding (the schema argument is kept for the
// DESIGN.md interface and for sanity checks).
type Expr interface {
	DataType(*Schema) (arrow.DataType, error)
	Children() []Expr
	WithChildren(...Expr) (Expr, error)
	String() string
}

// Type returns e's type (bound expressions always know it).
func Type(e Expr) arrow.DataType {
	t, err := e.DataType(nil)
	if err != nil {
		panic(err)
	}
	return t
}

// ColumnRef reads a column of the input by ID. A ColumnRef whose ID is not
// in the input schema but in an enclosing query's scope is a correlated
// (outer) reference; the optimizer's decorrelation removes those.
type ColumnRef struct {
	ID       ColumnID
	Name     string // for display only
	Type     arrow.DataType
	Nullable bool
}

func (c *ColumnRef) DataType(*Schema) (arrow.DataType, error) { return c.Type, nil }
func (c *ColumnRef) Children() []Expr                         { return nil }
func (c *ColumnRef) WithChildren(ch ...Expr) (Expr, error)    { return c, checkArity(c, ch, 0) }
func (c *ColumnRef) String() string                           { return fmt.Sprintf("%s#%d", c.Name, c.ID) }

// Literal is a constant. A NULL literal has a typed null scalar (the binder
// gives it the type the context needs; arrow.Null only where no context exists).
type Literal struct {
	Value scalar.Scalar
	// Hex marks a hexadecimal or bit literal (0x41, X'41', b'1'): a binary
	// string that is an unsigned number in numeric context (MySQL).
	Hex bool
}

func (l *Literal) DataType(*Schema) (arrow.DataType, error) { return l.Value.DataType(), nil }
func (l *Literal) Children() []Expr                         { return nil }
func (l *Literal) WithChildren(ch ...Expr) (Expr, error)    { return l, checkArity(l, ch, 0) }
func (l *Literal) String() string {
	if !l.Value.IsValid() {
		return "NULL"
	}
	if l.Value.DataType().ID() == arrow.STRING {
		return "'" + l.Value.String() + "'"
	}
	return l.Value.String()
}

// Param is a `?` placeholder (0-based Index). Execution requires it to be
// replaced by a Literal (see BindParams); Type is the type inferred from
// context (arrow.Null when unknown). Offset is the placeholder's position in
// the statement text (Env.ParamTypes is keyed by it).
type Param struct {
	Index  int
	Type   arrow.DataType
	Offset int
}

func (p *Param) DataType(*Schema) (arrow.DataType, error) { return p.Type, nil }
func (p *Param) Children() []Expr                         { return nil }
func (p *Param) WithChildren(ch ...Expr) (Expr, error)    { return p, checkArity(p, ch, 0) }
func (p *Param) String() string                           { return fmt.Sprintf("?%d", p.Index+1) }

// Call applies a scalar function or operator by its canonical name (the
// names and typing rules are owned by execution/expr's registry: "+", "=",
// "and", "like", "substring", ...). Type is the resolved result type.
type Call struct {
	Func string
	Args []Expr
	Type arrow.DataType
}

func (c *Call) DataType(*Schema) (arrow.DataType, error) { return c.Type, nil }
func (c *Call) Children() []Expr                         { return c.Args }
func (c *Call) WithChildren(ch ...Expr) (Expr, error) {
	if err := checkArity(c, ch, len(c.Args)); err != nil {
		return nil, err
	}
	return &Call{Func: c.Func, Args: ch, Type: c.Type}, nil
}
func (c *Call) String() string {
	args := make([]string, len(c.Args))
	for i, a := range c.Args {
		args[i] = a.String()
	}
	if len(args) == 2 && isOperator(c.Func) {
		return "(" + args[0] + " " + c.Func + " " + args[1] + ")"
	}
	return c.Func + "(" + strings.Join(args, ", ") + ")"
}

// SplitAnd flattens a conjunction into its conjuncts (none for nil).
func SplitAnd(e Expr) []Expr {
	if e == nil {
		return nil
	}
	if c, ok := e.(*Call); ok && c.Func == "and" {
		var out []Expr
		for _, a := range c.Args {
			out = append(out, SplitAnd(a)...)
		}
		return out
	}
	return []Expr{e}
}

func isOperator(f string) bool {
	switch f {
	case "+", "-", "*", "/", "%", "div", "=", "<>", "<", "<=", ">", ">=", "<=>", "and", "or", "xor":
		return true
	}
	return false
}

// Cast converts to Type with MySQL CAST semantics (errors for impossible
// conversions are raised at bind time; invalid values give NULL or an error
// as MySQL does in strict mode).
type Cast struct {
	Expr Expr
	Type arrow.DataType
}

func (c *Cast) DataType(*Schema) (arrow.DataType, error) { return c.Type, nil }
func (c *Cast) Children() []Expr                         { return []Expr{c.Expr} }
func (c *Cast) WithChildren(ch ...Expr) (Expr, error) {
	if err := checkArity(c, ch, 1); err != nil {
		return nil, err
	}
	return &Cast{Expr: ch[0], Type: c.Type}, nil
}
func (c *Cast) String() string { return fmt.Sprintf("CAST(%s AS %s)", c.Expr, c.Type) }

// Case is a searched CASE (simple CASE is rewritten to searched by the
// binder; IF(c,a,b) is a Case too). Branches are evaluated lazily: a THEN is
// evaluated only for rows where its WHEN is true and no earlier WHEN was.
// Else is nil for "ELSE NULL". All Thens and Else have type Type.
type Case struct {
	Whens []Expr // boolean
	Thens []Expr
	Else  Expr
	Type  arrow.DataType
}

func (c *Case) DataType(*Schema) (arrow.DataType, error) { return c.Type, nil }
func (c *Case) Children() []Expr {
	ch := make([]Expr, 0, 2*len(c.Whens)+1)
	for i := range c.Whens {
		ch = append(ch, c.Whens[i], c.Thens[i])
	}
	if c.Else != nil {
		ch = append(ch, c.Else)
	}
	return ch
}
func (c *Case) WithChildren(ch ...Expr) (Expr, error) {
	if err := checkArity(c, ch, len(c.Children())); err != nil {
		return nil, err
	}
	n := &Case{Type: c.Type}
	for i := 0; i+1 < len(ch); i += 2 {
		n.Whens = append(n.Whens, ch[i])
		n.Thens = append(n.Thens, ch[i+1])
	}
	if c.Else != nil {
		n.Else = ch[len(ch)-1]
	}
	return n, nil
}
func (c *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for i := range c.Whens {
		fmt.Fprintf(&b, " WHEN %s THEN %s", c.Whens[i], c.Thens[i])
	}
	if c.Else != nil {
		fmt.Fprintf(&b, " ELSE %s", c.Else)
	}
	b.WriteString(" END")
	return b.String()
}

// SubqueryKind distinguishes the three subquery expressions.
type SubqueryKind int

const (
	ScalarSubquery SubqueryKind = iota // (SELECT x ...): one column, at most one row
	ExistsSubquery                     // EXISTS (SELECT ...)
	InSubquery                         // Needle IN (SELECT x ...)
)

// Subquery is a subquery used as an expression. Plan may contain ColumnRefs
// to columns of the enclosing query (correlation); OuterRefs lists them.
// NOT EXISTS / NOT IN are a "not" Call around it. The optimizer rewrites every
// Subquery into joins (semi, anti, mark, left-single) before physical planning.
type Subquery struct {
	Kind      SubqueryKind
	Plan      Node
	Needles   []Expr // InSubquery only: one per column of Plan ((a, b) IN ...)
	OuterRefs []*ColumnRef
	Type      arrow.DataType // Scalar: the column's type; others: boolean
	// Text identifies the subquery as written (restored SQL, plus what the
	// binder derived it from): GROUP BY and ORDER BY match expressions by
	// String, so two different subqueries must never print alike.
	Text string
}

func (s *Subquery) DataType(*Schema) (arrow.DataType, error) { return s.Type, nil }
func (s *Subquery) Children() []Expr                         { return s.Needles }
func (s *Subquery) WithChildren(ch ...Expr) (Expr, error) {
	if err := checkArity(s, ch, len(s.Children())); err != nil {
		return nil, err
	}
	n := *s
	if s.Needles != nil {
		n.Needles = append([]Expr(nil), ch...)
	}
	return &n, nil
}
func (s *Subquery) String() string {
	text := "<subquery>"
	if s.Text != "" {
		text = s.Text
	}
	switch s.Kind {
	case ExistsSubquery:
		return "EXISTS(" + text + ")"
	case InSubquery:
		if len(s.Needles) == 1 {
			return fmt.Sprintf("%s IN (%s)", s.Needles[0], text)
		}
		return fmt.Sprintf("%v IN (%s)", s.Needles, text)
	}
	return "(" + text + ")"
}

// AggregateCall is one aggregate of an Aggregate node (not a general Expr:
// it appears only in Aggregate.Aggs). Func is the canonical name ("count",
// "count_star", "sum", "avg", "min", "max", "stddev_samp", "stddev_pop",
// "var_samp", "var_pop", "group_concat", "bit_and", "bit_or", "bit_xor",
// "any_value"). Separator and OrderBy are for group_concat.
type AggregateCall struct {
	Func      string
	Args      []Expr
	Distinct  bool
	Filter    Expr // optional per-aggregate filter (nil = all rows)
	OrderBy   []SortExpr
	Separator string
	Type      arrow.DataType
}

func (a *AggregateCall) String() string {
	args := make([]string, len(a.Args))
	for i, x := range a.Args {
		args[i] = x.String()
	}
	d := ""
	if a.Distinct {
		d = "DISTINCT "
	}
	return a.Func + "(" + d + strings.Join(args, ", ") + ")"
}

// WindowCall is one window function of a Window node. Func is a ranking
// function ("row_number", "rank", "dense_rank", "percent_rank", "cume_dist",
// "ntile", "lag", "lead", "first_value", "last_value", "nth_value") or any
// aggregate name.
type WindowCall struct {
	Func        string
	Args        []Expr
	Distinct    bool
	PartitionBy []Expr
	OrderBy     []SortExpr
	Frame       *WindowFrame // nil = SQL default frame
	Type        arrow.DataType
}

func (w *WindowCall) String() string {
	args := make([]string, len(w.Args))
	for i, x := range w.Args {
		args[i] = x.String()
	}
	return fmt.Sprintf("%s(%s) OVER (partition %v order %v frame %v)", w.Func, strings.Join(args, ", "), w.PartitionBy, w.OrderBy, w.Frame)
}

// FrameUnit is ROWS or RANGE.
type FrameUnit int

const (
	FrameRows FrameUnit = iota
	FrameRange
)

// FrameBoundKind is one end of a window frame.
type FrameBoundKind int

const (
	UnboundedPreceding FrameBoundKind = iota
	Preceding                         // Offset rows/values before
	CurrentRow
	Following // Offset rows/values after
	UnboundedFollowing
)

type FrameBound struct {
	Kind   FrameBoundKind
	Offset Expr // literal, for Preceding/Following
}

type WindowFrame struct {
	Unit       FrameUnit
	Start, End FrameBound
}

// SortExpr is one ORDER BY key. MySQL orders NULLs first ascending and last
// descending; the binder sets NullsFirst explicitly.
type SortExpr struct {
	Expr       Expr
	Desc       bool
	NullsFirst bool
}

func (s SortExpr) String() string {
	dir := "ASC"
	if s.Desc {
		dir = "DESC"
	}
	nulls := "NULLS LAST"
	if s.NullsFirst {
		nulls = "NULLS FIRST"
	}
	return fmt.Sprintf("%s %s %s", s.Expr, dir, nulls)
}

func checkArity(e any, ch []Expr, n int) error {
	if len(ch) != n {
		return fmt.Errorf("%T: want %d children, got %d", e, n, len(ch))
	}
	return nil
}
