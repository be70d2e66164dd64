package scan

import (
	"bytes"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution/expr"
)

// predOp is a comparison a row group's min/max statistics can rule out.
type predOp int

const (
	opEq predOp = iota
	opLt
	opLe
	opGt
	opGe
	opIn
	opIsNull
	opIsNotNull
)

// pred is "output column col <op> vals" derived from a filter conjunct.
// cast, when set, is the (widening, order-preserving) type the column is
// cast to before the comparison; statistics are cast the same way.
type pred struct {
	col  int
	op   predOp
	vals []scalar.Scalar
	cast arrow.DataType
}

// predicatesOf extracts the prunable conjuncts of the filters. Anything it
// does not understand is simply not used for pruning (filters are applied
// exactly afterwards anyway).
func predicatesOf(filters []expr.Expr) []pred {
	var out []pred
	var walk func(e expr.Expr)
	walk = func(e expr.Expr) {
		call, ok := any(e).(*expr.Call)
		if !ok {
			return
		}
		switch call.Name {
		case "and":
			for _, a := range call.Args {
				walk(a)
			}
		case "=", "<", "<=", ">", ">=":
			if len(call.Args) != 2 {
				return
			}
			op := map[string]predOp{"=": opEq, "<": opLt, "<=": opLe, ">": opGt, ">=": opGe}[call.Name]
			col, cast, okc := columnOf(call.Args[0])
			lit, okl := literalOf(call.Args[1])
			if !okc || !okl {
				// literal op column: flip the comparison.
				col, cast, okc = columnOf(call.Args[1])
				lit, okl = literalOf(call.Args[0])
				op = flip(op)
			}
			if okc && okl {
				out = append(out, pred{col: col, op: op, vals: []scalar.Scalar{lit}, cast: cast})
			}
		case "in":
			if len(call.Args) < 2 {
				return
			}
			col, cast, ok := columnOf(call.Args[0])
			if !ok {
				return
			}
			vals := make([]scalar.Scalar, 0, len(call.Args)-1)
			for _, a := range call.Args[1:] {
				lit, ok := literalOf(a)
				if !ok {
					return
				}
				vals = append(vals, lit)
			}
			out = append(out, pred{col: col, op: opIn, vals: vals, cast: cast})
		case "is_null", "is_not_null":
			if len(call.Args) != 1 {
				return
			}
			op := opIsNull
			if call.Name == "is_not_null" {
				op = opIsNotNull
			}
			if col, cast, ok := columnOf(call.Args[0]); ok {
				out = append(out, pred{col: col, op: op, cast: cast})
			}
		}
	}
	for _, f := range filters {
		walk(f)
	}
	return out
}

func flip(op predOp) predOp {
	switch op {
	case opLt:
		return opGt
	case opLe:
		return opGe
	case opGt:
		return opLt
	case opGe:
		return opLe
	}
	return op
}

// columnOf recognizes a column reference, possibly under a widening cast.
func columnOf(e expr.Expr) (int, arrow.DataType, bool) {
	switch x := any(e).(type) {
	case *expr.Column:
		return x.Index, nil, true
	case *expr.CastExpr:
		c, ok := any(x.Input).(*expr.Column)
		if ok && c.Type != nil && wideningCast(c.Type, x.Type) {
			return c.Index, x.Type, true
		}
	}
	return 0, nil, false
}

// wideningCast reports casts that keep every value and its order, so
// min/max of the input map to min/max of the output.
func wideningCast(from, to arrow.DataType) bool {
	switch to.ID() {
	case arrow.INT64:
		switch from.ID() {
		case arrow.INT8, arrow.INT16, arrow.INT32, arrow.UINT8, arrow.UINT16, arrow.UINT32:
			return true
		}
	case arrow.UINT64:
		switch from.ID() {
		case arrow.UINT8, arrow.UINT16, arrow.UINT32:
			return true
		}
	case arrow.FLOAT64:
		return from.ID() == arrow.FLOAT32
	case arrow.STRING:
		return from.ID() == arrow.LARGE_STRING
	}
	return false
}

func literalOf(e expr.Expr) (scalar.Scalar, bool) {
	l, ok := any(e).(*expr.Literal)
	if !ok || l.Value == nil {
		return nil, false
	}
	return l.Value, true
}

// rowGroupMayMatch reports whether a row group can hold a row passing all
// preds; false only when its statistics prove that none can. columns maps
// output columns to table columns (the index of ColumnStats).
func rowGroupMayMatch(rg catalog.RowGroup, columns []int, preds []pred) bool {
	for _, p := range preds {
		if p.col < 0 || p.col >= len(columns) {
			continue
		}
		tc := columns[p.col]
		if tc < 0 || tc >= len(rg.ColumnStats) || rg.ColumnStats[tc] == nil {
			continue
		}
		if !statsMayMatch(rg.ColumnStats[tc], rg.NumRows, p) {
			return false
		}
	}
	return true
}

func statsMayMatch(st *catalog.ColumnStats, numRows int64, p pred) bool {
	// A comparison with NULL, or over a group of only NULLs, is never true.
	allNull := st.NullCount >= 0 && st.NullCount == numRows
	switch p.op {
	case opIsNull:
		return st.NullCount != 0 // -1 (unknown) may match
	case opIsNotNull:
		return !allNull
	}
	for _, v := range p.vals {
		if v == nil || !v.IsValid() {
			if p.op != opIn {
				return false
			}
		}
	}
	if allNull {
		return false
	}
	if st.Min == nil || st.Max == nil {
		return true
	}
	lo, hi := st.Min, st.Max
	if p.cast != nil {
		var err1, err2 error
		lo, err1 = lo.CastTo(p.cast)
		hi, err2 = hi.CastTo(p.cast)
		if err1 != nil || err2 != nil {
			return true
		}
	}
	// cmp(v, bound) with ok=false (types not comparable) means "may match".
	mayMatchOne := func(v scalar.Scalar) bool {
		if v == nil || !v.IsValid() {
			return false
		}
		cLo, ok1 := compare(v, lo)
		cHi, ok2 := compare(v, hi)
		if !ok1 || !ok2 {
			return true
		}
		switch p.op {
		case opEq, opIn:
			return cLo >= 0 && cHi <= 0
		case opLt: // some x < v  ⇔  min < v
			return cLo > 0
		case opLe:
			return cLo >= 0
		case opGt: // some x > v  ⇔  max > v
			return cHi < 0
		case opGe:
			return cHi <= 0
		}
		return true
	}
	for _, v := range p.vals {
		if mayMatchOne(v) {
			return true
		}
	}
	return false
}

// compare orders two non-null scalars of the same type; ok=false when the
// types differ or are not ordered here.
func compare(a, b scalar.Scalar) (int, bool) {
	if a.DataType().ID() != b.DataType().ID() {
		return 0, false
	}
	switch x := a.(type) {
	case *scalar.Int8:
		return cmpOrdered(x.Value, b.(*scalar.Int8).Value)
	case *scalar.Int16:
		return cmpOrdered(x.Value, b.(*scalar.Int16).Value)
	case *scalar.Int32:
		return cmpOrdered(x.Value, b.(*scalar.Int32).Value)
	case *scalar.Int64:
		return cmpOrdered(x.Value, b.(*scalar.Int64).Value)
	case *scalar.Uint8:
		return cmpOrdered(x.Value, b.(*scalar.Uint8).Value)
	case *scalar.Uint16:
		return cmpOrdered(x.Value, b.(*scalar.Uint16).Value)
	case *scalar.Uint32:
		return cmpOrdered(x.Value, b.(*scalar.Uint32).Value)
	case *scalar.Uint64:
		return cmpOrdered(x.Value, b.(*scalar.Uint64).Value)
	case *scalar.Float32:
		return cmpFloat(float64(x.Value), float64(b.(*scalar.Float32).Value))
	case *scalar.Float64:
		return cmpFloat(x.Value, b.(*scalar.Float64).Value)
	case *scalar.Date32:
		return cmpOrdered(x.Value, b.(*scalar.Date32).Value)
	case *scalar.Date64:
		return cmpOrdered(x.Value, b.(*scalar.Date64).Value)
	case *scalar.Timestamp:
		y := b.(*scalar.Timestamp)
		if x.Type.(*arrow.TimestampType).Unit != y.Type.(*arrow.TimestampType).Unit {
			return 0, false
		}
		return cmpOrdered(x.Value, y.Value)
	case *scalar.Decimal128:
		y := b.(*scalar.Decimal128)
		if x.Type.(*arrow.Decimal128Type).Scale != y.Type.(*arrow.Decimal128Type).Scale {
			return 0, false
		}
		return x.Value.Cmp(y.Value), true
	case *scalar.String:
		return bytes.Compare(x.Data(), b.(*scalar.String).Data()), true
	case *scalar.LargeString:
		return bytes.Compare(x.Data(), b.(*scalar.LargeString).Data()), true
	case *scalar.Binary:
		return bytes.Compare(x.Data(), b.(*scalar.Binary).Data()), true
	case *scalar.Boolean:
		xv, yv := 0, 0
		if x.Value {
			xv = 1
		}
		if b.(*scalar.Boolean).Value {
			yv = 1
		}
		return cmpOrdered(xv, yv)
	}
	return 0, false
}

func cmpOrdered[T int | int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | arrow.Date32 | arrow.Date64 | arrow.Timestamp](a, b T) (int, bool) {
	switch {
	case a < b:
		return -1, true
	case a > b:
		return 1, true
	}
	return 0, true
}

func cmpFloat(a, b float64) (int, bool) {
	if math.IsNaN(a) || math.IsNaN(b) {
		return 0, false
	}
	switch {
	case a < b:
		return -1, true
	case a > b:
		return 1, true
	}
	return 0, true
}
