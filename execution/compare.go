package execution

import (
	"bytes"
	"cmp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Comparator compares rows i and j of one column: <0, 0, >0.
type Comparator func(i, j int) int

// NewComparator returns a typed comparator over a honouring direction and
// NULL placement (strings compare as binary).
func NewComparator(a arrow.Array, desc, nullsFirst bool) Comparator {
	base := valueComparator(a)
	nulls := a.NullN() > 0
	nullCmp := 1
	if nullsFirst {
		nullCmp = -1
	}
	return func(i, j int) int {
		if nulls {
			ni, nj := a.IsNull(i), a.IsNull(j)
			switch {
			case ni && nj:
				return 0
			case ni:
				return nullCmp
			case nj:
				return -nullCmp
			}
		}
		c := base(i, j)
		if desc {
			return -c
		}
		return c
	}
}

func valueComparator(a arrow.Array) Comparator {
	switch c := a.(type) {
	case *array.Int64:
		return ordered(c.Int64Values())
	case *array.Int32:
		return ordered(c.Int32Values())
	case *array.Int16:
		return ordered(c.Int16Values())
	case *array.Int8:
		return ordered(c.Int8Values())
	case *array.Uint64:
		return ordered(c.Uint64Values())
	case *array.Uint32:
		return ordered(c.Uint32Values())
	case *array.Uint16:
		return ordered(c.Uint16Values())
	case *array.Uint8:
		return ordered(c.Uint8Values())
	case *array.Float64:
		return ordered(c.Float64Values())
	case *array.Float32:
		return ordered(c.Float32Values())
	case *array.Date32, *array.Time32, *array.Decimal32:
		return ordered(arrow.Int32Traits.CastFromBytes(dataBytes(a, 4)))
	case *array.Date64, *array.Timestamp, *array.Time64, *array.Duration, *array.Decimal64:
		return ordered(arrow.Int64Traits.CastFromBytes(dataBytes(a, 8)))
	case *array.Decimal128:
		return func(i, j int) int { return c.Value(i).Cmp(c.Value(j)) }
	case *array.Boolean:
		return func(i, j int) int {
			vi, vj := c.Value(i), c.Value(j)
			switch {
			case vi == vj:
				return 0
			case vj:
				return -1
			}
			return 1
		}
	case *array.String:
		return func(i, j int) int { return strings.Compare(c.Value(i), c.Value(j)) }
	case *array.LargeString:
		return func(i, j int) int { return strings.Compare(c.Value(i), c.Value(j)) }
	case *array.Binary:
		return func(i, j int) int { return bytes.Compare(c.Value(i), c.Value(j)) }
	case *array.LargeBinary:
		return func(i, j int) int { return bytes.Compare(c.Value(i), c.Value(j)) }
	case *array.Dictionary:
		inner := valueComparator(c.Dictionary())
		return func(i, j int) int { return inner(c.GetValueIndex(i), c.GetValueIndex(j)) }
	}
	return func(i, j int) int { return strings.Compare(a.ValueStr(i), a.ValueStr(j)) }
}

func ordered[T cmp.Ordered](v []T) Comparator {
	return func(i, j int) int { return cmp.Compare(v[i], v[j]) }
}
