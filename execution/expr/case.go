package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/bitutil"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

// Eval evaluates CASE lazily: each THEN (and ELSE) runs only on the rows its
// WHEN selected, so errors and work in untaken branches never happen. The
// pieces are scattered back into row order with one Take.
func (c *CaseExpr) Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	n := int(b.NumRows())
	ctx := computeCtx(mem)
	cur := b // rows no WHEN has matched yet
	cur.Retain()
	var curIdx []int32 // original row of each row of cur; nil = identity
	var pieces []arrow.Array
	var pieceIdx [][]int32
	defer func() {
		cur.Release()
		for _, p := range pieces {
			p.Release()
		}
	}()
	// addPiece evaluates e over cur's rows selected by sel (nil = all of
	// cur); idx are those rows' original numbers.
	addPiece := func(e Expr, sel arrow.Array, idx []int32) error {
		sub := cur
		if sel != nil {
			var err error
			if sub, err = compute.FilterRecordBatch(ctx, cur, sel, compute.DefaultFilterOptions()); err != nil {
				return qerr.Wrap(qerr.Internal, err, "CASE filter")
			}
			defer sub.Release()
		}
		var v arrow.Array
		if e == nil || sub.NumRows() == 0 {
			v = allNull(mem, c.Type, int(sub.NumRows()))
		} else {
			var err error
			if v, err = e.Eval(mem, sub); err != nil {
				return err
			}
			if v.DataType().ID() == arrow.NULL && c.Type.ID() != arrow.NULL {
				v.Release()
				v = allNull(mem, c.Type, int(sub.NumRows()))
			}
		}
		pieces = append(pieces, v)
		pieceIdx = append(pieceIdx, idx)
		return nil
	}
	for i, w := range c.Whens {
		if cur.NumRows() == 0 {
			break
		}
		wv, err := w.Eval(mem, cur)
		if err != nil {
			return nil, err
		}
		taken, rest, nTaken := splitRows(mem, wv, int(cur.NumRows()))
		wv.Release()
		m := int(cur.NumRows())
		switch {
		case nTaken == 0:
			taken.Release()
			rest.Release()
			continue
		case nTaken == m:
			taken.Release()
			rest.Release()
			if err := addPiece(c.Thens[i], nil, curIdx); err != nil {
				return nil, err
			}
			empty := cur.NewSlice(0, 0)
			cur.Release()
			cur, curIdx = empty, []int32{}
			continue
		}
		if err := addPiece(c.Thens[i], taken, selectIdx(curIdx, taken, nTaken)); err != nil {
			taken.Release()
			rest.Release()
			return nil, err
		}
		next, err := compute.FilterRecordBatch(ctx, cur, rest, compute.DefaultFilterOptions())
		restIdx := selectIdx(curIdx, rest, m-nTaken)
		taken.Release()
		rest.Release()
		if err != nil {
			return nil, qerr.Wrap(qerr.Internal, err, "CASE filter")
		}
		cur.Release()
		cur, curIdx = next, restIdx
	}
	if cur.NumRows() > 0 || len(pieces) == 0 {
		if err := addPiece(c.Else, nil, curIdx); err != nil {
			return nil, err
		}
	}
	if len(pieces) == 1 && pieceIdx[0] == nil {
		pieces[0].Retain()
		return pieces[0], nil
	}
	return scatter(mem, c.Type, n, pieces, pieceIdx)
}

// splitRows turns a WHEN result into two filters: rows where it is TRUE, and
// the rest (FALSE or NULL).
func splitRows(mem memory.Allocator, w arrow.Array, m int) (taken, rest arrow.Array, nTaken int) {
	tb, tbits := newBitmap(mem, m)
	rb, rbits := newBitmap(mem, m)
	if bw, ok := w.(*array.Boolean); ok {
		vals, off := boolValues(bw)
		vbits := w.NullBitmapBytes()
		for i := 0; i < m; i++ {
			if bitutil.BitIsSet(vals, off+i) && (w.NullN() == 0 || bitutil.BitIsSet(vbits, off+i)) {
				tbits[i>>3] |= 1 << (i & 7)
				nTaken++
			} else {
				rbits[i>>3] |= 1 << (i & 7)
			}
		}
	} else { // a NULL-typed WHEN never matches
		bitutil.SetBitsTo(rbits, 0, int64(m), true)
	}
	return makeArray(tBool, m, nil, tb), makeArray(tBool, m, nil, rb), nTaken
}

// selectIdx maps the selected rows of cur to their original row numbers.
func selectIdx(curIdx []int32, sel arrow.Array, count int) []int32 {
	vals, off := boolValues(sel.(*array.Boolean))
	out := make([]int32, 0, count)
	for i := 0; i < sel.Len(); i++ {
		if bitutil.BitIsSet(vals, off+i) {
			if curIdx == nil {
				out = append(out, int32(i))
			} else {
				out = append(out, curIdx[i])
			}
		}
	}
	return out
}

// scatter assembles pieces (piece k holds the rows idx[k] of the result; nil
// idx = rows 0..len-1) into one array of n rows.
func scatter(mem memory.Allocator, t arrow.DataType, n int, pieces []arrow.Array, idx [][]int32) (arrow.Array, error) {
	all, err := array.Concatenate(pieces, mem)
	if err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "CASE concatenate")
	}
	defer all.Release()
	pbuf, pos := newValues[int32](mem, n)
	j := int32(0)
	for k, p := range pieces {
		if idx[k] == nil {
			for i := 0; i < p.Len(); i++ {
				pos[i] = j
				j++
			}
			continue
		}
		for _, r := range idx[k] {
			pos[r] = j
			j++
		}
	}
	posArr := makeArray(arrow.PrimitiveTypes.Int32, n, nil, pbuf)
	defer posArr.Release()
	out, err := compute.TakeArray(computeCtx(mem), all, posArr)
	if err != nil {
		return nil, qerr.Wrap(qerr.Internal, err, "CASE take")
	}
	return out, nil
}
