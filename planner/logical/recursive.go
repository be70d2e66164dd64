package logical

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/qerr"
)

// bindRecursiveCTE binds a WITH RECURSIVE entry that references itself:
// non-recursive query blocks (the anchor) UNION [ALL|DISTINCT] recursive
// blocks, each reading the CTE exactly once (as a WorkTable). Column names
// come from the column list or the anchor, types from the anchor alone (the
// recursive rows are cast to them), as in MySQL.
func (b *Binder) bindRecursiveCTE(d *cteDef) (Node, error) {
	if b.depth > maxNesting {
		return nil, qerr.New(qerr.InvalidArgument, "view or common table expression nesting is too deep")
	}
	saved := b.ctes
	b.depth++
	defer func() { b.ctes, b.depth = saved, b.depth-1 }()
	name := d.def.Name.O
	q, ok := d.def.Query.Query.(*ast.SetOprStmt)
	if !ok || q.SelectList == nil {
		return nil, qerr.New(qerr.InvalidArgument, "Recursive Common Table Expression '%s' should contain a UNION", name)
	}
	if q.OrderBy != nil || q.Limit != nil {
		return nil, qerr.New(qerr.Unimplemented, "This version of MySQL doesn't yet support 'ORDER BY / LIMIT over UNION in recursive Common Table Expression'")
	}
	sels := q.SelectList.Selects
	first := len(sels)
	for i, s := range sels {
		if referencesTable(s, d.name) {
			first = i
			break
		}
	}
	if first == 0 || first == len(sels) {
		return nil, qerr.New(qerr.InvalidArgument, "Recursive Common Table Expression '%s' should have one or more non-recursive query blocks followed by one or more recursive ones", name)
	}
	distinct := false
	for _, s := range sels[first:] {
		sel, ok := s.(*ast.SelectStmt)
		if !ok {
			return nil, qerr.New(qerr.Unimplemented, "parenthesized set operations in the recursive part of Recursive Common Table Expression '%s' are not supported", name)
		}
		if !referencesTable(sel, d.name) {
			return nil, qerr.New(qerr.InvalidArgument, "Recursive Common Table Expression '%s' should have one or more non-recursive query blocks followed by one or more recursive ones", name)
		}
		if op := sel.AfterSetOperator; op != nil {
			switch *op {
			case ast.Union:
				distinct = true
			case ast.UnionAll:
			default:
				return nil, qerr.New(qerr.Unimplemented, "INTERSECT and EXCEPT in Recursive Common Table Expression '%s' are not supported", name)
			}
		}
		if n, inSub := tableRefs(sel, d.name); n != 1 || inSub {
			return nil, qerr.New(qerr.InvalidArgument, "In recursive query block of Recursive Common Table Expression '%s', the recursive table must be referenced only once, and not in any subquery", name)
		}
		if sel.GroupBy != nil || sel.Distinct || hasAggregate(sel.Fields, sel.Having) || hasWindow(sel.Fields) {
			return nil, qerr.New(qerr.InvalidArgument, "Recursive Common Table Expression '%s' can contain neither aggregation nor window functions in recursive query block", name)
		}
		if sel.OrderBy != nil || sel.Limit != nil {
			return nil, qerr.New(qerr.Unimplemented, "This version of MySQL doesn't yet support 'ORDER BY / LIMIT in the recursive query block of Common Table Expression'")
		}
	}

	b.ctes = d.prev
	anchor, err := b.bindBlocks(sels[:first])
	if err != nil {
		return nil, err
	}
	af := anchor.Schema().Fields
	names := make([]string, len(af))
	for i, f := range af {
		names[i] = f.Name
	}
	if cl := d.def.ColNameList; len(cl) > 0 {
		if len(cl) != len(af) {
			return nil, qerr.New(qerr.InvalidArgument, "In definition of view, derived table or common table expression, SELECT list and column names list have different column counts")
		}
		for i, c := range cl {
			names[i] = c.O
		}
	}
	types := make([]arrow.DataType, len(af))
	work := &WorkTable{Work: int(b.NewID())}
	out := &RecursiveCTE{Name: name, Work: work.Work, Distinct: distinct}
	for i, f := range af {
		types[i] = f.Type
		// Recursive rows may bring NULLs the anchor had none of.
		work.Fields = append(work.Fields, Field{Name: names[i], Type: f.Type, Nullable: true})
		out.Fields = append(out.Fields, Field{ID: b.NewID(), Name: names[i], Type: f.Type, Nullable: true})
	}

	b.ctes = &cteDef{name: d.name, def: d.def, prev: d.prev, recursive: true, work: work}
	rec, err := b.bindBlocks(sels[first:])
	if err != nil {
		return nil, err
	}
	if rec.Schema().Len() != len(af) {
		return nil, qerr.New(qerr.InvalidArgument, "The used SELECT statements have a different number of columns")
	}
	out.Anchor, out.Recursive = anchor, castColumns(rec, types, b)
	return out, nil
}

// bindBlocks binds query blocks combined by their set operators.
func (b *Binder) bindBlocks(sels []ast.Node) (Node, error) {
	if len(sels) == 1 {
		return b.bindQuery(sels[0], nil, nil)
	}
	return b.bindSetOprList(&ast.SetOprSelectList{Selects: sels}, nil, nil, nil, nil)
}

// referencesTable reports whether n names the unqualified table name.
func referencesTable(n ast.Node, name string) bool {
	c, _ := tableRefs(n, name)
	return c > 0
}

// tableRefs counts references to the unqualified table name in n and
// whether one of them is inside an expression subquery.
func tableRefs(n ast.Node, name string) (int, bool) {
	v := &tableRefFinder{name: name}
	n.Accept(v)
	return v.count, v.inSub
}

type tableRefFinder struct {
	name  string
	count int
	depth int // expression subqueries entered
	inSub bool
}

func (v *tableRefFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.SubqueryExpr:
		v.depth++
	case *ast.TableName:
		if x.Schema.L == "" && x.Name.L == v.name {
			v.count++
			v.inSub = v.inSub || v.depth > 0
		}
	}
	return n, false
}

func (v *tableRefFinder) Leave(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*ast.SubqueryExpr); ok {
		v.depth--
	}
	return n, true
}
