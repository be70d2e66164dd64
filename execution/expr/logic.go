package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/quiverdb/quiver/qerr"
)

// Three-valued logic (MySQL): and/or/xor/not and the IS [NOT] NULL/TRUE/FALSE
// tests, over boolean bitmaps.

// truth reads row i of a boolean array as (value, known).
type truth struct {
	vals, valid []byte
	off         int
	allValid    bool
}

func truthOf(a arrow.Array) truth {
	b, ok := a.(*array.Boolean)
	if !ok { // NULL-typed argument: unknown everywhere
		return truth{}
	}
	vals, off := boolValues(b)
	return truth{vals: vals, valid: b.NullBitmapBytes(), off: off, allValid: b.NullN() == 0}
}

func (t truth) at(i int) (v, known bool) {
	if t.vals == nil {
		return false, false
	}
	known = t.allValid || bitutil.BitIsSet(t.valid, t.off+i)
	return known && bitutil.BitIsSet(t.vals, t.off+i), known
}

func bindLogic(c *Call) (kernelFn, error) {
	for _, a := range c.Args {
		if id := a.DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
			return nil, qerr.New(qerr.Internal, "%s: argument %s is %s, not boolean", c.Name, a, a.DataType())
		}
	}
	name := c.Name
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		n := ec.n
		vbuf, vbits := newBitmap(ec.mem, n)
		dbuf, out := newBitmap(ec.mem, n)
		l := truthOf(args[0])
		if name == "not" {
			for i := 0; i < n; i++ {
				v, k := l.at(i)
				setKnown(out, vbits, i, !v, k)
			}
			return makeArray(tBool, n, vbuf, dbuf), nil
		}
		r := truthOf(args[1])
		for i := 0; i < n; i++ {
			lv, lk := l.at(i)
			rv, rk := r.at(i)
			switch name {
			case "and":
				switch {
				case (lk && !lv) || (rk && !rv):
					setKnown(out, vbits, i, false, true)
				case lk && rk:
					setKnown(out, vbits, i, true, true)
				}
			case "or":
				switch {
				case (lk && lv) || (rk && rv):
					setKnown(out, vbits, i, true, true)
				case lk && rk:
					setKnown(out, vbits, i, false, true)
				}
			case "xor":
				setKnown(out, vbits, i, lv != rv, lk && rk)
			}
		}
		return makeArray(tBool, n, vbuf, dbuf), nil
	}, nil
}

func setKnown(out, valid []byte, i int, v, known bool) {
	if !known {
		return
	}
	valid[i>>3] |= 1 << (i & 7)
	if v {
		out[i>>3] |= 1 << (i & 7)
	}
}

// bindTest implements is_null, is_not_null, is_true, is_not_true, is_false,
// is_not_false: never NULL.
func bindTest(c *Call) (kernelFn, error) {
	name := c.Name
	if name != "is_null" && name != "is_not_null" {
		if id := c.Args[0].DataType().ID(); id != arrow.BOOL && id != arrow.NULL {
			return nil, qerr.New(qerr.Internal, "%s: argument is %s, not boolean", name, c.Args[0].DataType())
		}
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		n := ec.n
		dbuf, out := newBitmap(ec.mem, n)
		a := args[0]
		if a.DataType().ID() == arrow.NULL {
			// A NullArray has no validity bitmap: IsNull would say false.
			if name == "is_null" || name == "is_not_true" || name == "is_not_false" {
				bitutil.SetBitsTo(out, 0, int64(n), true)
			}
			return makeArray(tBool, n, nil, dbuf), nil
		}
		t := truthOf(a)
		for i := 0; i < n; i++ {
			var r bool
			switch name {
			case "is_null":
				r = a.IsNull(i)
			case "is_not_null":
				r = a.IsValid(i)
			default:
				v, k := t.at(i)
				switch name {
				case "is_true":
					r = k && v
				case "is_not_true":
					r = !(k && v)
				case "is_false":
					r = k && !v
				case "is_not_false":
					r = !(k && !v)
				}
			}
			if r {
				out[i>>3] |= 1 << (i & 7)
			}
		}
		return makeArray(tBool, n, nil, dbuf), nil
	}, nil
}
