package logical

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/planner/parse"
	"github.com/quiverdb/quiver/qerr"
)

// Binder turns one statement's query ASTs into typed logical plans. It hands
// out ColumnIDs from one counter, so IDs are unique in the statement.
type Binder struct {
	ctx    context.Context
	env    *Env
	nextID ColumnID
	params map[int]*Param
	ctes   *cteDef
	// origin names columns in ONLY_FULL_GROUP_BY messages (db.table.column).
	origin map[ColumnID]string
	depth  int // view/CTE nesting, to stop runaway recursion
}

// cteDef is one WITH entry; prev is the list visible where it was defined.
type cteDef struct {
	name      string
	def       *ast.CommonTableExpression
	prev      *cteDef
	recursive bool       // defined in WITH RECURSIVE: visible to itself
	work      *WorkTable // set while its recursive part is bound
}

// NewBinder returns a binder for one statement.
func NewBinder(ctx context.Context, env *Env) *Binder {
	if env.Now.IsZero() {
		env.Now = time.Now()
	}
	params := map[int]*Param{}
	for off, t := range env.ParamTypes {
		if t != nil {
			params[off] = &Param{Type: t, Offset: off}
		}
	}
	return &Binder{ctx: ctx, env: env, params: params, origin: map[ColumnID]string{}}
}

// NewID returns a fresh column ID.
func (b *Binder) NewID() ColumnID {
	b.nextID++
	return b.nextID
}

// Params numbers the `?` placeholders in text order (setting their Index)
// and returns them. Call it once binding is complete.
func (b *Binder) Params() []*Param {
	offs := make([]int, 0, len(b.params))
	for off := range b.params {
		offs = append(offs, off)
	}
	sort.Ints(offs)
	ps := make([]*Param, len(offs))
	for i, off := range offs {
		ps[i] = b.params[off]
		ps[i].Index = i
		ps[i].Offset = off
	}
	return ps
}

// BindQuery binds a SELECT, set operation or parenthesized query.
func (b *Binder) BindQuery(n ast.ResultSetNode) (Node, error) {
	node, err := b.bindQuery(n, nil, nil)
	b.Params()
	return node, err
}

func (b *Binder) bindQuery(n ast.Node, parent *scope, outer *[]*ColumnRef) (Node, error) {
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	switch q := n.(type) {
	case *ast.SelectStmt:
		return b.bindSelect(q, parent, outer)
	case *ast.SetOprStmt:
		return b.bindSetOpr(q, parent, outer)
	case *ast.SubqueryExpr:
		return b.bindQuery(q.Query, parent, outer)
	case *ast.SetOprSelectList:
		return b.bindSetOprList(q, nil, nil, parent, outer)
	}
	return nil, qerr.New(qerr.Unimplemented, "unsupported query form %T", n)
}

// withCTEs makes the WITH entries visible for the duration of f.
func (b *Binder) withCTEs(w *ast.WithClause, f func() (Node, error)) (Node, error) {
	if w == nil {
		return f()
	}
	saved := b.ctes
	defer func() { b.ctes = saved }()
	for _, c := range w.CTEs {
		for d := b.ctes; d != saved && d != nil; d = d.prev {
			if d.name == c.Name.L {
				return nil, qerr.New(qerr.InvalidArgument, "Not unique table/alias: '%s'", c.Name.O)
			}
		}
		b.ctes = &cteDef{name: c.Name.L, def: c, prev: b.ctes, recursive: w.IsRecursive}
	}
	return f()
}

func (b *Binder) lookupCTE(name string) *cteDef {
	for d := b.ctes; d != nil; d = d.prev {
		if d.name == name {
			return d
		}
	}
	return nil
}

// ---- FROM ----

func (b *Binder) bindFrom(n ast.ResultSetNode, parent *scope, outer *[]*ColumnRef) (Node, []scopeCol, error) {
	switch x := n.(type) {
	case *ast.Join:
		if x.Right == nil {
			return b.bindFrom(x.Left, parent, outer)
		}
		return b.bindJoin(x, parent, outer)
	case *ast.TableSource:
		return b.bindTableSource(x, parent, outer)
	case *ast.TableName:
		return b.bindTableSource(&ast.TableSource{Source: x}, parent, outer)
	case *ast.SelectStmt, *ast.SetOprStmt:
		return nil, nil, qerr.New(qerr.InvalidArgument, "Every derived table must have its own alias")
	}
	return nil, nil, qerr.New(qerr.Unimplemented, "unsupported FROM item %T", n)
}

func (b *Binder) bindTableSource(ts *ast.TableSource, parent *scope, outer *[]*ColumnRef) (Node, []scopeCol, error) {
	alias := ts.AsName.O
	var node Node
	db := ""
	switch src := ts.Source.(type) {
	case *ast.TableName:
		if alias == "" {
			alias = src.Name.O
		}
		var err error
		node, db, err = b.bindTableName(src, alias)
		if err != nil {
			return nil, nil, err
		}
	case *ast.SelectStmt, *ast.SetOprStmt:
		if ts.AsName.L == "" {
			return nil, nil, qerr.New(qerr.InvalidArgument, "Every derived table must have its own alias")
		}
		var err error
		node, err = b.bindQuery(src, parent, outer)
		if err != nil {
			return nil, nil, err
		}
	default:
		return b.bindFrom(src, parent, outer)
	}
	if len(ts.ColumnNames) > 0 {
		names := make([]string, len(ts.ColumnNames))
		for i, c := range ts.ColumnNames {
			names[i] = c.O
		}
		var err error
		if node, err = rename(node, names); err != nil {
			return nil, nil, err
		}
	}
	fields := node.Schema().Fields
	cols := make([]scopeCol, len(fields))
	seen := map[string]bool{}
	for i, f := range fields {
		if _, isScan := node.(*Scan); !isScan {
			if seen[strings.ToLower(f.Name)] {
				return nil, nil, qerr.New(qerr.InvalidArgument, "Duplicate column name '%s'", f.Name)
			}
			seen[strings.ToLower(f.Name)] = true
		}
		f.Qualifier = alias
		cols[i] = scopeCol{Field: f, db: db}
	}
	return node, cols, nil
}

// rename gives node's columns new names (derived-table/CTE/view column lists).
func rename(node Node, names []string) (Node, error) {
	fs := node.Schema().Fields
	if len(names) != len(fs) {
		return nil, qerr.New(qerr.InvalidArgument, "In definition of view, derived table or common table expression, SELECT list and column names list have different column counts")
	}
	p := &Project{Input: node}
	for i, f := range fs {
		p.Exprs = append(p.Exprs, &ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable})
		f.Name = names[i]
		p.Fields = append(p.Fields, f)
	}
	return p, nil
}

// bindTableName resolves a CTE, view or table and returns its plan.
func (b *Binder) bindTableName(tn *ast.TableName, alias string) (Node, string, error) {
	if tn.Schema.L == "" {
		if d := b.lookupCTE(tn.Name.L); d != nil {
			if d.work != nil {
				// A fresh copy per reference: column IDs must be unique.
				wt := &WorkTable{Work: d.work.Work}
				for _, f := range d.work.Fields {
					f.ID = b.NewID()
					wt.Fields = append(wt.Fields, f)
				}
				return wt, "", nil
			}
			if d.recursive && referencesTable(d.def.Query.Query, d.name) {
				n, err := b.bindRecursiveCTE(d)
				return n, "", err
			}
			n, err := b.bindCTE(d)
			return n, "", err
		}
	}
	schema := tn.Schema.L
	if schema == "" {
		schema = strings.ToLower(b.env.CurrentSchema)
	}
	if schema == "" {
		return nil, "", qerr.New(qerr.InvalidArgument, "No database selected")
	}
	t, err := b.env.Catalog.Table(b.ctx, schema, tn.Name.L)
	if err != nil {
		return nil, "", err
	}
	if t.Kind == catalog.View {
		n, err := b.bindView(t)
		return n, t.Schema, err
	}
	s := &Scan{Table: t, Alias: alias, Limit: -1}
	for i, c := range t.Columns.Fields() {
		id := b.NewID()
		s.Columns = append(s.Columns, i)
		s.Fields = append(s.Fields, Field{ID: id, Qualifier: alias, Name: c.Name, Type: c.Type, Nullable: c.Nullable})
		b.origin[id] = t.Schema + "." + alias + "." + c.Name
	}
	return s, t.Schema, nil
}

const maxNesting = 64

func (b *Binder) bindCTE(d *cteDef) (Node, error) {
	if b.depth > maxNesting {
		return nil, qerr.New(qerr.InvalidArgument, "view or common table expression nesting is too deep")
	}
	saved := b.ctes
	b.ctes = d.prev
	b.depth++
	defer func() { b.ctes, b.depth = saved, b.depth-1 }()
	n, err := b.bindQuery(d.def.Query.Query, nil, nil)
	if err != nil {
		return nil, err
	}
	if len(d.def.ColNameList) > 0 {
		names := make([]string, len(d.def.ColNameList))
		for i, c := range d.def.ColNameList {
			names[i] = c.O
		}
		return rename(n, names)
	}
	return n, nil
}

// bindView binds a view's stored SELECT as a derived table: a fresh binding
// per reference, with no CTEs of the referencing query visible.
func (b *Binder) bindView(t *catalog.Table) (Node, error) {
	if b.depth > maxNesting {
		return nil, qerr.New(qerr.InvalidArgument, "view nesting is too deep")
	}
	stmt, err := parse.ParseOne(t.ViewSQL)
	if err != nil {
		return nil, qerr.Wrap(qerr.InvalidArgument, err, "View '%s.%s' references invalid table(s) or column(s) or function(s) or definer/invoker of view lack rights to use them", t.Schema, t.Name)
	}
	rs, ok := stmt.(ast.ResultSetNode)
	if !ok {
		return nil, qerr.New(qerr.Internal, "view %s.%s is not a query", t.Schema, t.Name)
	}
	saved, savedSchema := b.ctes, b.env.CurrentSchema
	b.ctes, b.env.CurrentSchema = nil, t.Schema
	b.depth++
	defer func() { b.ctes, b.env.CurrentSchema, b.depth = saved, savedSchema, b.depth-1 }()
	n, err := b.bindQuery(rs, nil, nil)
	if err != nil {
		if qerr.KindOf(err) == qerr.NotFound { // a table, column or function gone since CREATE VIEW
			return nil, qerr.Wrap(qerr.NotFound, err, "View '%s.%s' references invalid table(s) or column(s) or function(s) or definer/invoker of view lack rights to use them", t.Schema, t.Name)
		}
		return nil, err
	}
	if t.Columns != nil && t.Columns.NumFields() == n.Schema().Len() {
		names := make([]string, t.Columns.NumFields())
		same := true
		for i, f := range t.Columns.Fields() {
			names[i] = f.Name
			same = same && f.Name == n.Schema().Fields[i].Name
		}
		if !same {
			return rename(n, names)
		}
	}
	return n, nil
}

func (b *Binder) bindJoin(j *ast.Join, parent *scope, outer *[]*ColumnRef) (Node, []scopeCol, error) {
	left, lcols, err := b.bindFrom(j.Left, parent, outer)
	if err != nil {
		return nil, nil, err
	}
	right, rcols, err := b.bindFrom(j.Right, parent, outer)
	if err != nil {
		return nil, nil, err
	}
	for _, l := range lcols {
		for _, r := range rcols {
			if l.Qualifier != "" && strings.EqualFold(l.Qualifier, r.Qualifier) && strings.EqualFold(l.db, r.db) && l.Name == r.Name {
				return nil, nil, qerr.New(qerr.InvalidArgument, "Not unique table/alias: '%s'", l.Qualifier)
			}
		}
	}
	jt := InnerJoin
	switch j.Tp {
	case ast.LeftJoin:
		jt = LeftJoin
	case ast.RightJoin:
		jt = RightJoin
	default:
		if j.On == nil && len(j.Using) == 0 && !j.NaturalJoin {
			jt = CrossJoin
		}
	}
	join := &Join{Left: left, Right: right, Type: jt}
	// Nullability as the join makes it.
	for i := range lcols {
		lcols[i].Nullable = lcols[i].Nullable || jt == RightJoin
	}
	for i := range rcols {
		rcols[i].Nullable = rcols[i].Nullable || jt == LeftJoin
	}
	// MySQL runs a RIGHT JOIN as a LEFT JOIN with the operands swapped: the
	// common columns and then the other columns come right side first.
	first, second := lcols, rcols
	if jt == RightJoin {
		first, second = rcols, lcols
	}
	var using []string
	if j.NaturalJoin {
		for _, l := range first {
			if l.usingDup {
				continue
			}
			for _, r := range second {
				if !r.usingDup && strings.EqualFold(l.Name, r.Name) {
					using = append(using, l.Name)
				}
			}
		}
	}
	for _, u := range j.Using {
		using = append(using, u.Name.O)
	}
	cols := append(append([]scopeCol{}, lcols...), rcols...)
	if len(using) > 0 {
		var conds []Expr
		var merged, rest []scopeCol
		usedL, usedR := map[ColumnID]bool{}, map[ColumnID]bool{}
		for _, name := range using {
			cn := &ast.ColumnName{Name: ast.NewCIStr(name)}
			lm := (&scope{cols: lcols}).match("", "", cn.Name.L)
			rm := (&scope{cols: rcols}).match("", "", cn.Name.L)
			if len(lm) != 1 || len(rm) != 1 {
				if len(lm) > 1 || len(rm) > 1 {
					return nil, nil, qerr.New(qerr.InvalidArgument, "Column '%s' in from clause is ambiguous", name)
				}
				return nil, nil, unknownColumn(cn, "from clause")
			}
			eq, err := b.call("=", []Expr{lm[0].ref(), rm[0].ref()})
			if err != nil {
				return nil, nil, err
			}
			conds = append(conds, eq)
			// The merged column is the side that is never NULL-extended
			// (MySQL's COALESCE(l, r) for LEFT, COALESCE(r, l) for RIGHT).
			keep, dup := lm[0], rm[0]
			if jt == RightJoin {
				keep, dup = rm[0], lm[0]
			}
			usedL[lm[0].ID], usedR[rm[0].ID] = true, true
			merged = append(merged, keep)
			dup.usingDup = true
			rest = append(rest, dup)
		}
		var others []scopeCol
		for _, side := range [][]scopeCol{first, second} {
			for _, c := range side {
				if !usedL[c.ID] && !usedR[c.ID] {
					others = append(others, c)
				}
			}
		}
		cols = append(append(merged, others...), rest...)
		join.Condition = conjunction(conds)
		if join.Type == CrossJoin {
			join.Type = InnerJoin
		}
	}
	if j.On != nil {
		sc := &scope{cols: cols, parent: parent, outer: outer}
		c, err := b.bindPredicate(j.On.Expr, &exprCtx{scope: sc, clause: "on clause"})
		if err != nil {
			return nil, nil, err
		}
		if join.Condition != nil {
			c, err = b.call("and", []Expr{join.Condition, c})
			if err != nil {
				return nil, nil, err
			}
		}
		join.Condition = c
	}
	return join, cols, nil
}

func conjunction(es []Expr) Expr {
	if len(es) == 0 {
		return nil
	}
	out := es[0]
	for _, e := range es[1:] {
		out = &Call{Func: "and", Args: []Expr{out, e}, Type: arrow.FixedWidthTypes.Boolean}
	}
	return out
}
