package logical

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/types"
	"github.com/quiverdb/quiver/qerr"
)

// ArrowType maps a MySQL column/CAST type to its Arrow type (see the type
// table in DESIGN/issue: ints by width, DECIMAL(p,s) with default (10,0),
// text → String, binary → Binary, DATETIME/TIMESTAMP → Timestamp(µs)).
func ArrowType(ft *types.FieldType) (arrow.DataType, error) {
	unsigned := mysql.HasUnsignedFlag(ft.GetFlag())
	switch ft.GetType() {
	case mysql.TypeTiny:
		// BOOL/BOOLEAN parse as TINYINT(1), which MySQL clients read as boolean.
		if ft.GetFlen() == 1 && !unsigned {
			return arrow.FixedWidthTypes.Boolean, nil
		}
		return intType(8, unsigned), nil
	case mysql.TypeShort:
		return intType(16, unsigned), nil
	case mysql.TypeInt24, mysql.TypeLong:
		return intType(32, unsigned), nil
	case mysql.TypeLonglong:
		return intType(64, unsigned), nil
	case mysql.TypeYear:
		return arrow.PrimitiveTypes.Int16, nil
	case mysql.TypeBit:
		return arrow.PrimitiveTypes.Uint64, nil
	case mysql.TypeFloat:
		return arrow.PrimitiveTypes.Float32, nil
	case mysql.TypeDouble:
		return arrow.PrimitiveTypes.Float64, nil
	case mysql.TypeNewDecimal:
		p, s := ft.GetFlen(), ft.GetDecimal()
		if p <= 0 {
			p = 10
		}
		if s < 0 {
			s = 0
		}
		if p > 38 {
			return nil, qerr.New(qerr.InvalidArgument, "Too-big precision %d specified. Maximum is 38.", p)
		}
		if s > p {
			return nil, qerr.New(qerr.InvalidArgument, "For float(M,D), double(M,D) or decimal(M,D), M must be >= D")
		}
		return &arrow.Decimal128Type{Precision: int32(p), Scale: int32(s)}, nil
	case mysql.TypeDate, mysql.TypeNewDate:
		return arrow.FixedWidthTypes.Date32, nil
	case mysql.TypeDatetime, mysql.TypeTimestamp:
		return &arrow.TimestampType{Unit: arrow.Microsecond}, nil
	case mysql.TypeDuration:
		return arrow.FixedWidthTypes.Time64us, nil
	case mysql.TypeVarchar, mysql.TypeVarString, mysql.TypeString, mysql.TypeTinyBlob,
		mysql.TypeMediumBlob, mysql.TypeLongBlob, mysql.TypeBlob:
		if ft.GetCharset() == "binary" || mysql.HasBinaryFlag(ft.GetFlag()) && ft.GetCharset() == "" {
			return arrow.BinaryTypes.Binary, nil
		}
		return arrow.BinaryTypes.String, nil
	case mysql.TypeJSON, mysql.TypeEnum, mysql.TypeSet:
		return arrow.BinaryTypes.String, nil
	}
	return nil, qerr.New(qerr.Unimplemented, "type %s is not supported", ft.String())
}

func intType(bits int, unsigned bool) arrow.DataType {
	switch {
	case bits == 8 && unsigned:
		return arrow.PrimitiveTypes.Uint8
	case bits == 8:
		return arrow.PrimitiveTypes.Int8
	case bits == 16 && unsigned:
		return arrow.PrimitiveTypes.Uint16
	case bits == 16:
		return arrow.PrimitiveTypes.Int16
	case bits == 32 && unsigned:
		return arrow.PrimitiveTypes.Uint32
	case bits == 32:
		return arrow.PrimitiveTypes.Int32
	case unsigned:
		return arrow.PrimitiveTypes.Uint64
	}
	return arrow.PrimitiveTypes.Int64
}
