package optimizer

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/planner/logical"
)

var boolType = arrow.FixedWidthTypes.Boolean

// andOf conjoins es (nil when empty).
func andOf(es []logical.Expr) logical.Expr {
	if len(es) == 0 {
		return nil
	}
	e := es[0]
	for _, x := range es[1:] {
		e = &logical.Call{Func: "and", Args: []logical.Expr{e, x}, Type: boolType}
	}
	return e
}

func eq(a, b logical.Expr) logical.Expr {
	return &logical.Call{Func: "=", Args: []logical.Expr{a, b}, Type: boolType}
}

func colRef(f logical.Field) *logical.ColumnRef {
	return &logical.ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable}
}

func boolLit(v bool) *logical.Literal { return &logical.Literal{Value: scalar.NewBooleanScalar(v)} }

// litBool reports the value of a boolean literal: (value, isNull, isLiteral).
func litBool(e logical.Expr) (bool, bool, bool) {
	l, ok := e.(*logical.Literal)
	if !ok {
		return false, false, false
	}
	if !l.Value.IsValid() {
		return false, true, true
	}
	b, ok := l.Value.(*scalar.Boolean)
	if !ok {
		return false, false, false
	}
	return b.Value, false, true
}

type idSet map[logical.ColumnID]bool

func schemaIDs(s *logical.Schema) idSet {
	out := idSet{}
	for _, f := range s.Fields {
		out[f.ID] = true
	}
	return out
}

// refs collects the column IDs e references (not descending into
// subquery plans, whose outer references are listed in OuterRefs).
func refs(e logical.Expr, into idSet) idSet {
	if into == nil {
		into = idSet{}
	}
	if e == nil {
		return into
	}
	switch x := e.(type) {
	case *logical.ColumnRef:
		into[x.ID] = true
	case *logical.Subquery:
		for _, r := range x.OuterRefs {
			into[r.ID] = true
		}
	}
	for _, c := range e.Children() {
		refs(c, into)
	}
	return into
}

func (s idSet) within(o idSet) bool {
	for id := range s {
		if !o[id] {
			return false
		}
	}
	return true
}

func (s idSet) intersects(o idSet) bool {
	for id := range s {
		if o[id] {
			return true
		}
	}
	return false
}

func hasSubquery(e logical.Expr) bool {
	if e == nil {
		return false
	}
	if _, ok := e.(*logical.Subquery); ok {
		return true
	}
	for _, c := range e.Children() {
		if hasSubquery(c) {
			return true
		}
	}
	return false
}

// rewriteExpr rebuilds e bottom-up through f.
func rewriteExpr(e logical.Expr, f func(logical.Expr) (logical.Expr, error)) (logical.Expr, error) {
	if e == nil {
		return nil, nil
	}
	ch := e.Children()
	if len(ch) > 0 {
		nc := make([]logical.Expr, len(ch))
		changed := false
		for i, c := range ch {
			x, err := rewriteExpr(c, f)
			if err != nil {
				return nil, err
			}
			nc[i] = x
			changed = changed || x != c
		}
		if changed {
			var err error
			if e, err = e.WithChildren(nc...); err != nil {
				return nil, err
			}
		}
	}
	return f(e)
}

// substitute replaces column references by the expressions in m.
func substitute(e logical.Expr, m map[logical.ColumnID]logical.Expr) logical.Expr {
	out, _ := rewriteExpr(e, func(x logical.Expr) (logical.Expr, error) {
		if c, ok := x.(*logical.ColumnRef); ok {
			if r, ok := m[c.ID]; ok {
				return r, nil
			}
		}
		return x, nil
	})
	return out
}

// forEachExpr calls f on every top-level expression a node holds.
func forEachExpr(n logical.Node, f func(logical.Expr)) {
	_, _ = mapExprs(n, func(e logical.Expr) (logical.Expr, error) { f(e); return e, nil })
}

// mapExprs returns a copy of n with every top-level expression replaced by f.
func mapExprs(n logical.Node, f func(logical.Expr) (logical.Expr, error)) (logical.Node, error) {
	var err error
	m := func(e logical.Expr) logical.Expr {
		if e == nil || err != nil {
			return e
		}
		var out logical.Expr
		out, err = f(e)
		return out
	}
	ms := func(es []logical.Expr) []logical.Expr {
		out := make([]logical.Expr, len(es))
		for i, e := range es {
			out[i] = m(e)
		}
		return out
	}
	msort := func(ks []logical.SortExpr) []logical.SortExpr {
		out := make([]logical.SortExpr, len(ks))
		for i, k := range ks {
			k.Expr = m(k.Expr)
			out[i] = k
		}
		return out
	}
	switch x := n.(type) {
	case *logical.Scan:
		c := *x
		c.Filters = ms(x.Filters)
		n = &c
	case *logical.Values:
		c := *x
		c.Rows = make([][]logical.Expr, len(x.Rows))
		for i, r := range x.Rows {
			c.Rows[i] = ms(r)
		}
		n = &c
	case *logical.Filter:
		n = &logical.Filter{Input: x.Input, Predicate: m(x.Predicate)}
	case *logical.Project:
		n = &logical.Project{Input: x.Input, Exprs: ms(x.Exprs), Fields: x.Fields}
	case *logical.Aggregate:
		c := *x
		c.GroupBy = ms(x.GroupBy)
		c.Aggs = make([]*logical.AggregateCall, len(x.Aggs))
		for i, a := range x.Aggs {
			na := *a
			na.Args = ms(a.Args)
			na.Filter = m(a.Filter)
			na.OrderBy = msort(a.OrderBy)
			c.Aggs[i] = &na
		}
		n = &c
	case *logical.Join:
		c := *x
		c.Condition = m(x.Condition)
		n = &c
	case *logical.Sort:
		n = &logical.Sort{Input: x.Input, Keys: msort(x.Keys)}
	case *logical.Window:
		c := *x
		c.Funcs = make([]*logical.WindowCall, len(x.Funcs))
		for i, w := range x.Funcs {
			nw := *w
			nw.Args = ms(w.Args)
			nw.PartitionBy = ms(w.PartitionBy)
			nw.OrderBy = msort(w.OrderBy)
			c.Funcs[i] = &nw
		}
		n = &c
	}
	return n, err
}

// transformUp rebuilds the tree bottom-up through f.
func transformUp(n logical.Node, f func(logical.Node) (logical.Node, error)) (logical.Node, error) {
	ch := n.Children()
	if len(ch) > 0 {
		nc := make([]logical.Node, len(ch))
		changed := false
		for i, c := range ch {
			x, err := transformUp(c, f)
			if err != nil {
				return nil, err
			}
			nc[i] = x
			changed = changed || x != c
		}
		if changed {
			var err error
			if n, err = n.WithChildren(nc...); err != nil {
				return nil, err
			}
		}
	}
	return f(n)
}

// restoreSchema projects n onto the columns of want when its schema differs.
func restoreSchema(n logical.Node, want *logical.Schema) logical.Node {
	have := n.Schema()
	if sameSchema(have, want) {
		return n
	}
	es := make([]logical.Expr, len(want.Fields))
	for i, f := range want.Fields {
		es[i] = colRef(f)
	}
	return &logical.Project{Input: n, Exprs: es, Fields: want.Fields}
}

func sameSchema(a, b *logical.Schema) bool {
	if len(a.Fields) != len(b.Fields) {
		return false
	}
	for i := range a.Fields {
		if a.Fields[i].ID != b.Fields[i].ID || a.Fields[i].Name != b.Fields[i].Name {
			return false
		}
	}
	return true
}
