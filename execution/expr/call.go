package expr

// kernels binds each canonical function name to its kernel; keys match the
// registry (typing) table.
var kernels = map[string]binder{
	"+": bindArith, "-": bindArith, "*": bindArith, "/": bindArith, "div": bindArith, "%": bindArith,
	"neg": bindNeg,

	"=": bindCmp, "<>": bindCmp, "<": bindCmp, "<=": bindCmp, ">": bindCmp, ">=": bindCmp, "<=>": bindCmp,

	"and": bindLogic, "or": bindLogic, "xor": bindLogic, "not": bindLogic,
	"is_null": bindTest, "is_not_null": bindTest, "is_true": bindTest, "is_not_true": bindTest,
	"is_false": bindTest, "is_not_false": bindTest,

	"like": bindLike, "regexp": bindRegexp, "in": bindIn,

	"coalesce": bindCoalesce, "greatest": bindExtreme, "least": bindExtreme, "nullif": bindNullif,
}
