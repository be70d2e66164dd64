package expr

import (
	"cmp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/quiverdb/quiver/qerr"
)

type cmpOp int

const (
	opEq cmpOp = iota
	opNe
	opLt
	opLe
	opGt
	opGe
)

var cmpOps = map[string]cmpOp{"=": opEq, "<=>": opEq, "<>": opNe, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}

// holds reports whether a three-way comparison result c satisfies op.
func (op cmpOp) holds(c int) bool {
	switch op {
	case opEq:
		return c == 0
	case opNe:
		return c != 0
	case opLt:
		return c < 0
	case opLe:
		return c <= 0
	case opGt:
		return c > 0
	}
	return c >= 0
}

// cmpOrdered sets out bit i when a[i] op b[i]; one loop per operator keeps
// the hot loop branch-free.
func cmpOrdered[T cmp.Ordered](op cmpOp, a, b []T, out []byte) {
	set := func(i int, v bool) {
		if v {
			out[i>>3] |= 1 << (i & 7)
		}
	}
	switch op {
	case opEq:
		for i := range a {
			set(i, a[i] == b[i])
		}
	case opNe:
		for i := range a {
			set(i, a[i] != b[i])
		}
	case opLt:
		for i := range a {
			set(i, a[i] < b[i])
		}
	case opLe:
		for i := range a {
			set(i, a[i] <= b[i])
		}
	case opGt:
		for i := range a {
			set(i, a[i] > b[i])
		}
	case opGe:
		for i := range a {
			set(i, a[i] >= b[i])
		}
	}
}

func bindCmp(c *Call) (kernelFn, error) {
	lt, rt := c.Args[0].DataType(), c.Args[1].DataType()
	op := cmpOps[c.Name]
	nullSafe := c.Name == "<=>"
	if !(arrow.TypeEqual(lt, rt) || (isDec(lt) && isDec(rt)) || (isStr(lt) && isStr(rt))) {
		return nil, qerr.New(qerr.Internal, "%s: unsupported argument types %s, %s", c.Name, lt, rt)
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		n := ec.n
		dbuf, out := newBitmap(ec.mem, n)
		if err := compareInto(op, args[0], args[1], out); err != nil {
			dbuf.Release()
			return nil, err
		}
		if nullSafe {
			nullSafeFix(args[0], args[1], out)
			return makeArray(tBool, n, nil, dbuf), nil
		}
		return makeArray(tBool, n, mergeValidity(ec.mem, n, args[0], args[1]), dbuf), nil
	}, nil
}

// compareInto sets bit i of out when l[i] op r[i] (values under NULLs are
// compared too; callers mask them).
func compareInto(op cmpOp, l, r arrow.Array, out []byte) error {
	switch a := l.(type) {
	case *array.Int64:
		cmpOrdered(op, a.Int64Values(), r.(*array.Int64).Int64Values(), out)
	case *array.Uint64:
		cmpOrdered(op, a.Uint64Values(), r.(*array.Uint64).Uint64Values(), out)
	case *array.Float64:
		cmpOrdered(op, a.Float64Values(), r.(*array.Float64).Float64Values(), out)
	case *array.Date32:
		cmpOrdered(op, a.Date32Values(), r.(*array.Date32).Date32Values(), out)
	case *array.Timestamp:
		cmpOrdered(op, a.TimestampValues(), r.(*array.Timestamp).TimestampValues(), out)
	case *array.Time64:
		cmpOrdered(op, a.Time64Values(), r.(*array.Time64).Time64Values(), out)
	case *array.Decimal128:
		cmpDecimals(op, a, r.(*array.Decimal128), out)
	case *array.Boolean:
		b := r.(*array.Boolean)
		for i := 0; i < a.Len(); i++ {
			if op.holds(cmpBool(a.Value(i), b.Value(i))) {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	case *array.String, *array.Binary:
		av, bv := stringValues(l), stringValues(r)
		for i := 0; i < l.Len(); i++ {
			if op.holds(strings.Compare(av(i), bv(i))) {
				out[i>>3] |= 1 << (i & 7)
			}
		}
	case *array.Null:
	default:
		return qerr.New(qerr.Internal, "compare: unsupported type %s", l.DataType())
	}
	return nil
}

// stringValues returns a zero-copy accessor for string or binary arrays.
func stringValues(a arrow.Array) func(int) string {
	switch s := a.(type) {
	case *array.String:
		return s.Value
	case *array.Binary:
		return s.ValueString
	}
	return func(int) string { return "" }
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}

func cmpNum(x, y decimal128.Num) int {
	switch {
	case x.HighBits() < y.HighBits():
		return -1
	case x.HighBits() > y.HighBits():
		return 1
	case x.LowBits() < y.LowBits():
		return -1
	case x.LowBits() > y.LowBits():
		return 1
	}
	return 0
}

// cmpDecimals compares decimals, rescaling when the scales differ.
func cmpDecimals(op cmpOp, l, r *array.Decimal128, out []byte) {
	a, b := l.Values(), r.Values()
	s1 := l.DataType().(*arrow.Decimal128Type).Scale
	s2 := r.DataType().(*arrow.Decimal128Type).Scale
	if s1 == s2 {
		for i := range a {
			if op.holds(cmpNum(a[i], b[i])) {
				out[i>>3] |= 1 << (i & 7)
			}
		}
		return
	}
	s := max(s1, s2)
	for i := range a {
		if op.holds(cmpDecScaled(a[i], s1, b[i], s2, s)) {
			out[i>>3] |= 1 << (i & 7)
		}
	}
}

func cmpDecScaled(x decimal128.Num, s1 int32, y decimal128.Num, s2 int32, s int32) int {
	xi, okx := decI64(x)
	yi, oky := decI64(y)
	if okx && oky && s-s1 <= 18 && s-s2 <= 18 {
		xs, ok1 := mulI64(xi, pow10[s-s1])
		ys, ok2 := mulI64(yi, pow10[s-s2])
		if ok1 && ok2 {
			return cmp.Compare(xs, ys)
		}
	}
	return rescaleBig(x.BigInt(), s1, s).Cmp(rescaleBig(y.BigInt(), s2, s))
}

// nullSafeFix applies <=> semantics: NULL <=> NULL is true, NULL <=> x false.
func nullSafeFix(l, r arrow.Array, out []byte) {
	if l.NullN() == 0 && r.NullN() == 0 {
		return
	}
	for i := 0; i < l.Len(); i++ {
		ln, rn := l.IsNull(i), r.IsNull(i)
		if ln || rn {
			bitutil.SetBitTo(out, i, ln && rn)
		}
	}
}
