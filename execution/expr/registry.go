package expr

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/qerr"
)

// resolver types one call over normalized (compute) argument types; consts[i]
// is the value of argument i when it is a literal (nil otherwise, or consts
// itself is nil).
type resolver func(name string, args []arrow.DataType, consts []scalar.Scalar) (Signature, error)

type funcDef struct {
	minArgs, maxArgs int // maxArgs -1 = variadic
	resolve          resolver
}

// registry lists every canonical scalar function name with its typing rule.
// Kernels live in kernels (call.go); the two tables have the same keys.
var registry = map[string]funcDef{
	"+": {2, 2, resolveArith}, "-": {2, 2, resolveArith}, "*": {2, 2, resolveArith},
	"/": {2, 2, resolveArith}, "div": {2, 2, resolveArith}, "%": {2, 2, resolveArith},
	"neg": {1, 1, resolveNeg},

	"=": {2, 2, resolveCmp}, "<>": {2, 2, resolveCmp}, "<": {2, 2, resolveCmp},
	"<=": {2, 2, resolveCmp}, ">": {2, 2, resolveCmp}, ">=": {2, 2, resolveCmp},
	"<=>": {2, 2, resolveCmp},

	"and": {2, 2, fixed(tBool, tBool)}, "or": {2, 2, fixed(tBool, tBool)},
	"xor": {2, 2, fixed(tBool, tBool)}, "not": {1, 1, fixed(tBool, tBool)},

	"is_null": {1, 1, resolveAnyBool}, "is_not_null": {1, 1, resolveAnyBool},
	"is_true": {1, 1, fixed(tBool, tBool)}, "is_not_true": {1, 1, fixed(tBool, tBool)},
	"is_false": {1, 1, fixed(tBool, tBool)}, "is_not_false": {1, 1, fixed(tBool, tBool)},

	"like":   {2, 3, fixed(tBool, tString, tString, tString)},
	"regexp": {2, 2, fixed(tBool, tString, tString)},
	"in":     {2, -1, resolveIn},

	"&": {2, 2, fixed(tUint, tUint, tUint)}, "|": {2, 2, fixed(tUint, tUint, tUint)},
	"^": {2, 2, fixed(tUint, tUint, tUint)}, "<<": {2, 2, fixed(tUint, tUint, tUint)},
	">>": {2, 2, fixed(tUint, tUint, tUint)}, "~": {1, 1, fixed(tUint, tUint)},

	"date_add": {3, 3, resolveDateAdd}, "date_sub": {3, 3, resolveDateAdd},
	"extract": {2, 2, resolveExtract},

	"coalesce": {1, -1, resolveCommon}, "greatest": {2, -1, resolveCommon},
	"least": {2, -1, resolveCommon}, "nullif": {2, 2, resolveNullif},

	"concat": {1, -1, variadic(tString, tString)}, "concat_ws": {2, -1, variadic(tString, tString)},
	"upper": {1, 1, fixed(tString, tString)}, "lower": {1, 1, fixed(tString, tString)},
	"length": {1, 1, fixed(tInt, tString)}, "char_length": {1, 1, fixed(tInt, tString)},
	"substring": {2, 3, fixed(tString, tString, tInt, tInt)},
	"left":      {2, 2, fixed(tString, tString, tInt)}, "right": {2, 2, fixed(tString, tString, tInt)},
	"trim": {1, 1, fixed(tString, tString)}, "ltrim": {1, 1, fixed(tString, tString)},
	"rtrim": {1, 1, fixed(tString, tString)}, "trim_chars": {3, 3, fixed(tString, tString, tString, tString)},
	"replace": {3, 3, fixed(tString, tString, tString, tString)},
	"lpad":    {3, 3, fixed(tString, tString, tInt, tString)}, "rpad": {3, 3, fixed(tString, tString, tInt, tString)},
	"repeat": {2, 2, fixed(tString, tString, tInt)}, "reverse": {1, 1, fixed(tString, tString)},
	"locate": {2, 3, fixed(tInt, tString, tString, tInt)}, "instr": {2, 2, fixed(tInt, tString, tString)},
	"strcmp": {2, 2, fixed(tInt, tString, tString)}, "ascii": {1, 1, fixed(tInt, tString)},
	"space":           {1, 1, fixed(tString, tInt)},
	"substring_index": {3, 3, fixed(tString, tString, tString, tInt)},
	"find_in_set":     {2, 2, fixed(tInt, tString, tString)},

	"abs": {1, 1, resolveAbs}, "ceil": {1, 1, resolveCeil}, "floor": {1, 1, resolveCeil},
	"round": {1, 2, resolveRound}, "truncate": {2, 2, resolveRound},
	"power": {2, 2, floatFn}, "sqrt": {1, 1, floatFn}, "exp": {1, 1, floatFn},
	"ln": {1, 1, floatFn}, "log": {1, 2, floatFn}, "log2": {1, 1, floatFn}, "log10": {1, 1, floatFn},
	"sign": {1, 1, resolveSign}, "pi": {0, 0, floatFn},
	"sin": {1, 1, floatFn}, "cos": {1, 1, floatFn}, "tan": {1, 1, floatFn}, "cot": {1, 1, floatFn},
	"asin": {1, 1, floatFn}, "acos": {1, 1, floatFn}, "atan": {1, 1, floatFn},
	"atan2": {2, 2, floatFn}, "degrees": {1, 1, floatFn}, "radians": {1, 1, floatFn},

	"year": {1, 1, resolveDatePart}, "quarter": {1, 1, resolveDatePart},
	"month": {1, 1, resolveDatePart}, "day": {1, 1, resolveDatePart},
	"hour": {1, 1, resolveTimePart}, "minute": {1, 1, resolveTimePart}, "second": {1, 1, resolveTimePart},
	"dayofweek": {1, 1, resolveDatePart}, "dayofyear": {1, 1, resolveDatePart},
	"weekday": {1, 1, resolveDatePart}, "week": {1, 2, resolveWeek},
	"date": {1, 1, resolveToDate}, "last_day": {1, 1, resolveToDate},
	"date_format":   {2, 2, resolveDateFormat},
	"str_to_date":   {2, 2, resolveStrToDate},
	"datediff":      {2, 2, fixed(tInt, tDate, tDate)},
	"timestampdiff": {3, 3, fixed(tInt, tString, tTS, tTS)},
	"to_days":       {1, 1, fixed(tInt, tDate)}, "from_days": {1, 1, fixed(tDate, tInt)},
	"unix_timestamp": {1, 1, fixed(tInt, tTS)}, "from_unixtime": {1, 1, resolveFromUnix},
	"timediff": {2, 2, resolveTimediff}, "addtime": {2, 2, resolveAddtime}, "subtime": {2, 2, resolveAddtime},
	"time_to_sec": {1, 1, resolveTimeArg(tInt)}, "time": {1, 1, resolveTimeArg(tTime)},
	"sec_to_time": {1, 1, resolveSecToTime}, "makedate": {2, 2, fixed(tDate, tInt, tInt)},
	"maketime": {3, 3, fixed(tTime, tInt, tInt, tFloat)}, "timestamp": {1, 2, resolveTimestampFn},

	"hex": {1, 1, resolveHex}, "bin": {1, 1, resolveHex}, "oct": {1, 1, resolveHex},
	"unhex": {1, 1, fixed(tBinary, tString)}, "conv": {3, 3, fixed(tString, tString, tInt, tInt)},
	"field": {2, -1, resolveField}, "elt": {2, -1, fixed(tString, tInt, tString)},
	"interval": {2, -1, resolveInterval},
	"insert":   {4, 4, fixed(tString, tString, tInt, tInt, tString)},
	"format":   {2, 3, resolveFormat},
	"md5":      {1, 1, fixed(tString, tString)}, "sha1": {1, 1, fixed(tString, tString)},
	"sha2": {2, 2, fixed(tString, tString, tInt)}, "crc32": {1, 1, fixed(tInt, tString)},
	"char": {1, -1, variadic(tBinary, tInt)}, "ord": {1, 1, fixed(tInt, tString)},
	"quote": {1, 1, fixed(tString, tString)}, "soundex": {1, 1, fixed(tString, tString)},
	"rand": {0, 1, fixed(tFloat, tInt)}, "uuid": {0, 0, fixed(tString)},
	"cast_binary": {2, 2, fixed(tBinary, tBinary, tInt)},

	"regexp_substr":  {2, 4, fixed(tString, tString, tString, tInt, tInt)},
	"regexp_instr":   {2, 5, fixed(tInt, tString, tString, tInt, tInt, tInt)},
	"regexp_replace": {3, 5, fixed(tString, tString, tString, tString, tInt, tInt)},
	"yearweek":       {1, 2, resolveWeek}, "to_seconds": {1, 1, resolveDatePart},
	"period_add": {2, 2, fixed(tInt, tInt, tInt)}, "period_diff": {2, 2, fixed(tInt, tInt, tInt)},
	"bit_length": {1, 1, fixed(tInt, tString)}, "bit_count": {1, 1, fixed(tInt, tUint)},
	"inet_aton": {1, 1, fixed(tInt, tString)}, "inet_ntoa": {1, 1, fixed(tString, tInt)},
	"time_format": {2, 2, resolveTimeFormat},
	"to_base64":   {1, 1, fixed(tString, tString)}, "from_base64": {1, 1, fixed(tBinary, tString)},
	"convert_tz": {3, 3, fixed(tTS, tTS, tString, tString)},
}

// aliases maps accepted spellings to canonical names.
var aliases = map[string]string{
	"!=": "<>", "mod": "%", "ucase": "upper", "lcase": "lower", "octet_length": "length",
	"character_length": "char_length", "substr": "substring", "mid": "substring",
	"ceiling": "ceil", "pow": "power", "dayofmonth": "day", "ifnull": "coalesce",
	"rlike": "regexp", "regexp_like": "regexp", "sha": "sha1", "isnull": "is_null",
}

func canonical(name string) string {
	n := strings.ToLower(name)
	if a, ok := aliases[n]; ok {
		return a
	}
	return n
}

// Resolve types a call of the scalar function name (canonical lower-case
// name, see the registry) with the given argument types. It returns the types
// each argument must be cast to (the binder inserts Cast nodes where they
// differ) and the result type. Unknown name → qerr.NotFound; wrong argument
// count or types → qerr.InvalidArgument.
func Resolve(name string, args []arrow.DataType) (Signature, error) {
	return ResolveConst(name, args, nil)
}

// ResolveConst is Resolve when some arguments are literals: consts[i] is the
// value of argument i when it is a literal, nil otherwise. Some result types
// depend on constant arguments, as in MySQL: ROUND(x, d) and TRUNCATE(x, d)
// of a decimal have scale d, STR_TO_DATE returns DATE, TIME or DATETIME after
// its format, DATE_ADD of a DATE with a time unit returns DATETIME. The binder
// should prefer it over Resolve.
func ResolveConst(name string, args []arrow.DataType, consts []scalar.Scalar) (Signature, error) {
	n := canonical(name)
	def, ok := registry[n]
	if !ok {
		return Signature{}, qerr.New(qerr.NotFound, "FUNCTION %s does not exist", name)
	}
	if len(args) < def.minArgs || (def.maxArgs >= 0 && len(args) > def.maxArgs) {
		return Signature{}, qerr.New(qerr.InvalidArgument, "Incorrect parameter count in the call to native function '%s'", name)
	}
	if consts != nil && len(consts) != len(args) {
		return Signature{}, qerr.New(qerr.Internal, "ResolveConst: %d consts for %d args", len(consts), len(args))
	}
	norm, err := normalize(n, args)
	if err != nil {
		return Signature{}, err
	}
	if consts == nil {
		consts = make([]scalar.Scalar, len(args))
	}
	return def.resolve(n, norm, consts)
}

// IsFunction reports whether name is a registered scalar function.
func IsFunction(name string) bool {
	_, ok := registry[canonical(name)]
	return ok
}

func errArgType(name string, t arrow.DataType) error {
	return qerr.New(qerr.InvalidArgument, "Incorrect argument type %s to function '%s'", t, name)
}

// fixed types a function with fixed parameter types (ret, then one per
// parameter position; extra arguments take the last parameter's type).
func fixed(ret arrow.DataType, params ...arrow.DataType) resolver {
	return func(name string, args []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
		sig := Signature{Args: make([]arrow.DataType, len(args)), Return: ret}
		for i := range args {
			sig.Args[i] = params[min(i, len(params)-1)]
		}
		return sig, nil
	}
}

// variadic types a function whose every argument has type param.
func variadic(ret, param arrow.DataType) resolver {
	return func(name string, args []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
		sig := Signature{Args: make([]arrow.DataType, len(args)), Return: ret}
		for i := range args {
			sig.Args[i] = param
		}
		return sig, nil
	}
}

func resolveAnyBool(name string, args []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	return Signature{Args: args, Return: tBool}, nil
}

// fillNulls replaces NULL-typed arguments by the first non-NULL type (def
// when all are NULL), as MySQL types `x + NULL` like `x + x`.
func fillNulls(args []arrow.DataType, def arrow.DataType) []arrow.DataType {
	other := def
	for _, a := range args {
		if !isNull(a) {
			other = a
			break
		}
	}
	out := make([]arrow.DataType, len(args))
	for i, a := range args {
		if isNull(a) {
			a = other
		}
		out[i] = a
	}
	return out
}

func resolveArith(name string, in []arrow.DataType, c []scalar.Scalar) (Signature, error) {
	a := fillNulls(in, tInt)
	l, r := numericize(a[0]), numericize(a[1])
	switch {
	case isFloat(l) || isFloat(r):
		ret := tFloat
		if name == "div" {
			ret = tInt
		}
		return Signature{Args: []arrow.DataType{tFloat, tFloat}, Return: ret}, nil
	case isInt(l) && isInt(r) && name != "/":
		if sameType(l, r) {
			ret := l
			if name == "div" && l.ID() == arrow.INT64 {
				ret = tInt
			}
			return Signature{Args: []arrow.DataType{l, r}, Return: ret}, nil
		}
		// BIGINT with BIGINT UNSIGNED is BIGINT UNSIGNED (MySQL), except
		// that % keeps the dividend's signedness.
		ret := tUint
		if name == "%" {
			ret = l
		}
		return Signature{Args: []arrow.DataType{l, r}, Return: ret}, nil
	}
	dl, dr := litDec(l, c[0]), litDec(r, c[1])
	return Signature{Args: []arrow.DataType{dl, dr}, Return: decArithType(name, dl, dr)}, nil
}

// litDec is asDec, except that an integer literal is as wide as its digits
// (MySQL: 7/2 is DECIMAL(5,4), not DECIMAL(23,4)).
func litDec(t arrow.DataType, c scalar.Scalar) *arrow.Decimal128Type {
	var u uint64
	switch v := c.(type) {
	case *scalar.Int64:
		if !v.Valid {
			return asDec(t)
		}
		u = absU(v.Value)
	case *scalar.Uint64:
		if !v.Valid {
			return asDec(t)
		}
		u = v.Value
	default:
		return asDec(t)
	}
	digits := int32(1)
	for ; u >= 10; u /= 10 {
		digits++
	}
	return decType(digits, 0)
}

// decArithType is MySQL's result type of a decimal operation.
func decArithType(name string, l, r *arrow.Decimal128Type) arrow.DataType {
	switch name {
	case "+", "-":
		s := max(l.Scale, r.Scale)
		return decType(max(l.Precision-l.Scale, r.Precision-r.Scale)+s+1, s)
	case "*":
		return decType(l.Precision+r.Precision, l.Scale+r.Scale)
	case "/":
		s := min(l.Scale+divScaleIncrement, maxDecPrec)
		return decType(l.Precision-l.Scale+r.Scale+s, s)
	case "div":
		return tInt
	default: // %
		s := max(l.Scale, r.Scale)
		return decType(max(l.Precision-l.Scale, r.Precision-r.Scale)+s, s)
	}
}

// divScaleIncrement is MySQL's div_precision_increment default.
const divScaleIncrement = 4

func resolveNeg(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := numericize(fillNulls(in, tInt)[0])
	if t.ID() == arrow.UINT64 {
		t = decOfUint
	}
	return Signature{Args: []arrow.DataType{t}, Return: t}, nil
}

// cmpType is the type two values are compared as (MySQL rules).
func cmpType(a, b arrow.DataType) arrow.DataType {
	switch {
	case isNull(a):
		return b
	case isNull(b):
		return a
	case sameType(a, b):
		return a
	case isStr(a) && isStr(b):
		return tString
	case isTemporal(a) && isStr(b):
		return a
	case isStr(a) && isTemporal(b):
		return b
	case a.ID() == arrow.DATE32 && b.ID() == arrow.TIMESTAMP, a.ID() == arrow.TIMESTAMP && b.ID() == arrow.DATE32:
		return tTS
	case isStr(a) || isStr(b):
		return tFloat
	}
	l, r := numericize(a), numericize(b)
	switch {
	case sameType(l, r):
		return l
	case isFloat(l) || isFloat(r):
		return tFloat
	case isDec(l) && isDec(r):
		return l // decimals of different scales compare without a cast
	case isInt(l) && isInt(r):
		return decOfUint
	}
	return unifyDec(asDec(l), asDec(r))
}

func resolveCmp(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	a := fillNulls(in, tInt)
	t := cmpType(a[0], a[1])
	l, r := t, t
	if isDec(t) {
		// Keep each decimal's own scale: kernels rescale.
		if isDec(a[0]) {
			l = a[0]
		} else {
			l = asDec(numericize(a[0]))
		}
		if isDec(a[1]) {
			r = a[1]
		} else {
			r = asDec(numericize(a[1]))
		}
	}
	return Signature{Args: []arrow.DataType{l, r}, Return: tBool}, nil
}

func resolveIn(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	a := fillNulls(in, tInt)
	t := a[0]
	for _, x := range a[1:] {
		c := cmpType(t, x)
		if isDec(c) && isDec(t) && isDec(x) {
			c = unifyDec(t.(*arrow.Decimal128Type), x.(*arrow.Decimal128Type))
		}
		t = c
	}
	sig := Signature{Args: make([]arrow.DataType, len(a)), Return: tBool}
	for i := range a {
		sig.Args[i] = t
	}
	return sig, nil
}

func resolveCommon(name string, in []arrow.DataType, c []scalar.Scalar) (Signature, error) {
	t, err := CommonType(in...)
	if err != nil {
		return Signature{}, err
	}
	if isDec(t) {
		// An integer literal widens a decimal only by its own digits:
		// COALESCE(DECIMAL(10,2), 0) is DECIMAL(10,2) (MySQL).
		t = tNull
		for i, x := range in {
			if isInt(x) {
				x = litDec(x, c[i])
			}
			t = commonOf(t, x)
		}
	}
	if isNull(t) {
		t = tInt
	}
	sig := Signature{Args: make([]arrow.DataType, len(in)), Return: t}
	for i := range in {
		sig.Args[i] = t
	}
	return sig, nil
}

// resolveNullif: the arguments compare in their common type, the result
// has the first argument's type (MySQL: NULLIF(DECIMAL(10,2), 3.333) is
// DECIMAL(10,2)).
func resolveNullif(name string, in []arrow.DataType, c []scalar.Scalar) (Signature, error) {
	sig, err := resolveCommon(name, in, c)
	if ct := ComputeType(in[0]); err == nil && ct != nil && !isNull(ct) {
		sig.Return = ct
	}
	return sig, err
}

func resolveAbs(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := numericize(fillNulls(in, tInt)[0])
	return Signature{Args: []arrow.DataType{t}, Return: t}, nil
}

func resolveSign(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := numericize(fillNulls(in, tInt)[0])
	return Signature{Args: []arrow.DataType{t}, Return: tInt}, nil
}

func resolveCeil(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := numericize(fillNulls(in, tInt)[0])
	ret := t
	if d, ok := t.(*arrow.Decimal128Type); ok {
		// MySQL: BIGINT when the integer part fits, else DECIMAL(p-s+1, 0).
		ret = decType(d.Precision-d.Scale+1, 0)
		if d.Precision-d.Scale <= 17 {
			ret = tInt
		}
	}
	return Signature{Args: []arrow.DataType{t}, Return: ret}, nil
}

// resolveRound types ROUND(x[, d]) and TRUNCATE(x, d): a decimal result has
// scale d when d is a constant (MySQL), else the input's scale.
func resolveRound(name string, in []arrow.DataType, c []scalar.Scalar) (Signature, error) {
	t := numericize(fillNulls(in[:1], tInt)[0])
	sig := Signature{Args: []arrow.DataType{t}, Return: t}
	if len(in) == 2 {
		sig.Args = append(sig.Args, tInt)
	}
	d, ok := t.(*arrow.Decimal128Type)
	if !ok {
		return sig, nil
	}
	scale := int32(0)
	if len(in) == 2 {
		scale = d.Scale
		if v, ok := constInt(c[1]); ok {
			scale = int32(max(0, min(v, maxDecScale)))
		}
	}
	// Rounding may carry into one more integer digit.
	sig.Return = decType(d.Precision-d.Scale+1+scale, scale)
	if name == "truncate" {
		sig.Return = decType(d.Precision-d.Scale+scale, scale)
	}
	return sig, nil
}

func floatFn(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	sig := Signature{Args: make([]arrow.DataType, len(in)), Return: tFloat}
	for i := range in {
		sig.Args[i] = tFloat
	}
	return sig, nil
}

// temporalArg is the type a date/time function argument is cast to: strings
// and numbers become DATETIME (a date-only string parses as midnight).
func temporalArg(t arrow.DataType, allowTime bool) arrow.DataType {
	switch t.ID() {
	case arrow.DATE32, arrow.TIMESTAMP:
		return t
	case arrow.TIME64:
		if allowTime {
			return t
		}
	}
	return tTS
}

func resolveDatePart(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	return Signature{Args: []arrow.DataType{temporalArg(in[0], false)}, Return: tInt}, nil
}

func resolveTimePart(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := in[0]
	if isStr(t) {
		t = tTime // HOUR('10:05:03') reads a TIME
	}
	return Signature{Args: []arrow.DataType{temporalArg(t, true)}, Return: tInt}, nil
}

func resolveWeek(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	sig := Signature{Args: []arrow.DataType{temporalArg(in[0], false)}, Return: tInt}
	if len(in) == 2 {
		sig.Args = append(sig.Args, tInt)
	}
	return sig, nil
}

func resolveToDate(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	return Signature{Args: []arrow.DataType{temporalArg(in[0], false)}, Return: tDate}, nil
}

func resolveDateFormat(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	return Signature{Args: []arrow.DataType{temporalArg(in[0], true), tString}, Return: tString}, nil
}

func resolveStrToDate(name string, in []arrow.DataType, c []scalar.Scalar) (Signature, error) {
	ret := arrow.DataType(tTS)
	if f, ok := constString(c[1]); ok {
		ret = strToDateType(f)
	}
	return Signature{Args: []arrow.DataType{tString, tString}, Return: ret}, nil
}

func resolveFromUnix(name string, in []arrow.DataType, _ []scalar.Scalar) (Signature, error) {
	t := numericize(fillNulls(in, tInt)[0])
	return Signature{Args: []arrow.DataType{t}, Return: tTS}, nil
}

// resolveDateAdd types date_add/date_sub(d, n, unit): a DATE stays a DATE
// for day-or-larger units and becomes DATETIME for time units (MySQL); a
// unit that is not a constant is assumed to be a time unit.
func resolveDateAdd(name string, in []arrow.DataType, c []scalar.Scalar) (Signature, error) {
	u, ok := constString(c[2])
	var unit intervalUnit
	if ok {
		var err error
		if unit, err = parseIntervalUnit(u); err != nil {
			return Signature{}, err
		}
	}
	d := temporalArg(in[0], false)
	if isStr(in[0]) && ok && unit.dateOnly() {
		d = tDate
	}
	ret := d
	if d.ID() == arrow.DATE32 && (!ok || !unit.dateOnly()) {
		ret = tTS
	}
	n := arrow.DataType(tInt)
	switch {
	case ok && unit.compound():
		n = tString // '1:30' HOUR_MINUTE
	case ok && unit == unitSecond && (isDec(in[1]) || isFloat(in[1]) || isStr(in[1])):
		n = fracSeconds // INTERVAL 1.5 SECOND keeps the fraction (MySQL)
	}
	return Signature{Args: []arrow.DataType{d, n, tString}, Return: ret}, nil
}

// fracSeconds is the type of a fractional SECOND interval: µs exactly.
var fracSeconds = &arrow.Decimal128Type{Precision: 38, Scale: 6}

func resolveExtract(name string, in []arrow.DataType, c []scalar.Scalar) (Signature, error) {
	if u, ok := constString(c[0]); ok {
		if _, err := parseExtractUnit(u); err != nil {
			return Signature{}, err
		}
	}
	return Signature{Args: []arrow.DataType{tString, temporalArg(in[1], true)}, Return: tInt}, nil
}

// constString returns a literal's value as a string.
func constString(s scalar.Scalar) (string, bool) {
	if s == nil || !s.IsValid() {
		return "", false
	}
	switch v := s.(type) {
	case *scalar.String:
		return string(v.Data()), true
	case *scalar.LargeString:
		return string(v.Data()), true
	case *scalar.Binary:
		return string(v.Data()), true
	}
	return "", false
}

// constInt returns an integer literal's value.
func constInt(s scalar.Scalar) (int64, bool) {
	if s == nil || !s.IsValid() {
		return 0, false
	}
	switch v := s.(type) {
	case *scalar.Int64:
		return v.Value, true
	case *scalar.Int32:
		return int64(v.Value), true
	case *scalar.Int16:
		return int64(v.Value), true
	case *scalar.Int8:
		return int64(v.Value), true
	case *scalar.Uint64:
		return int64(v.Value), true
	case *scalar.Uint32:
		return int64(v.Value), true
	case *scalar.Decimal128:
		// As the argument's cast to BIGINT rounds it: ROUND(x, 1.6) has 2 digits.
		return decToInt64(v.Value, v.Type.(*arrow.Decimal128Type).Scale)
	case *scalar.Float64:
		return roundF64ToI64(v.Value), true
	}
	return 0, false
}

// CommonType is the type values of all the given types are converted to when
// they meet in one result (CASE/IF/COALESCE branches, UNION columns, IN lists).
// Numbers widen (integer < decimal < double, decimals unify precision and
// scale), DATE with DATETIME gives DATETIME, and numbers or temporals mixed
// with strings give VARCHAR (MySQL); NULL gives way to anything.
func CommonType(types ...arrow.DataType) (arrow.DataType, error) {
	norm, err := normalize("CommonType", types)
	if err != nil {
		return nil, err
	}
	t := arrow.DataType(tNull)
	for _, x := range norm {
		t = commonOf(t, x)
	}
	return t, nil
}

func commonOf(a, b arrow.DataType) arrow.DataType {
	switch {
	case isNull(a):
		return b
	case isNull(b), sameType(a, b):
		return a
	case isStr(a) || isStr(b):
		return tString
	case isTemporal(a) && isTemporal(b):
		if a.ID() == arrow.TIME64 || b.ID() == arrow.TIME64 {
			return tString
		}
		return tTS
	case isTemporal(a) || isTemporal(b):
		return tString
	case a.ID() == arrow.BOOL:
		return commonOf(tInt, b)
	case b.ID() == arrow.BOOL:
		return commonOf(a, tInt)
	case isFloat(a) || isFloat(b):
		return tFloat
	case isInt(a) && isInt(b):
		return decOfUint
	}
	return unifyDec(asDec(a), asDec(b))
}

// CanCast reports whether CAST(from AS to) is supported.
func CanCast(from, to arrow.DataType) bool {
	f, t := ComputeType(from), ComputeType(to)
	if f == nil || t == nil {
		return false
	}
	if isNull(f) || sameType(f, t) {
		return true
	}
	switch {
	case isNull(t):
		return false
	case f.ID() == arrow.TIME64 && (t.ID() == arrow.DATE32 || t.ID() == arrow.TIMESTAMP):
		return false // needs the current date
	case t.ID() == arrow.TIME64 && f.ID() == arrow.DATE32:
		return true
	}
	return true
}
