package logical

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/qerr"
)

// scopeCol is a column visible to name resolution.
type scopeCol struct {
	Field
	db string // schema of the table it comes from ("" for derived/computed)
	// usingDup marks the second copy of a USING/NATURAL join column: it is
	// reachable only by its qualified name and not expanded by `*`.
	usingDup bool
}

func (c scopeCol) ref() *ColumnRef {
	return &ColumnRef{ID: c.ID, Name: c.Name, Type: c.Type, Nullable: c.Nullable}
}

// scope is the set of columns of one FROM clause. parent is the enclosing
// query's scope (subqueries see it: correlation); outer collects the
// correlated references resolved through this scope boundary.
type scope struct {
	cols   []scopeCol
	parent *scope
	outer  *[]*ColumnRef
}

func (s *scope) match(db, tbl, name string) []scopeCol {
	var out []scopeCol
	for _, c := range s.cols {
		if !strings.EqualFold(c.Name, name) {
			continue
		}
		if tbl == "" && c.usingDup {
			continue
		}
		if tbl != "" && !strings.EqualFold(c.Qualifier, tbl) {
			continue
		}
		if db != "" && !strings.EqualFold(c.db, db) {
			continue
		}
		out = append(out, c)
	}
	return out
}

// resolve finds a column by (possibly qualified) name in s or an enclosing
// scope. found=false means no such column anywhere.
func (s *scope) resolve(cn *ast.ColumnName, clause string) (*ColumnRef, bool, error) {
	for cur := s; cur != nil; cur = cur.parent {
		m := cur.match(cn.Schema.L, cn.Table.L, cn.Name.L)
		if len(m) > 1 {
			return nil, false, qerr.New(qerr.InvalidArgument, "Column '%s' in %s is ambiguous", colText(cn), clause)
		}
		if len(m) == 1 {
			ref := m[0].ref()
			for t := s; t != cur; t = t.parent {
				if t.outer != nil {
					addOuter(t.outer, ref)
				}
			}
			return ref, true, nil
		}
	}
	return nil, false, nil
}

func addOuter(list *[]*ColumnRef, ref *ColumnRef) {
	for _, r := range *list {
		if r.ID == ref.ID {
			return
		}
	}
	*list = append(*list, ref)
}

// has reports whether the column ID belongs to this scope (not a parent).
func (s *scope) has(id ColumnID) bool {
	for _, c := range s.cols {
		if c.ID == id {
			return true
		}
	}
	return false
}

func colText(cn *ast.ColumnName) string {
	parts := []string{}
	if cn.Schema.O != "" {
		parts = append(parts, cn.Schema.O)
	}
	if cn.Table.O != "" {
		parts = append(parts, cn.Table.O)
	}
	return strings.Join(append(parts, cn.Name.O), ".")
}

func unknownColumn(cn *ast.ColumnName, clause string) error {
	return qerr.New(qerr.NotFound, "Unknown column '%s' in '%s'", colText(cn), clause)
}
