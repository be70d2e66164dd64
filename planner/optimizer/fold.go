package optimizer

import (
	"context"

	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/planner/physical"
)

// foldConstants evaluates literal-only subexpressions, simplifies AND/OR/NOT
// with SQL three-valued logic, and removes filters that are always true (or
// empties those never true).
type foldConstants struct{}

func (foldConstants) Name() string { return "fold_constants" }

func (r foldConstants) Apply(ctx context.Context, root logical.Node) (logical.Node, bool, error) {
	out, err := transformUp(root, func(n logical.Node) (logical.Node, error) {
		n, err := mapExprs(n, func(e logical.Expr) (logical.Expr, error) { return foldExpr(e), nil })
		if err != nil {
			return nil, err
		}
		switch x := n.(type) {
		case *logical.Filter:
			if v, null, ok := litBool(x.Predicate); ok {
				if v && !null {
					return x.Input, nil
				}
				return &logical.Values{Fields: x.Input.Schema().Fields}, nil
			}
		case *logical.Join:
			if v, null, ok := litBool(x.Condition); ok && v && !null {
				c := *x
				c.Condition = nil
				return &c, nil
			}
		case *logical.Scan:
			var keep []logical.Expr
			for _, f := range x.Filters {
				if v, null, ok := litBool(f); ok {
					if v && !null {
						continue
					}
					return &logical.Values{Fields: x.Fields}, nil
				}
				keep = append(keep, f)
			}
			if len(keep) != len(x.Filters) {
				c := *x
				c.Filters = keep
				return &c, nil
			}
		}
		return n, nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, changedPlan(root, out), nil
}

// foldExpr simplifies e bottom-up.
func foldExpr(e logical.Expr) logical.Expr {
	out, _ := rewriteExpr(e, func(x logical.Expr) (logical.Expr, error) { return foldNode(x), nil })
	return out
}

func foldNode(e logical.Expr) logical.Expr {
	switch x := e.(type) {
	case *logical.Call:
		switch x.Func {
		case "and":
			return simplifyAndOr(x)
		case "or":
			if f, ok := factorOr(x); ok {
				return f
			}
			return simplifyAndOr(x)
		case "not":
			if inner, ok := x.Args[0].(*logical.Call); ok && inner.Func == "not" {
				return inner.Args[0] // NOT NOT x = x, NULL included
			}
		}
		if len(x.Args) == 0 || expr.Volatile(x.Func) {
			return e // rand(), rand(seed), uuid(): not constant per row
		}
	case *logical.Case:
		return simplifyCase(x)
	case *logical.Cast:
	default:
		return e
	}
	for _, c := range e.Children() {
		if _, ok := c.(*logical.Literal); !ok {
			return e
		}
	}
	v, err := evalScalar(e)
	if err != nil || v == nil {
		return e // errors (e.g. overflow) surface at run time, per row
	}
	return &logical.Literal{Value: v}
}

// evalScalar evaluates a literal-only expression, guarding against panics
// of the expression package on unusual input.
func evalScalar(e logical.Expr) (v scalarValue, err error) {
	defer func() {
		if r := recover(); r != nil {
			v, err = nil, errFold
		}
	}()
	pe, err := physical.ToExpr(e, logical.NewSchema())
	if err != nil {
		return nil, err
	}
	return expr.EvalScalar(pe)
}

// simplifyAndOr drops neutral literals and short-circuits on the absorbing
// one: x AND FALSE = FALSE and x OR TRUE = TRUE even when x is NULL.
func simplifyAndOr(c *logical.Call) logical.Expr {
	absorbing := c.Func == "or" // TRUE absorbs OR, FALSE absorbs AND
	var keep []logical.Expr
	sawNull := false
	for _, a := range c.Args {
		if v, null, ok := litBool(a); ok {
			switch {
			case null:
				sawNull = true
				continue
			case v == absorbing:
				return boolLit(absorbing)
			default:
				continue // neutral
			}
		}
		keep = append(keep, a)
	}
	if sawNull {
		keep = append(keep, &logical.Literal{Value: nullBool()})
	}
	switch len(keep) {
	case 0:
		return boolLit(!absorbing)
	case 1:
		return keep[0]
	}
	if len(keep) == len(c.Args) {
		return c
	}
	out := keep[0]
	for _, k := range keep[1:] {
		out = &logical.Call{Func: c.Func, Args: []logical.Expr{out, k}, Type: c.Type}
	}
	return out
}

// factorOr pulls the conjuncts every disjunct shares out of an OR:
// (a AND b) OR (a AND c) = a AND (b OR c), which holds in three-valued logic
// too. It turns TPC-H Q19's join key, repeated in each disjunct, into an
// equi-join condition instead of a nested-loop join over the whole OR.
func factorOr(c *logical.Call) (logical.Expr, bool) {
	disjuncts := splitOr(c)
	parts := make([][]logical.Expr, len(disjuncts))
	for i, d := range disjuncts {
		parts[i] = logical.SplitAnd(d)
	}
	var common []logical.Expr
	for _, cand := range parts[0] {
		key := cand.String()
		inAll := true
		for _, p := range parts[1:] {
			if !containsExpr(p, key) {
				inAll = false
				break
			}
		}
		if inAll && !containsExpr(common, key) {
			common = append(common, cand)
		}
	}
	if len(common) == 0 {
		return nil, false
	}
	var rest []logical.Expr
	for _, p := range parts {
		var r []logical.Expr
		for _, e := range p {
			if !containsExpr(common, e.String()) {
				r = append(r, e)
			}
		}
		if len(r) == 0 {
			// One disjunct is just the common part: the OR adds nothing.
			return andOf(common), true
		}
		rest = append(rest, andOf(r))
	}
	or := rest[0]
	for _, r := range rest[1:] {
		or = &logical.Call{Func: "or", Args: []logical.Expr{or, r}, Type: c.Type}
	}
	return andOf(append(common, or)), true
}

func splitOr(e logical.Expr) []logical.Expr {
	if c, ok := e.(*logical.Call); ok && c.Func == "or" {
		var out []logical.Expr
		for _, a := range c.Args {
			out = append(out, splitOr(a)...)
		}
		return out
	}
	return []logical.Expr{e}
}

func containsExpr(es []logical.Expr, key string) bool {
	for _, e := range es {
		if e.String() == key {
			return true
		}
	}
	return false
}

// simplifyCase drops WHEN branches that are constant false/NULL and stops at
// a constant TRUE one.
func simplifyCase(c *logical.Case) logical.Expr {
	n := &logical.Case{Type: c.Type, Else: c.Else}
	for i, w := range c.Whens {
		if v, null, ok := litBool(w); ok {
			if v && !null {
				if len(n.Whens) == 0 {
					return c.Thens[i]
				}
				n.Else = c.Thens[i]
				return n
			}
			continue
		}
		n.Whens = append(n.Whens, w)
		n.Thens = append(n.Thens, c.Thens[i])
	}
	if len(n.Whens) == len(c.Whens) {
		return c
	}
	if len(n.Whens) == 0 {
		if n.Else == nil {
			return c // typed NULL of Type: leave it to the evaluator
		}
		return n.Else
	}
	return n
}
