package expr

import (
	"github.com/apache/arrow-go/v18/arrow"
)

// Compute types: the only types kernels see (see the package doc).
var (
	tBool   = arrow.FixedWidthTypes.Boolean
	tInt    = arrow.PrimitiveTypes.Int64
	tUint   = arrow.PrimitiveTypes.Uint64
	tFloat  = arrow.PrimitiveTypes.Float64
	tString = arrow.BinaryTypes.String
	tBinary = arrow.BinaryTypes.Binary
	tDate   = arrow.FixedWidthTypes.Date32
	tTS     = &arrow.TimestampType{Unit: arrow.Microsecond}
	tTime   = arrow.FixedWidthTypes.Time64us
	tNull   = arrow.Null
)

const maxDecPrec = 38

// maxDecScale is MySQL's largest DECIMAL scale: ROUND(x, 40) has scale 30.
const maxDecScale = 30

// Decimal types integers become when they meet decimals (MySQL: BIGINT is
// DECIMAL(19,0), BIGINT UNSIGNED DECIMAL(20,0)).
var (
	decOfInt  = &arrow.Decimal128Type{Precision: 19, Scale: 0}
	decOfUint = &arrow.Decimal128Type{Precision: 20, Scale: 0}
)

// ComputeType maps any Arrow type to the compute type kernels work on
// (Int32 → Int64, Float32 → Float64, LargeString → String, Timestamp(ns) →
// Timestamp(µs), dictionaries → their value type, ...). It returns nil for
// types no kernel handles (lists, structs, ...).
func ComputeType(t arrow.DataType) arrow.DataType {
	switch t.ID() {
	case arrow.NULL:
		return tNull
	case arrow.BOOL:
		return tBool
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64:
		return tInt
	case arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.UINT64:
		return tUint
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return tFloat
	case arrow.DECIMAL128:
		return t
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL256:
		d := t.(arrow.DecimalType)
		return decType(d.GetPrecision(), d.GetScale())
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return tString
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return tBinary
	case arrow.DATE32, arrow.DATE64:
		return tDate
	case arrow.TIMESTAMP:
		return tTS
	case arrow.TIME32, arrow.TIME64:
		return tTime
	case arrow.DICTIONARY:
		return ComputeType(t.(*arrow.DictionaryType).ValueType)
	}
	return nil
}

// decType builds a Decimal128 type, capping precision and scale at 38.
func decType(p, s int32) *arrow.Decimal128Type {
	if s > maxDecPrec {
		s = maxDecPrec
	}
	if s < 0 {
		s = 0
	}
	if p > maxDecPrec {
		p = maxDecPrec
	}
	if p < s {
		p = s
	}
	if p < 1 {
		p = 1
	}
	return &arrow.Decimal128Type{Precision: p, Scale: s}
}

func isInt(t arrow.DataType) bool {
	id := t.ID()
	return id == arrow.INT64 || id == arrow.UINT64
}
func isDec(t arrow.DataType) bool   { return t.ID() == arrow.DECIMAL128 }
func isFloat(t arrow.DataType) bool { return t.ID() == arrow.FLOAT64 }
func isNumeric(t arrow.DataType) bool {
	return isInt(t) || isDec(t) || isFloat(t) || t.ID() == arrow.BOOL
}
func isStr(t arrow.DataType) bool {
	id := t.ID()
	return id == arrow.STRING || id == arrow.BINARY
}
func isTemporal(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.DATE32, arrow.TIMESTAMP, arrow.TIME64:
		return true
	}
	return false
}
func isNull(t arrow.DataType) bool { return t.ID() == arrow.NULL }

// asDec returns the decimal type of a numeric (non-float) compute type.
func asDec(t arrow.DataType) *arrow.Decimal128Type {
	switch t.ID() {
	case arrow.DECIMAL128:
		return t.(*arrow.Decimal128Type)
	case arrow.UINT64:
		return decOfUint
	case arrow.BOOL:
		return &arrow.Decimal128Type{Precision: 1, Scale: 0}
	}
	return decOfInt
}

// unifyDec is the decimal that holds values of both a and b exactly.
func unifyDec(a, b *arrow.Decimal128Type) *arrow.Decimal128Type {
	s := max(a.Scale, b.Scale)
	ip := max(a.Precision-a.Scale, b.Precision-b.Scale)
	return decType(ip+s, s)
}

// numericize maps a compute type to the numeric type MySQL uses for it in
// arithmetic: booleans and temporals are integers (dates as YYYYMMDD),
// strings are doubles.
func numericize(t arrow.DataType) arrow.DataType {
	switch {
	case t.ID() == arrow.BOOL, isTemporal(t):
		return tInt
	case isStr(t):
		return tFloat
	}
	return t
}

func sameType(a, b arrow.DataType) bool { return arrow.TypeEqual(a, b) }

// normalize maps every argument to its compute type; unsupported types give
// an InvalidArgument error.
func normalize(name string, args []arrow.DataType) ([]arrow.DataType, error) {
	out := make([]arrow.DataType, len(args))
	for i, a := range args {
		c := ComputeType(a)
		if c == nil {
			return nil, errArgType(name, a)
		}
		out[i] = c
	}
	return out, nil
}
