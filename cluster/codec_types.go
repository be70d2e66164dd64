package cluster

import (
	"bytes"
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/decimal256"
	"github.com/apache/arrow-go/v18/arrow/float16"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/cluster/planpb"
)

// Arrow types, schemas and scalars ↔ protobuf (planpb.DataType, Schema,
// Scalar). Every decoder validates what it reads and returns an error
// wrapping ErrMalformedFragment; none panics on hostile input.

var simpleTypes = []struct {
	id planpb.TypeId
	t  arrow.DataType
}{
	{planpb.TypeId_NULL, arrow.Null},
	{planpb.TypeId_BOOL, arrow.FixedWidthTypes.Boolean},
	{planpb.TypeId_INT8, arrow.PrimitiveTypes.Int8},
	{planpb.TypeId_INT16, arrow.PrimitiveTypes.Int16},
	{planpb.TypeId_INT32, arrow.PrimitiveTypes.Int32},
	{planpb.TypeId_INT64, arrow.PrimitiveTypes.Int64},
	{planpb.TypeId_UINT8, arrow.PrimitiveTypes.Uint8},
	{planpb.TypeId_UINT16, arrow.PrimitiveTypes.Uint16},
	{planpb.TypeId_UINT32, arrow.PrimitiveTypes.Uint32},
	{planpb.TypeId_UINT64, arrow.PrimitiveTypes.Uint64},
	{planpb.TypeId_FLOAT16, arrow.FixedWidthTypes.Float16},
	{planpb.TypeId_FLOAT32, arrow.PrimitiveTypes.Float32},
	{planpb.TypeId_FLOAT64, arrow.PrimitiveTypes.Float64},
	{planpb.TypeId_STRING, arrow.BinaryTypes.String},
	{planpb.TypeId_LARGE_STRING, arrow.BinaryTypes.LargeString},
	{planpb.TypeId_STRING_VIEW, arrow.BinaryTypes.StringView},
	{planpb.TypeId_BINARY, arrow.BinaryTypes.Binary},
	{planpb.TypeId_LARGE_BINARY, arrow.BinaryTypes.LargeBinary},
	{planpb.TypeId_BINARY_VIEW, arrow.BinaryTypes.BinaryView},
	{planpb.TypeId_DATE32, arrow.FixedWidthTypes.Date32},
	{planpb.TypeId_DATE64, arrow.FixedWidthTypes.Date64},
	{planpb.TypeId_INTERVAL_MONTHS, arrow.FixedWidthTypes.MonthInterval},
	{planpb.TypeId_INTERVAL_DAY_TIME, arrow.FixedWidthTypes.DayTimeInterval},
	{planpb.TypeId_INTERVAL_MONTH_DAY_NANO, arrow.FixedWidthTypes.MonthDayNanoInterval},
}

var (
	simpleByArrow = map[arrow.Type]planpb.TypeId{}
	simpleByPB    = map[planpb.TypeId]arrow.DataType{}
)

func init() {
	for _, s := range simpleTypes {
		simpleByArrow[s.t.ID()] = s.id
		simpleByPB[s.id] = s.t
	}
}

var unitToPB = map[arrow.TimeUnit]planpb.TimeUnit{
	arrow.Second: planpb.TimeUnit_SECOND, arrow.Millisecond: planpb.TimeUnit_MILLISECOND,
	arrow.Microsecond: planpb.TimeUnit_MICROSECOND, arrow.Nanosecond: planpb.TimeUnit_NANOSECOND,
}

func unitFromPB(u planpb.TimeUnit) (arrow.TimeUnit, error) {
	for k, v := range unitToPB {
		if v == u {
			return k, nil
		}
	}
	return 0, malformed("unknown time unit %d", u)
}

func encodeType(t arrow.DataType) (*planpb.DataType, error) {
	if t == nil {
		return nil, fmt.Errorf("%w: nil data type", ErrUnsupported)
	}
	if id, ok := simpleByArrow[t.ID()]; ok {
		return &planpb.DataType{Id: id}, nil
	}
	switch t := t.(type) {
	case *arrow.Decimal32Type:
		return &planpb.DataType{Id: planpb.TypeId_DECIMAL32, Precision: t.Precision, Scale: t.Scale}, nil
	case *arrow.Decimal64Type:
		return &planpb.DataType{Id: planpb.TypeId_DECIMAL64, Precision: t.Precision, Scale: t.Scale}, nil
	case *arrow.Decimal128Type:
		return &planpb.DataType{Id: planpb.TypeId_DECIMAL128, Precision: t.Precision, Scale: t.Scale}, nil
	case *arrow.Decimal256Type:
		return &planpb.DataType{Id: planpb.TypeId_DECIMAL256, Precision: t.Precision, Scale: t.Scale}, nil
	case *arrow.FixedSizeBinaryType:
		return &planpb.DataType{Id: planpb.TypeId_FIXED_SIZE_BINARY, Width: int32(t.ByteWidth)}, nil
	case *arrow.Time32Type:
		return &planpb.DataType{Id: planpb.TypeId_TIME32, Unit: unitToPB[t.Unit]}, nil
	case *arrow.Time64Type:
		return &planpb.DataType{Id: planpb.TypeId_TIME64, Unit: unitToPB[t.Unit]}, nil
	case *arrow.TimestampType:
		return &planpb.DataType{Id: planpb.TypeId_TIMESTAMP, Unit: unitToPB[t.Unit], Timezone: t.TimeZone}, nil
	case *arrow.DurationType:
		return &planpb.DataType{Id: planpb.TypeId_DURATION, Unit: unitToPB[t.Unit]}, nil
	case *arrow.ListType:
		return nestedType(planpb.TypeId_LIST, 0, t.ElemField())
	case *arrow.LargeListType:
		return nestedType(planpb.TypeId_LARGE_LIST, 0, t.ElemField())
	case *arrow.FixedSizeListType:
		return nestedType(planpb.TypeId_FIXED_SIZE_LIST, t.Len(), t.ElemField())
	case *arrow.MapType:
		pt, err := nestedType(planpb.TypeId_MAP, 0, t.KeyField(), t.ItemField())
		if err != nil {
			return nil, err
		}
		pt.KeysSorted = t.KeysSorted
		return pt, nil
	case *arrow.StructType:
		return nestedType(planpb.TypeId_STRUCT, 0, t.Fields()...)
	case *arrow.DictionaryType:
		it, err := encodeType(t.IndexType)
		if err != nil {
			return nil, err
		}
		vt, err := encodeType(t.ValueType)
		if err != nil {
			return nil, err
		}
		return &planpb.DataType{Id: planpb.TypeId_DICTIONARY, IndexType: it, ValueType: vt, Ordered: t.Ordered}, nil
	}
	return nil, fmt.Errorf("%w: Arrow type %s", ErrUnsupported, t)
}

func nestedType(id planpb.TypeId, width int32, fields ...arrow.Field) (*planpb.DataType, error) {
	pt := &planpb.DataType{Id: id, Width: width}
	for _, f := range fields {
		pf, err := encodeField(f)
		if err != nil {
			return nil, err
		}
		pt.Children = append(pt.Children, pf)
	}
	return pt, nil
}

func decodeType(pt *planpb.DataType) (arrow.DataType, error) {
	if pt == nil {
		return nil, malformed("missing data type")
	}
	if t, ok := simpleByPB[pt.Id]; ok {
		return t, nil
	}
	switch pt.Id {
	case planpb.TypeId_DECIMAL32, planpb.TypeId_DECIMAL64, planpb.TypeId_DECIMAL128, planpb.TypeId_DECIMAL256:
		maxP := map[planpb.TypeId]int32{planpb.TypeId_DECIMAL32: 9, planpb.TypeId_DECIMAL64: 18, planpb.TypeId_DECIMAL128: 38, planpb.TypeId_DECIMAL256: 76}[pt.Id]
		if pt.Precision < 1 || pt.Precision > maxP || pt.Scale < 0 || pt.Scale > pt.Precision {
			return nil, malformed("decimal(%d, %d) out of range", pt.Precision, pt.Scale)
		}
		switch pt.Id {
		case planpb.TypeId_DECIMAL32:
			return &arrow.Decimal32Type{Precision: pt.Precision, Scale: pt.Scale}, nil
		case planpb.TypeId_DECIMAL64:
			return &arrow.Decimal64Type{Precision: pt.Precision, Scale: pt.Scale}, nil
		case planpb.TypeId_DECIMAL128:
			return &arrow.Decimal128Type{Precision: pt.Precision, Scale: pt.Scale}, nil
		}
		return &arrow.Decimal256Type{Precision: pt.Precision, Scale: pt.Scale}, nil
	case planpb.TypeId_FIXED_SIZE_BINARY:
		if pt.Width < 0 {
			return nil, malformed("fixed_size_binary width %d", pt.Width)
		}
		return &arrow.FixedSizeBinaryType{ByteWidth: int(pt.Width)}, nil
	case planpb.TypeId_TIME32, planpb.TypeId_TIME64, planpb.TypeId_TIMESTAMP, planpb.TypeId_DURATION:
		u, err := unitFromPB(pt.Unit)
		if err != nil {
			return nil, err
		}
		switch pt.Id {
		case planpb.TypeId_TIME32:
			if u != arrow.Second && u != arrow.Millisecond {
				return nil, malformed("time32 with unit %s", u)
			}
			return &arrow.Time32Type{Unit: u}, nil
		case planpb.TypeId_TIME64:
			if u != arrow.Microsecond && u != arrow.Nanosecond {
				return nil, malformed("time64 with unit %s", u)
			}
			return &arrow.Time64Type{Unit: u}, nil
		case planpb.TypeId_TIMESTAMP:
			return &arrow.TimestampType{Unit: u, TimeZone: pt.Timezone}, nil
		}
		return &arrow.DurationType{Unit: u}, nil
	case planpb.TypeId_LIST, planpb.TypeId_LARGE_LIST, planpb.TypeId_FIXED_SIZE_LIST:
		fs, err := decodeChildren(pt, 1)
		if err != nil {
			return nil, err
		}
		switch pt.Id {
		case planpb.TypeId_LIST:
			return arrow.ListOfField(fs[0]), nil
		case planpb.TypeId_LARGE_LIST:
			return arrow.LargeListOfField(fs[0]), nil
		}
		if pt.Width < 0 {
			return nil, malformed("fixed_size_list size %d", pt.Width)
		}
		return arrow.FixedSizeListOfField(pt.Width, fs[0]), nil
	case planpb.TypeId_MAP:
		fs, err := decodeChildren(pt, 2)
		if err != nil {
			return nil, err
		}
		if fs[0].Nullable {
			return nil, malformed("map with a nullable key")
		}
		m := arrow.MapOfFields(fs[0], fs[1])
		m.KeysSorted = pt.KeysSorted
		return m, nil
	case planpb.TypeId_STRUCT:
		fs, err := decodeChildren(pt, -1)
		if err != nil {
			return nil, err
		}
		return arrow.StructOf(fs...), nil
	case planpb.TypeId_DICTIONARY:
		it, err := decodeType(pt.IndexType)
		if err != nil {
			return nil, err
		}
		if !arrow.IsInteger(it.ID()) {
			return nil, malformed("dictionary index type %s is not an integer", it)
		}
		vt, err := decodeType(pt.ValueType)
		if err != nil {
			return nil, err
		}
		return &arrow.DictionaryType{IndexType: it, ValueType: vt, Ordered: pt.Ordered}, nil
	}
	return nil, malformed("unknown type id %d", pt.Id)
}

func decodeChildren(pt *planpb.DataType, want int) ([]arrow.Field, error) {
	if want >= 0 && len(pt.Children) != want {
		return nil, malformed("type %s has %d children, want %d", pt.Id, len(pt.Children), want)
	}
	fs := make([]arrow.Field, len(pt.Children))
	for i, c := range pt.Children {
		f, err := decodeField(c)
		if err != nil {
			return nil, err
		}
		fs[i] = f
	}
	return fs, nil
}

func encodeMetadata(m arrow.Metadata) []*planpb.KeyValue {
	if m.Len() == 0 {
		return nil
	}
	out := make([]*planpb.KeyValue, m.Len())
	for i := range out {
		out[i] = &planpb.KeyValue{Key: m.Keys()[i], Value: m.Values()[i]}
	}
	return out
}

func decodeMetadata(kvs []*planpb.KeyValue) arrow.Metadata {
	if len(kvs) == 0 {
		return arrow.Metadata{}
	}
	keys, vals := make([]string, len(kvs)), make([]string, len(kvs))
	for i, kv := range kvs {
		keys[i], vals[i] = kv.GetKey(), kv.GetValue()
	}
	return arrow.NewMetadata(keys, vals)
}

func encodeField(f arrow.Field) (*planpb.Field, error) {
	t, err := encodeType(f.Type)
	if err != nil {
		return nil, fmt.Errorf("field %q: %w", f.Name, err)
	}
	return &planpb.Field{Name: f.Name, Type: t, Nullable: f.Nullable, Metadata: encodeMetadata(f.Metadata)}, nil
}

func decodeField(pf *planpb.Field) (arrow.Field, error) {
	if pf == nil {
		return arrow.Field{}, malformed("missing field")
	}
	t, err := decodeType(pf.Type)
	if err != nil {
		return arrow.Field{}, err
	}
	return arrow.Field{Name: pf.Name, Type: t, Nullable: pf.Nullable, Metadata: decodeMetadata(pf.Metadata)}, nil
}

func encodeSchema(s *arrow.Schema) (*planpb.Schema, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil schema", ErrUnsupported)
	}
	ps := &planpb.Schema{Metadata: encodeMetadata(s.Metadata())}
	for _, f := range s.Fields() {
		pf, err := encodeField(f)
		if err != nil {
			return nil, err
		}
		ps.Fields = append(ps.Fields, pf)
	}
	return ps, nil
}

func decodeSchema(ps *planpb.Schema) (*arrow.Schema, error) {
	if ps == nil {
		return nil, malformed("missing schema")
	}
	fs := make([]arrow.Field, len(ps.Fields))
	for i, pf := range ps.Fields {
		f, err := decodeField(pf)
		if err != nil {
			return nil, err
		}
		fs[i] = f
	}
	md := decodeMetadata(ps.Metadata)
	return arrow.NewSchema(fs, &md), nil
}

// encodeScalar writes the common scalar kinds as plain protobuf values and
// anything else as a one-row Arrow IPC stream.
func encodeScalar(s scalar.Scalar) (*planpb.Scalar, error) {
	if s == nil {
		return nil, fmt.Errorf("%w: nil scalar", ErrUnsupported)
	}
	t, err := encodeType(s.DataType())
	if err != nil {
		return nil, err
	}
	ps := &planpb.Scalar{Type: t}
	if !s.IsValid() {
		ps.IsNull = true
		return ps, nil
	}
	switch s := s.(type) {
	case *scalar.Boolean:
		ps.Value = &planpb.Scalar_BoolValue{BoolValue: s.Value}
	case *scalar.Int8:
		ps.Value = &planpb.Scalar_IntValue{IntValue: int64(s.Value)}
	case *scalar.Int16:
		ps.Value = &planpb.Scalar_IntValue{IntValue: int64(s.Value)}
	case *scalar.Int32:
		ps.Value = &planpb.Scalar_IntValue{IntValue: int64(s.Value)}
	case *scalar.Int64:
		ps.Value = &planpb.Scalar_IntValue{IntValue: s.Value}
	case *scalar.Uint8:
		ps.Value = &planpb.Scalar_UintValue{UintValue: uint64(s.Value)}
	case *scalar.Uint16:
		ps.Value = &planpb.Scalar_UintValue{UintValue: uint64(s.Value)}
	case *scalar.Uint32:
		ps.Value = &planpb.Scalar_UintValue{UintValue: uint64(s.Value)}
	case *scalar.Uint64:
		ps.Value = &planpb.Scalar_UintValue{UintValue: s.Value}
	case *scalar.Float16:
		ps.Value = &planpb.Scalar_UintValue{UintValue: uint64(s.Value.Uint16())}
	case *scalar.Float32:
		ps.Value = &planpb.Scalar_DoubleValue{DoubleValue: float64(s.Value)}
	case *scalar.Float64:
		ps.Value = &planpb.Scalar_DoubleValue{DoubleValue: s.Value}
	case *scalar.Decimal128:
		ps.Value = &planpb.Scalar_DecimalValue{DecimalValue: &planpb.Decimal{Words: []uint64{s.Value.LowBits(), uint64(s.Value.HighBits())}}}
	case *scalar.Decimal256:
		a := s.Value.Array()
		ps.Value = &planpb.Scalar_DecimalValue{DecimalValue: &planpb.Decimal{Words: a[:]}}
	case *scalar.String:
		ps.Value = &planpb.Scalar_BytesValue{BytesValue: s.Data()}
	case *scalar.LargeString:
		ps.Value = &planpb.Scalar_BytesValue{BytesValue: s.Data()}
	case *scalar.Binary:
		ps.Value = &planpb.Scalar_BytesValue{BytesValue: s.Data()}
	case *scalar.LargeBinary:
		ps.Value = &planpb.Scalar_BytesValue{BytesValue: s.Data()}
	case *scalar.FixedSizeBinary:
		ps.Value = &planpb.Scalar_BytesValue{BytesValue: s.Data()}
	case *scalar.Date32:
		ps.Value = &planpb.Scalar_IntValue{IntValue: int64(s.Value)}
	case *scalar.Date64:
		ps.Value = &planpb.Scalar_IntValue{IntValue: int64(s.Value)}
	case *scalar.Time32:
		ps.Value = &planpb.Scalar_IntValue{IntValue: int64(s.Value)}
	case *scalar.Time64:
		ps.Value = &planpb.Scalar_IntValue{IntValue: int64(s.Value)}
	case *scalar.Timestamp:
		ps.Value = &planpb.Scalar_IntValue{IntValue: int64(s.Value)}
	case *scalar.Duration:
		ps.Value = &planpb.Scalar_IntValue{IntValue: int64(s.Value)}
	case *scalar.MonthInterval:
		ps.Value = &planpb.Scalar_IntValue{IntValue: int64(s.Value)}
	default:
		b, err := scalarToIPC(s)
		if err != nil {
			return nil, err
		}
		ps.Value = &planpb.Scalar_IpcValue{IpcValue: b}
	}
	return ps, nil
}

func scalarToIPC(s scalar.Scalar) ([]byte, error) {
	mem := memory.NewGoAllocator()
	arr, err := scalar.MakeArrayFromScalar(s, 1, mem)
	if err != nil {
		return nil, fmt.Errorf("%w: literal of type %s: %v", ErrUnsupported, s.DataType(), err)
	}
	defer arr.Release()
	schema := arrow.NewSchema([]arrow.Field{{Name: "v", Type: s.DataType(), Nullable: true}}, nil)
	rec := array.NewRecordBatch(schema, []arrow.Array{arr}, 1)
	defer rec.Release()
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(schema), ipc.WithAllocator(mem))
	if err := w.Write(rec); err != nil {
		return nil, fmt.Errorf("%w: literal of type %s: %v", ErrUnsupported, s.DataType(), err)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func scalarFromIPC(b []byte, t arrow.DataType) (s scalar.Scalar, err error) {
	r, err := ipc.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, malformed("literal: %v", err)
	}
	defer r.Release()
	if r.Schema().NumFields() != 1 || !arrow.TypeEqual(r.Schema().Field(0).Type, t) {
		return nil, malformed("literal of type %s holds %s", t, r.Schema())
	}
	if !r.Next() {
		return nil, malformed("literal of type %s has no value (%v)", t, r.Err())
	}
	rec := r.RecordBatch()
	if rec.NumRows() != 1 || rec.NumCols() != 1 {
		return nil, malformed("literal of type %s has %d rows", t, rec.NumRows())
	}
	s, err = scalar.GetScalar(rec.Column(0), 0)
	if err != nil {
		return nil, malformed("literal of type %s: %v", t, err)
	}
	return s, nil
}

func decodeScalar(ps *planpb.Scalar) (scalar.Scalar, error) {
	if ps == nil {
		return nil, malformed("missing literal")
	}
	t, err := decodeType(ps.Type)
	if err != nil {
		return nil, err
	}
	if ps.IsNull {
		return scalar.MakeNullScalar(t), nil
	}
	if t.ID() == arrow.NULL {
		return nil, malformed("non-null literal of type null")
	}
	if b, ok := ps.Value.(*planpb.Scalar_IpcValue); ok {
		return scalarFromIPC(b.IpcValue, t)
	}
	wrong := func() error { return malformed("literal of type %s holds %T", t, ps.Value) }
	intIn := func(lo, hi int64) (int64, error) {
		v, ok := ps.Value.(*planpb.Scalar_IntValue)
		if !ok {
			return 0, wrong()
		}
		if v.IntValue < lo || v.IntValue > hi {
			return 0, malformed("literal %d out of range for %s", v.IntValue, t)
		}
		return v.IntValue, nil
	}
	uintIn := func(hi uint64) (uint64, error) {
		v, ok := ps.Value.(*planpb.Scalar_UintValue)
		if !ok {
			return 0, wrong()
		}
		if v.UintValue > hi {
			return 0, malformed("literal %d out of range for %s", v.UintValue, t)
		}
		return v.UintValue, nil
	}
	bytesOf := func() ([]byte, error) {
		v, ok := ps.Value.(*planpb.Scalar_BytesValue)
		if !ok {
			return nil, wrong()
		}
		return v.BytesValue, nil
	}
	switch t := t.(type) {
	case *arrow.BooleanType:
		v, ok := ps.Value.(*planpb.Scalar_BoolValue)
		if !ok {
			return nil, wrong()
		}
		return scalar.NewBooleanScalar(v.BoolValue), nil
	case *arrow.Int8Type:
		v, err := intIn(math.MinInt8, math.MaxInt8)
		return scalar.NewInt8Scalar(int8(v)), err
	case *arrow.Int16Type:
		v, err := intIn(math.MinInt16, math.MaxInt16)
		return scalar.NewInt16Scalar(int16(v)), err
	case *arrow.Int32Type:
		v, err := intIn(math.MinInt32, math.MaxInt32)
		return scalar.NewInt32Scalar(int32(v)), err
	case *arrow.Int64Type:
		v, err := intIn(math.MinInt64, math.MaxInt64)
		return scalar.NewInt64Scalar(v), err
	case *arrow.Uint8Type:
		v, err := uintIn(math.MaxUint8)
		return scalar.NewUint8Scalar(uint8(v)), err
	case *arrow.Uint16Type:
		v, err := uintIn(math.MaxUint16)
		return scalar.NewUint16Scalar(uint16(v)), err
	case *arrow.Uint32Type:
		v, err := uintIn(math.MaxUint32)
		return scalar.NewUint32Scalar(uint32(v)), err
	case *arrow.Uint64Type:
		v, err := uintIn(math.MaxUint64)
		return scalar.NewUint64Scalar(v), err
	case *arrow.Float16Type:
		v, err := uintIn(math.MaxUint16)
		return scalar.NewFloat16Scalar(float16.FromBits(uint16(v))), err
	case *arrow.Float32Type, *arrow.Float64Type:
		v, ok := ps.Value.(*planpb.Scalar_DoubleValue)
		if !ok {
			return nil, wrong()
		}
		if t.ID() == arrow.FLOAT32 {
			return scalar.NewFloat32Scalar(float32(v.DoubleValue)), nil
		}
		return scalar.NewFloat64Scalar(v.DoubleValue), nil
	case *arrow.Decimal128Type, *arrow.Decimal256Type:
		v, ok := ps.Value.(*planpb.Scalar_DecimalValue)
		if !ok || v.DecimalValue == nil {
			return nil, wrong()
		}
		w := v.DecimalValue.Words
		if t.ID() == arrow.DECIMAL128 {
			if len(w) != 2 {
				return nil, malformed("decimal128 literal with %d words", len(w))
			}
			return scalar.NewDecimal128Scalar(decimal128.New(int64(w[1]), w[0]), t), nil
		}
		if len(w) != 4 {
			return nil, malformed("decimal256 literal with %d words", len(w))
		}
		return scalar.NewDecimal256Scalar(decimal256.New(w[3], w[2], w[1], w[0]), t), nil
	case *arrow.StringType:
		b, err := bytesOf()
		return scalar.NewStringScalar(string(b)), err
	case *arrow.LargeStringType:
		b, err := bytesOf()
		return scalar.NewLargeStringScalar(string(b)), err
	case *arrow.BinaryType:
		b, err := bytesOf()
		return scalar.NewBinaryScalar(memory.NewBufferBytes(b), t), err
	case *arrow.LargeBinaryType:
		b, err := bytesOf()
		return scalar.NewLargeBinaryScalar(memory.NewBufferBytes(b)), err
	case *arrow.FixedSizeBinaryType:
		b, err := bytesOf()
		if err != nil {
			return nil, err
		}
		if len(b) != t.ByteWidth {
			return nil, malformed("%s literal of %d bytes", t, len(b))
		}
		return scalar.NewFixedSizeBinaryScalar(memory.NewBufferBytes(b), t), nil
	case *arrow.Date32Type:
		v, err := intIn(math.MinInt32, math.MaxInt32)
		return scalar.NewDate32Scalar(arrow.Date32(v)), err
	case *arrow.Date64Type:
		v, err := intIn(math.MinInt64, math.MaxInt64)
		return scalar.NewDate64Scalar(arrow.Date64(v)), err
	case *arrow.Time32Type:
		v, err := intIn(math.MinInt32, math.MaxInt32)
		return scalar.NewTime32Scalar(arrow.Time32(v), t), err
	case *arrow.Time64Type:
		v, err := intIn(math.MinInt64, math.MaxInt64)
		return scalar.NewTime64Scalar(arrow.Time64(v), t), err
	case *arrow.TimestampType:
		v, err := intIn(math.MinInt64, math.MaxInt64)
		return scalar.NewTimestampScalar(arrow.Timestamp(v), t), err
	case *arrow.DurationType:
		v, err := intIn(math.MinInt64, math.MaxInt64)
		return scalar.NewDurationScalar(arrow.Duration(v), t), err
	case *arrow.MonthIntervalType:
		v, err := intIn(math.MinInt32, math.MaxInt32)
		return scalar.NewMonthIntervalScalar(arrow.MonthInterval(v)), err
	}
	return nil, malformed("literal of type %s must be IPC-encoded", t)
}
