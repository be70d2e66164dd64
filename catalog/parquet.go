package catalog

import (
	"encoding/binary"
	"fmt"
	"os"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/apache/arrow-go/v18/parquet/schema"
)

// readParquetMeta reads the footer of one Parquet file: its Arrow schema
// (with metadata stripped) and per-row-group statistics.
func readParquetMeta(path string, info os.FileInfo) (File, *arrow.Schema, error) {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return File{}, nil, fmt.Errorf("open parquet file %s: %w", path, err)
	}
	defer pf.Close()
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{}, memory.DefaultAllocator)
	if err != nil {
		return File{}, nil, fmt.Errorf("read parquet schema of %s: %w", path, err)
	}
	sc, err := fr.Schema()
	if err != nil {
		return File{}, nil, fmt.Errorf("read parquet schema of %s: %w", path, err)
	}
	sc = cleanSchema(sc)
	md := pf.MetaData()
	f := File{Path: path, Size: info.Size(), NumRows: md.NumRows}
	// Map each top-level field to its leaf column; nested fields get no stats.
	leaf := make([]int, len(sc.Fields()))
	for i := range leaf {
		leaf[i] = -1
		if i < len(fr.Manifest.Fields) && len(fr.Manifest.Fields[i].Children) == 0 {
			leaf[i] = fr.Manifest.Fields[i].ColIndex
		}
	}
	for rgi := 0; rgi < md.NumRowGroups(); rgi++ {
		rg := md.RowGroup(rgi)
		out := RowGroup{Index: rgi, NumRows: rg.NumRows(), ColumnStats: make([]*ColumnStats, len(leaf))}
		for i, li := range leaf {
			if li < 0 {
				continue
			}
			cc, err := rg.ColumnChunk(li)
			if err != nil {
				continue
			}
			st, err := cc.Statistics()
			if err != nil || st == nil {
				continue
			}
			out.ColumnStats[i] = convertStats(st, sc.Field(i).Type, pf.MetaData().Schema.Column(li))
		}
		f.RowGroups = append(f.RowGroups, out)
	}
	return f, sc, nil
}

// cleanSchema drops schema and field metadata (Parquet field ids, the stored
// Arrow schema) so table schemas compare by names and types only.
func cleanSchema(sc *arrow.Schema) *arrow.Schema {
	fields := make([]arrow.Field, len(sc.Fields()))
	for i, f := range sc.Fields() {
		fields[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: f.Nullable}
	}
	return arrow.NewSchema(fields, nil)
}

// convertStats turns typed Parquet statistics into scalars of the column's
// Arrow type; min/max stay nil whenever the conversion is not certain.
func convertStats(st metadata.TypedStatistics, dt arrow.DataType, col *schema.Column) *ColumnStats {
	cs := &ColumnStats{NullCount: -1}
	if st.HasNullCount() {
		cs.NullCount = st.NullCount()
	}
	if !st.HasMinMax() {
		return cs
	}
	var minS, maxS scalar.Scalar
	switch s := st.(type) {
	case *metadata.Int32Statistics:
		minS, maxS = int32Scalar(s.Min(), dt), int32Scalar(s.Max(), dt)
	case *metadata.Int64Statistics:
		minS, maxS = int64Scalar(s.Min(), dt, col), int64Scalar(s.Max(), dt, col)
	case *metadata.Float32Statistics:
		if dt.ID() == arrow.FLOAT32 && !isNaN32(s.Min()) && !isNaN32(s.Max()) {
			minS, maxS = scalar.NewFloat32Scalar(s.Min()), scalar.NewFloat32Scalar(s.Max())
		}
	case *metadata.Float64Statistics:
		if dt.ID() == arrow.FLOAT64 && s.Min() == s.Min() && s.Max() == s.Max() {
			minS, maxS = scalar.NewFloat64Scalar(s.Min()), scalar.NewFloat64Scalar(s.Max())
		}
	case *metadata.BooleanStatistics:
		if dt.ID() == arrow.BOOL {
			minS, maxS = scalar.NewBooleanScalar(s.Min()), scalar.NewBooleanScalar(s.Max())
		}
	case *metadata.ByteArrayStatistics:
		minS, maxS = bytesScalar(s.Min(), dt), bytesScalar(s.Max(), dt)
	case *metadata.FixedLenByteArrayStatistics:
		minS, maxS = bytesScalar(s.Min(), dt), bytesScalar(s.Max(), dt)
	}
	if minS != nil && maxS != nil {
		cs.Min, cs.Max = minS, maxS
	}
	return cs
}

func isNaN32(f float32) bool { return f != f }

func int32Scalar(v int32, dt arrow.DataType) scalar.Scalar {
	switch t := dt.(type) {
	case *arrow.Int8Type:
		return scalar.NewInt8Scalar(int8(v))
	case *arrow.Int16Type:
		return scalar.NewInt16Scalar(int16(v))
	case *arrow.Int32Type:
		return scalar.NewInt32Scalar(v)
	case *arrow.Int64Type:
		return scalar.NewInt64Scalar(int64(v))
	case *arrow.Uint8Type:
		return scalar.NewUint8Scalar(uint8(v))
	case *arrow.Uint16Type:
		return scalar.NewUint16Scalar(uint16(v))
	case *arrow.Uint32Type:
		return scalar.NewUint32Scalar(uint32(v))
	case *arrow.Date32Type:
		return scalar.NewDate32Scalar(arrow.Date32(v))
	case *arrow.Decimal128Type:
		return scalar.NewDecimal128Scalar(decimal128.FromI64(int64(v)), t)
	}
	return nil
}

func int64Scalar(v int64, dt arrow.DataType, col *schema.Column) scalar.Scalar {
	switch t := dt.(type) {
	case *arrow.Int64Type:
		return scalar.NewInt64Scalar(v)
	case *arrow.Uint64Type:
		return scalar.NewUint64Scalar(uint64(v))
	case *arrow.Decimal128Type:
		return scalar.NewDecimal128Scalar(decimal128.FromI64(v), t)
	case *arrow.TimestampType:
		// Only when the stored unit is the Arrow unit (a stored Arrow schema
		// may ask for a different unit than the file holds).
		lt, ok := col.LogicalType().(*schema.TimestampLogicalType)
		if u, known := timeUnitOf(lt); ok && known && u == t.Unit {
			return scalar.NewTimestampScalar(arrow.Timestamp(v), t)
		}
	}
	return nil
}

func timeUnitOf(lt *schema.TimestampLogicalType) (arrow.TimeUnit, bool) {
	if lt == nil {
		return 0, false
	}
	switch lt.TimeUnit() {
	case schema.TimeUnitMillis:
		return arrow.Millisecond, true
	case schema.TimeUnitMicros:
		return arrow.Microsecond, true
	case schema.TimeUnitNanos:
		return arrow.Nanosecond, true
	}
	return 0, false
}

func bytesScalar(b []byte, dt arrow.DataType) scalar.Scalar {
	switch t := dt.(type) {
	case *arrow.StringType:
		return scalar.NewStringScalar(string(b))
	case *arrow.LargeStringType:
		return scalar.NewLargeStringScalar(string(b))
	case *arrow.BinaryType:
		return scalar.NewBinaryScalar(memory.NewBufferBytes(append([]byte(nil), b...)), t)
	case *arrow.Decimal128Type:
		if n, ok := decimalFromBigEndian(b); ok {
			return scalar.NewDecimal128Scalar(n, t)
		}
	}
	return nil
}

// decimalFromBigEndian decodes a Parquet big-endian two's complement decimal.
func decimalFromBigEndian(b []byte) (decimal128.Num, bool) {
	if len(b) == 0 || len(b) > 16 {
		return decimal128.Num{}, false
	}
	var buf [16]byte
	if b[0]&0x80 != 0 {
		for i := range buf {
			buf[i] = 0xff
		}
	}
	copy(buf[16-len(b):], b)
	hi := int64(binary.BigEndian.Uint64(buf[:8]))
	lo := binary.BigEndian.Uint64(buf[8:])
	return decimal128.New(hi, lo), true
}
