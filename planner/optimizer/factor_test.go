package optimizer

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/planner/logical"
)

func TestFactorOr(t *testing.T) {
	col := func(id int, name string) logical.Expr {
		return &logical.ColumnRef{ID: logical.ColumnID(id), Name: name, Type: arrow.FixedWidthTypes.Boolean}
	}
	or := func(a, b logical.Expr) *logical.Call {
		return &logical.Call{Func: "or", Args: []logical.Expr{a, b}, Type: boolType}
	}
	a, b, c, d := col(1, "a"), col(2, "b"), col(3, "c"), col(4, "d")
	for _, tc := range []struct {
		name string
		in   *logical.Call
		want string // "" = not factored
	}{
		{"shared conjunct", or(andOf([]logical.Expr{a, b}), andOf([]logical.Expr{a, c})), "(a#1 and (b#2 or c#3))"},
		{"three disjuncts", or(or(andOf([]logical.Expr{a, b}), andOf([]logical.Expr{c, a})), andOf([]logical.Expr{a, d})), "(a#1 and ((b#2 or c#3) or d#4))"},
		{"absorbed", or(a, andOf([]logical.Expr{a, b})), "a#1"},
		{"nothing shared", or(andOf([]logical.Expr{a, b}), andOf([]logical.Expr{c, d})), ""},
	} {
		got, ok := factorOr(tc.in)
		if !ok {
			if tc.want != "" {
				t.Errorf("%s: not factored, want %s", tc.name, tc.want)
			}
			continue
		}
		if tc.want == "" || got.String() != tc.want {
			t.Errorf("%s: got %s, want %q", tc.name, got, tc.want)
		}
	}
}
