package expr

// SortKey is one ordering key (MySQL: NULLs first ascending, last descending;
// the planner sets NullsFirst explicitly).
type SortKey struct {
	Expr       Expr
	Desc       bool
	NullsFirst bool
}
