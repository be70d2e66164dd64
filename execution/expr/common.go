package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

// Kernels over arguments of one common type: in, coalesce, greatest, least,
// nullif. They work for every compute type through compareInto and Take.

func checkSameTypes(c *Call, args []Expr) error {
	var t arrow.DataType
	for _, a := range args {
		at := a.DataType()
		if at.ID() == arrow.NULL {
			continue
		}
		if t == nil {
			t = at
			continue
		}
		if !arrow.TypeEqual(t, at) && !(isDec(t) && isDec(at)) && !(isStr(t) && isStr(at)) {
			return qerr.New(qerr.Internal, "%s: mixed argument types %s, %s", c.Name, t, at)
		}
	}
	return nil
}

// bindIn: needle IN (v1, ...) is TRUE on a match, else NULL when the needle
// or any value is NULL, else FALSE (MySQL).
func bindIn(c *Call) (kernelFn, error) {
	if err := checkSameTypes(c, c.Args); err != nil {
		return nil, err
	}
	return func(ec *evalCtx, args []arrow.Array) (arrow.Array, error) {
		n := ec.n
		needle := args[0]
		dbuf, out := newBitmap(ec.mem, n)
		if needle.DataType().ID() == arrow.NULL {
			dbuf.Release()
			return allNull(ec.mem, tBool, n), nil
		}
		eqBuf, eq := newBitmap(ec.mem, n)
		defer eqBuf.Release()
		sawNullBuf, sawNull := newBitmap(ec.mem, n)
		defer sawNullBuf.Release()
		for _, v := range args[1:] {
			if v.DataType().ID() == arrow.NULL {
				bitutil.SetBitsTo(sawNull, 0, int64(n), true)
				continue
			}
			clear(eq)
			if err := compareInto(opEq, needle, v, eq); err != nil {
				dbuf.Release()
				return nil, err
			}
			if v.NullN() > 0 {
				vb, off := v.NullBitmapBytes(), v.Data().Offset()
				for i := 0; i < n; i++ {
					if !bitutil.BitIsSet(vb, off+i) {
						eq[i>>3] &^= 1 << (i & 7)
						sawNull[i>>3] |= 1 << (i & 7)
					}
				}
			}
			for k := range out {
				out[k] |= eq[k]
			}
		}
		vbuf, vbits := validityCopy(ec.mem, n, needle)
		for i := 0; i < n; i++ {
			if !bitutil.BitIsSet(out, i) && bitutil.BitIsSet(sawNull, i) {
				vbits[i>>3] &^= 1 << (i & 7)
			}
		}
		return makeArray(tBool, n, vbuf, dbuf), nil
	}, nil
}

// nonNullArgs replaces NULL-typed arguments by typed all-NULL arrays.
func typedArgs(ec *evalCtx, t arrow.DataType, args []arrow.Array) []arrow.Array {
	out := make([]arrow.Array, len(args))
	for i, a := range args {
		if a.DataType().ID() == arrow.NULL && t.ID() != arrow.NULL {
			out[i] = allNull(ec.mem, t, a.Len())
		} else {
			a.Retain()
			out[i] = a
		}
	}
	return out
}

func releaseAll(arrs []arrow.Array) {
	for _, a := range arrs {
		a.Release()
	}
}

// takeFrom concatenates srcs and takes rows idx (row i of srcs[k] is k*n+i).
func takeFrom(mem memory.Allocator, srcs []arrow.Array, idx []int64) (arrow.Array, error) {
	all, err := array.Concatenate(srcs, mem)
	if err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "concatenate")
	}
	defer all.Release()
	ib, iv := newValues[int64](mem, len(idx))
	copy(iv, idx)
	ia := makeArray(arrow.PrimitiveTypes.Int64, len(idx), nil, ib)
	defer ia.Release()
	out, err := compute.TakeArray(computeCtx(mem), all, ia)
	if err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "take")
	}
	return out, nil
}

func bindCoalesce(c *Call) (kernelFn, error) {
	if err := checkSameTypes(c, c.Args); err != nil {
		return nil, err
	}
	return func(ec *evalCtx, in []arrow.Array) (arrow.Array, error) {
		if in[0].NullN() == 0 && arrow.TypeEqual(in[0].DataType(), ec.call.Type) {
			in[0].Retain()
			return in[0], nil
		}
		args := typedArgs(ec, ec.call.Type, in)
		defer releaseAll(args)
		n := ec.n
		idx := make([]int64, n)
		for i := 0; i < n; i++ {
			idx[i] = int64(i) // all NULL: row of the first argument (NULL)
			for k, a := range args {
				if a.IsValid(i) {
					idx[i] = int64(k*n + i)
					break
				}
			}
		}
		return takeFrom(ec.mem, args, idx)
	}, nil
}

// bindExtreme implements greatest/least: NULL if any argument is NULL.
func bindExtreme(c *Call) (kernelFn, error) {
	if err := checkSameTypes(c, c.Args); err != nil {
		return nil, err
	}
	op := opGt
	if c.Name == "least" {
		op = opLt
	}
	return func(ec *evalCtx, in []arrow.Array) (arrow.Array, error) {
		args := typedArgs(ec, ec.call.Type, in)
		defer releaseAll(args)
		n := ec.n
		idx := make([]int64, n)
		for i := range idx {
			idx[i] = int64(i)
		}
		sbuf, sel := newBitmap(ec.mem, n)
		defer sbuf.Release()
		for k := 1; k < len(args); k++ {
			cur, err := takeFrom(ec.mem, args, idx)
			if err != nil {
				return nil, err
			}
			clear(sel)
			err = compareInto(op, args[k], cur, sel)
			cur.Release()
			if err != nil {
				return nil, err
			}
			for i := 0; i < n; i++ {
				if bitutil.BitIsSet(sel, i) {
					idx[i] = int64(k*n + i)
				}
			}
		}
		res, err := takeFrom(ec.mem, args, idx)
		if err != nil {
			return nil, err
		}
		defer res.Release()
		v := mergeValidity(ec.mem, n, args...)
		if v == nil {
			res.Retain()
			return res, nil
		}
		defer v.Release()
		return withValidity(ec.mem, res, func(i int) bool { return bitutil.BitIsSet(v.Bytes(), i) }), nil
	}, nil
}

// withValidity returns a with row i NULL unless keep(i) (a's own NULLs stay).
func withValidity(mem memory.Allocator, a arrow.Array, keep func(i int) bool) arrow.Array {
	n, off := a.Len(), a.Data().Offset()
	vbuf, vbits := newBitmap(mem, off+n)
	for i := 0; i < n; i++ {
		if a.IsValid(i) && keep(i) {
			vbits[(off+i)>>3] |= 1 << ((off + i) & 7)
		}
	}
	nulls := n - bitutil.CountSetBits(vbits, off, n)
	bufs := append([]*memory.Buffer{vbuf}, a.Data().Buffers()[1:]...)
	d := array.NewData(a.DataType(), n, bufs, a.Data().Children(), nulls, off)
	vbuf.Release()
	defer d.Release()
	return array.MakeFromData(d)
}

// bindNullif: NULLIF(a, b) is NULL when a = b, else a.
func bindNullif(c *Call) (kernelFn, error) {
	if err := checkSameTypes(c, c.Args); err != nil {
		return nil, err
	}
	return func(ec *evalCtx, in []arrow.Array) (arrow.Array, error) {
		args := typedArgs(ec, c.Args[0].DataType(), in)
		defer releaseAll(args)
		a, b := args[0], args[1]
		ebuf, eq := newBitmap(ec.mem, ec.n)
		defer ebuf.Release()
		if err := compareInto(opEq, a, b, eq); err != nil {
			return nil, err
		}
		if t := ec.call.Type; !arrow.TypeEqual(a.DataType(), t) {
			// Back to the first argument's own type: exact, a's values
			// came from it.
			ca, err := castArray(ec.mem, a, t)
			if err != nil {
				return nil, err
			}
			defer ca.Release()
			a = ca
		}
		return withValidity(ec.mem, a, func(i int) bool {
			return !(bitutil.BitIsSet(eq, i) && b.IsValid(i))
		}), nil
	}, nil
}
