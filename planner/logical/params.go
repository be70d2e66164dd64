package logical

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/qerr"
)

// BindParams returns n with every Param replaced by a Literal of values[Index]
// (cast to the parameter's type when it has one), descending into subquery
// plans.
func BindParams(n Node, values []scalar.Scalar) (Node, error) {
	count := countParams(n)
	if count != len(values) {
		return nil, qerr.New(qerr.InvalidArgument, "Incorrect arguments to mysqld_stmt_execute: expected %d parameters, got %d", count, len(values))
	}
	if count == 0 {
		return n, nil
	}
	return rewriteNodeExprs(n, func(e Expr) (Expr, error) {
		p, ok := e.(*Param)
		if !ok {
			return e, nil
		}
		v := values[p.Index]
		if v == nil {
			v = scalar.MakeNullScalar(arrow.Null)
		}
		lit := &Literal{Value: v}
		if p.Type == nil || p.Type.ID() == arrow.NULL || arrow.TypeEqual(p.Type, v.DataType()) {
			return lit, nil
		}
		if !v.IsValid() {
			return nullLiteral(p.Type), nil
		}
		return &Cast{Expr: lit, Type: p.Type}, nil
	})
}

// countParams is the number of distinct parameter indexes in n.
func countParams(n Node) int {
	seen := map[int]bool{}
	_, _ = rewriteNodeExprs(n, func(e Expr) (Expr, error) {
		if p, ok := e.(*Param); ok {
			seen[p.Index] = true
		}
		return e, nil
	})
	return len(seen)
}

// rewriteNodeExprs applies f bottom-up to every expression of every node
// (including subquery plans, aggregate and window arguments).
func rewriteNodeExprs(n Node, f func(Expr) (Expr, error)) (Node, error) {
	ch := n.Children()
	nch := make([]Node, len(ch))
	for i, c := range ch {
		x, err := rewriteNodeExprs(c, f)
		if err != nil {
			return nil, err
		}
		nch[i] = x
	}
	re := func(e Expr) (Expr, error) { return rewriteExpr(e, f) }
	res := func(es []Expr) ([]Expr, error) {
		out := make([]Expr, len(es))
		for i, e := range es {
			x, err := re(e)
			if err != nil {
				return nil, err
			}
			out[i] = x
		}
		return out, nil
	}
	sorts := func(ks []SortExpr) ([]SortExpr, error) {
		out := make([]SortExpr, len(ks))
		for i, k := range ks {
			x, err := re(k.Expr)
			if err != nil {
				return nil, err
			}
			k.Expr = x
			out[i] = k
		}
		return out, nil
	}
	var err error
	switch x := n.(type) {
	case *Scan:
		c := *x
		c.Filters, err = res(x.Filters)
		return &c, err
	case *Values:
		c := *x
		c.Rows = make([][]Expr, len(x.Rows))
		for i, r := range x.Rows {
			if c.Rows[i], err = res(r); err != nil {
				return nil, err
			}
		}
		return &c, nil
	case *Filter:
		p, err := re(x.Predicate)
		return &Filter{Input: nch[0], Predicate: p}, err
	case *Project:
		es, err := res(x.Exprs)
		return &Project{Input: nch[0], Exprs: es, Fields: x.Fields}, err
	case *Aggregate:
		c := *x
		c.Input = nch[0]
		if c.GroupBy, err = res(x.GroupBy); err != nil {
			return nil, err
		}
		c.Aggs = make([]*AggregateCall, len(x.Aggs))
		for i, a := range x.Aggs {
			ac := *a
			if ac.Args, err = res(a.Args); err != nil {
				return nil, err
			}
			if a.Filter != nil {
				if ac.Filter, err = re(a.Filter); err != nil {
					return nil, err
				}
			}
			if ac.OrderBy, err = sorts(a.OrderBy); err != nil {
				return nil, err
			}
			c.Aggs[i] = &ac
		}
		return &c, nil
	case *Join:
		c := *x
		c.Left, c.Right = nch[0], nch[1]
		if x.Condition != nil {
			c.Condition, err = re(x.Condition)
		}
		return &c, err
	case *Sort:
		ks, err := sorts(x.Keys)
		return &Sort{Input: nch[0], Keys: ks}, err
	case *Window:
		c := *x
		c.Input = nch[0]
		c.Funcs = make([]*WindowCall, len(x.Funcs))
		for i, w := range x.Funcs {
			wc := *w
			if wc.Args, err = res(w.Args); err != nil {
				return nil, err
			}
			if wc.PartitionBy, err = res(w.PartitionBy); err != nil {
				return nil, err
			}
			if wc.OrderBy, err = sorts(w.OrderBy); err != nil {
				return nil, err
			}
			c.Funcs[i] = &wc
		}
		return &c, nil
	}
	return n.WithChildren(nch...)
}

// rewriteExpr applies f bottom-up, descending into subquery plans.
func rewriteExpr(e Expr, f func(Expr) (Expr, error)) (Expr, error) {
	if s, ok := e.(*Subquery); ok {
		c := *s
		p, err := rewriteNodeExprs(s.Plan, f)
		if err != nil {
			return nil, err
		}
		c.Plan = p
		if s.Needles != nil {
			c.Needles = make([]Expr, len(s.Needles))
			for i, n := range s.Needles {
				if c.Needles[i], err = rewriteExpr(n, f); err != nil {
					return nil, err
				}
			}
		}
		return f(&c)
	}
	ch := e.Children()
	if len(ch) > 0 {
		nch := make([]Expr, len(ch))
		for i, c := range ch {
			x, err := rewriteExpr(c, f)
			if err != nil {
				return nil, err
			}
			nch[i] = x
		}
		var err error
		if e, err = e.WithChildren(nch...); err != nil {
			return nil, err
		}
	}
	return f(e)
}
