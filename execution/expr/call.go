package expr

// kernels binds each canonical function name to its kernel; keys match the
// registry (typing) table (TestRegistryComplete checks it).
var kernels = mergeKernels(coreKernels, strKernels, dateKernels, mathKernels, miscKernels, timeKernels, moreKernels)

var coreKernels = map[string]binder{
	"+": bindArith, "-": bindArith, "*": bindArith, "/": bindArith, "div": bindArith, "%": bindArith,
	"neg": bindNeg,

	"=": bindCmp, "<>": bindCmp, "<": bindCmp, "<=": bindCmp, ">": bindCmp, ">=": bindCmp, "<=>": bindCmp,

	"and": bindLogic, "or": bindLogic, "xor": bindLogic, "not": bindLogic,
	"is_null": bindTest, "is_not_null": bindTest, "is_true": bindTest, "is_not_true": bindTest,
	"is_false": bindTest, "is_not_false": bindTest,

	"like": bindLike, "regexp": bindRegexp, "in": bindIn,

	"coalesce": bindCoalesce, "greatest": bindExtreme, "least": bindExtreme, "nullif": bindNullif,

	"&": bindBitwise, "|": bindBitwise, "^": bindBitwise, "<<": bindBitwise, ">>": bindBitwise, "~": bindBitwise,
}

var mathKernels = map[string]binder{
	"power": bindFloatFn, "sqrt": bindFloatFn, "exp": bindFloatFn, "ln": bindFloatFn, "log": bindFloatFn,
	"log2": bindFloatFn, "log10": bindFloatFn, "pi": bindFloatFn, "sin": bindFloatFn, "cos": bindFloatFn,
	"tan": bindFloatFn, "cot": bindFloatFn, "asin": bindFloatFn, "acos": bindFloatFn, "atan": bindFloatFn, "atan2": bindFloatFn,
	"degrees": bindFloatFn, "radians": bindFloatFn,
	"abs": bindNumeric(absImpl, false), "sign": bindNumeric(signImpl, true),
	"ceil": bindNumeric(ceilFloorImpl(true), false), "floor": bindNumeric(ceilFloorImpl(false), false),
	"round": bindRound, "truncate": bindRound,
}

func mergeKernels(ms ...map[string]binder) map[string]binder {
	out := map[string]binder{}
	for _, m := range ms {
		for k, v := range m {
			out[k] = v
		}
	}
	return out
}
