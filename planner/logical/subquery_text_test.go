package logical

import (
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/planner/parse"
)

func TestSubqueryText(t *testing.T) {
	stmt, err := parse.ParseOne("SELECT (SELECT 'a?' FROM t WHERE b = ? AND `c?` = ?), (SELECT 1 FROM t WHERE b = ?)")
	if err != nil {
		t.Fatal(err)
	}
	sel := stmt.(*ast.SelectStmt)
	var got []string
	for _, f := range sel.Fields.Fields {
		got = append(got, subqueryText(f.Expr.(*ast.SubqueryExpr).Query))
	}
	want := []string{
		"SELECT _UTF8MB4'a?' FROM `t` WHERE `b`=param@37 AND `c?`=param@50",
		"SELECT 1 FROM `t` WHERE `b`=param@81",
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("subquery %d: got %q, want %q", i, got[i], want[i])
		}
	}
}
