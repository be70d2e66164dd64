package logical

import (
	"fmt"
	"strings"

	"github.com/quiverdb/quiver/catalog"
)

// Node is an immutable logical plan node.
type Node interface {
	Schema() *Schema
	Children() []Node
	WithChildren(...Node) (Node, error)
	String() string // one line, without children (see Format for trees)
}

// Scan reads a table. Fields are the output columns (fresh IDs per scan
// instance); Columns[i] is the index in Table.Columns of Fields[i]
// (projection pushdown shrinks both together). Filters are conjuncts pushed
// into the scan: they are still applied exactly by the scan (row-group
// pruning uses them too), so a Filter above is not needed for them.
type Scan struct {
	Table   *catalog.Table
	Alias   string
	Columns []int
	Fields  []Field
	Filters []Expr
	Limit   int64 // -1 = none; only set when no Filters
}

func (s *Scan) Schema() *Schema                       { return &Schema{Fields: s.Fields} }
func (s *Scan) Children() []Node                      { return nil }
func (s *Scan) WithChildren(ch ...Node) (Node, error) { return s, nodeArity(s, ch, 0) }
func (s *Scan) String() string {
	names := make([]string, len(s.Fields))
	for i, f := range s.Fields {
		names[i] = f.String()
	}
	str := fmt.Sprintf("Scan %s.%s [%s]", s.Table.Schema, s.Table.Name, strings.Join(names, ", "))
	if len(s.Filters) > 0 {
		str += fmt.Sprintf(" filters=%v", s.Filters)
	}
	if s.Limit >= 0 {
		str += fmt.Sprintf(" limit=%d", s.Limit)
	}
	return str
}

// Values is a literal relation (VALUES lists, SELECT without FROM: one row
// of zero columns).
type Values struct {
	Fields []Field
	Rows   [][]Expr
}

func (v *Values) Schema() *Schema                       { return &Schema{Fields: v.Fields} }
func (v *Values) Children() []Node                      { return nil }
func (v *Values) WithChildren(ch ...Node) (Node, error) { return v, nodeArity(v, ch, 0) }
func (v *Values) String() string                        { return fmt.Sprintf("Values rows=%d %v", len(v.Rows), v.Schema()) }

// Filter keeps rows where Predicate is true.
type Filter struct {
	Input     Node
	Predicate Expr
}

func (f *Filter) Schema() *Schema  { return f.Input.Schema() }
func (f *Filter) Children() []Node { return []Node{f.Input} }
func (f *Filter) WithChildren(ch ...Node) (Node, error) {
	if err := nodeArity(f, ch, 1); err != nil {
		return nil, err
	}
	return &Filter{Input: ch[0], Predicate: f.Predicate}, nil
}
func (f *Filter) String() string { return "Filter " + f.Predicate.String() }

// Project computes Exprs; Fields[i] describes Exprs[i]. A bare ColumnRef keeps
// its input ID (Fields[i].ID == ref.ID) so references above stay valid.
type Project struct {
	Input  Node
	Exprs  []Expr
	Fields []Field
}

func (p *Project) Schema() *Schema  { return &Schema{Fields: p.Fields} }
func (p *Project) Children() []Node { return []Node{p.Input} }
func (p *Project) WithChildren(ch ...Node) (Node, error) {
	if err := nodeArity(p, ch, 1); err != nil {
		return nil, err
	}
	return &Project{Input: ch[0], Exprs: p.Exprs, Fields: p.Fields}, nil
}
func (p *Project) String() string {
	parts := make([]string, len(p.Exprs))
	for i, e := range p.Exprs {
		parts[i] = fmt.Sprintf("%s AS %s", e, p.Fields[i])
	}
	return "Project " + strings.Join(parts, ", ")
}

// Aggregate groups by GroupBy and computes Aggs. Output: GroupFields (one
// per GroupBy expr; a bare ColumnRef key keeps its ID) then AggFields (one per
// Agg). No GroupBy = one output row even for empty input.
type Aggregate struct {
	Input       Node
	GroupBy     []Expr
	Aggs        []*AggregateCall
	GroupFields []Field
	AggFields   []Field
}

func (a *Aggregate) Schema() *Schema {
	fs := make([]Field, 0, len(a.GroupFields)+len(a.AggFields))
	fs = append(fs, a.GroupFields...)
	fs = append(fs, a.AggFields...)
	return &Schema{Fields: fs}
}
func (a *Aggregate) Children() []Node { return []Node{a.Input} }
func (a *Aggregate) WithChildren(ch ...Node) (Node, error) {
	if err := nodeArity(a, ch, 1); err != nil {
		return nil, err
	}
	n := *a
	n.Input = ch[0]
	return &n, nil
}
func (a *Aggregate) String() string {
	return fmt.Sprintf("Aggregate group=%v aggs=%v -> %v", a.GroupBy, a.Aggs, a.Schema())
}

// JoinType enumerates logical joins. Semi/Anti output only the left columns;
// Mark outputs the left columns plus MarkField (boolean: whether a match
// exists, NULL when unknown because of NULLs under NullAware semantics);
// LeftSingle is a left join that errors when a left row matches more than one
// right row (scalar subqueries).
type JoinType int

const (
	InnerJoin JoinType = iota
	LeftJoin
	RightJoin
	FullJoin
	CrossJoin
	SemiJoin
	AntiJoin
	MarkJoin
	LeftSingleJoin
)

func (t JoinType) String() string {
	return [...]string{"Inner", "Left", "Right", "Full", "Cross", "Semi", "Anti", "Mark", "LeftSingle"}[t]
}

// Join combines Left and Right on Condition (nil = true). Equality conjuncts
// between the two sides are extracted by the physical planner into hash keys.
// NullAware marks NOT IN semantics for Anti/Mark joins: the first
// NullAwareKeys conjuncts of Condition are the IN equalities, where a NULL on
// either side makes the comparison unknown rather than "no match"; the other
// conjuncts (correlation) only select the subquery rows. NullAwareKeys 0
// means every equi key is null-aware.
type Join struct {
	Left, Right   Node
	Type          JoinType
	Condition     Expr
	NullAware     bool
	NullAwareKeys int
	MarkField     *Field // MarkJoin only
}

func (j *Join) Schema() *Schema {
	switch j.Type {
	case SemiJoin, AntiJoin:
		return j.Left.Schema()
	case MarkJoin:
		fs := append(append([]Field{}, j.Left.Schema().Fields...), *j.MarkField)
		return &Schema{Fields: fs}
	}
	l, r := j.Left.Schema(), j.Right.Schema()
	fs := make([]Field, 0, l.Len()+r.Len())
	for _, f := range l.Fields {
		if j.Type == RightJoin || j.Type == FullJoin {
			f.Nullable = true
		}
		fs = append(fs, f)
	}
	for _, f := range r.Fields {
		if j.Type == LeftJoin || j.Type == FullJoin || j.Type == LeftSingleJoin {
			f.Nullable = true
		}
		fs = append(fs, f)
	}
	return &Schema{Fields: fs}
}
func (j *Join) Children() []Node { return []Node{j.Left, j.Right} }
func (j *Join) WithChildren(ch ...Node) (Node, error) {
	if err := nodeArity(j, ch, 2); err != nil {
		return nil, err
	}
	n := *j
	n.Left, n.Right = ch[0], ch[1]
	return &n, nil
}
func (j *Join) String() string {
	s := fmt.Sprintf("Join %s", j.Type)
	if j.Condition != nil {
		s += " on " + j.Condition.String()
	}
	if j.NullAware {
		s += " null-aware"
	}
	return s
}

// Sort orders rows by Keys.
type Sort struct {
	Input Node
	Keys  []SortExpr
}

func (s *Sort) Schema() *Schema  { return s.Input.Schema() }
func (s *Sort) Children() []Node { return []Node{s.Input} }
func (s *Sort) WithChildren(ch ...Node) (Node, error) {
	if err := nodeArity(s, ch, 1); err != nil {
		return nil, err
	}
	return &Sort{Input: ch[0], Keys: s.Keys}, nil
}
func (s *Sort) String() string { return fmt.Sprintf("Sort %v", s.Keys) }

// Limit skips Offset rows then returns at most Count (-1 = all).
type Limit struct {
	Input  Node
	Offset int64
	Count  int64
}

func (l *Limit) Schema() *Schema  { return l.Input.Schema() }
func (l *Limit) Children() []Node { return []Node{l.Input} }
func (l *Limit) WithChildren(ch ...Node) (Node, error) {
	if err := nodeArity(l, ch, 1); err != nil {
		return nil, err
	}
	return &Limit{Input: ch[0], Offset: l.Offset, Count: l.Count}, nil
}
func (l *Limit) String() string { return fmt.Sprintf("Limit offset=%d count=%d", l.Offset, l.Count) }

// SetOpKind is UNION, INTERSECT or EXCEPT.
type SetOpKind int

const (
	Union SetOpKind = iota
	Intersect
	Except
)

func (k SetOpKind) String() string { return [...]string{"Union", "Intersect", "Except"}[k] }

// SetOp combines inputs with identical column types (the binder casts);
// Fields are fresh output columns named after the first input. UNION may have
// more than two inputs (flattened); INTERSECT/EXCEPT have exactly two. All=false
// removes duplicates.
type SetOp struct {
	Kind   SetOpKind
	All    bool
	Inputs []Node
	Fields []Field
}

func (s *SetOp) Schema() *Schema  { return &Schema{Fields: s.Fields} }
func (s *SetOp) Children() []Node { return s.Inputs }
func (s *SetOp) WithChildren(ch ...Node) (Node, error) {
	if err := nodeArity(s, ch, len(s.Inputs)); err != nil {
		return nil, err
	}
	n := *s
	n.Inputs = ch
	return &n, nil
}
func (s *SetOp) String() string {
	all := ""
	if s.All {
		all = " All"
	}
	return fmt.Sprintf("%s%s -> %v", s.Kind, all, s.Schema())
}

// Window appends one column per window function to its input's columns.
type Window struct {
	Input  Node
	Funcs  []*WindowCall
	Fields []Field // one per Func
}

func (w *Window) Schema() *Schema {
	in := w.Input.Schema().Fields
	fs := make([]Field, 0, len(in)+len(w.Fields))
	fs = append(fs, in...)
	fs = append(fs, w.Fields...)
	return &Schema{Fields: fs}
}
func (w *Window) Children() []Node { return []Node{w.Input} }
func (w *Window) WithChildren(ch ...Node) (Node, error) {
	if err := nodeArity(w, ch, 1); err != nil {
		return nil, err
	}
	n := *w
	n.Input = ch[0]
	return &n, nil
}
func (w *Window) String() string { return fmt.Sprintf("Window %v", w.Funcs) }

// Format renders a plan tree, one node per line, children indented.
func Format(n Node) string {
	var b strings.Builder
	var walk func(Node, int)
	walk = func(n Node, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(n.String())
		b.WriteByte('\n')
		for _, c := range n.Children() {
			walk(c, depth+1)
		}
	}
	walk(n, 0)
	return b.String()
}

func nodeArity(n Node, ch []Node, want int) error {
	if len(ch) != want {
		return fmt.Errorf("%T: want %d children, got %d", n, want, len(ch))
	}
	return nil
}

// RecursiveCTE is WITH RECURSIVE's fixed point: Anchor's rows, then Recursive
// evaluated over the previous iteration's rows (its WorkTable with the same
// Work id) until an iteration yields no rows. Distinct (UNION DISTINCT) drops
// rows already produced. Both inputs have exactly the types of Fields.
type RecursiveCTE struct {
	Name      string
	Work      int
	Distinct  bool
	Anchor    Node
	Recursive Node
	Fields    []Field
}

func (r *RecursiveCTE) Schema() *Schema  { return &Schema{Fields: r.Fields} }
func (r *RecursiveCTE) Children() []Node { return []Node{r.Anchor, r.Recursive} }
func (r *RecursiveCTE) WithChildren(ch ...Node) (Node, error) {
	if err := nodeArity(r, ch, 2); err != nil {
		return nil, err
	}
	n := *r
	n.Anchor, n.Recursive = ch[0], ch[1]
	return &n, nil
}
func (r *RecursiveCTE) String() string {
	kind := "All"
	if r.Distinct {
		kind = "Distinct"
	}
	return fmt.Sprintf("RecursiveCTE %s work=%d %s -> %v", r.Name, r.Work, kind, r.Schema())
}

// WorkTable reads the rows of the enclosing RecursiveCTE's previous iteration.
type WorkTable struct {
	Work   int
	Fields []Field
}

func (w *WorkTable) Schema() *Schema                       { return &Schema{Fields: w.Fields} }
func (w *WorkTable) Children() []Node                      { return nil }
func (w *WorkTable) WithChildren(ch ...Node) (Node, error) { return w, nodeArity(w, ch, 0) }
func (w *WorkTable) String() string                        { return fmt.Sprintf("WorkTable work=%d %v", w.Work, w.Schema()) }
