package server

import (
	"context"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
)

// xdbcType is one row of GetXdbcTypeInfo: a SQL type Quiver stores, with
// its JDBC/ODBC type code.
type xdbcType struct {
	name            string
	dataType        int32 // java.sql.Types / XDBC data type
	size            int32 // max precision or length; 0 = not applicable
	prefix, suffix  string
	createParams    []string
	caseSensitive   bool
	unsigned        bool
	fixedPrecScale  bool
	minScale        int32
	maxScale        int32
	sqlDataType     int32
	datetimeSubcode int32 // 0 = none
	radix           int32 // 0 = none
	searchableBasic bool  // numbers, dates: all but LIKE
}

// xdbcTypes are the column types CREATE TABLE accepts and the engine
// stores (the names information_schema and GetTables report).
var xdbcTypes = []xdbcType{
	{name: "BOOLEAN", dataType: 16, size: 1, sqlDataType: 16, searchableBasic: true},
	{name: "TINYINT", dataType: -6, size: 3, sqlDataType: -6, radix: 10, searchableBasic: true},
	{name: "SMALLINT", dataType: 5, size: 5, sqlDataType: 5, radix: 10, searchableBasic: true},
	{name: "INT", dataType: 4, size: 10, sqlDataType: 4, radix: 10, searchableBasic: true},
	{name: "INT UNSIGNED", dataType: 4, size: 10, unsigned: true, sqlDataType: 4, radix: 10, searchableBasic: true},
	{name: "BIGINT", dataType: -5, size: 19, sqlDataType: -5, radix: 10, searchableBasic: true},
	{name: "BIGINT UNSIGNED", dataType: -5, size: 20, unsigned: true, sqlDataType: -5, radix: 10, searchableBasic: true},
	{name: "DECIMAL", dataType: 3, size: 38, createParams: []string{"precision", "scale"}, fixedPrecScale: true,
		maxScale: 38, sqlDataType: 3, radix: 10, searchableBasic: true},
	{name: "FLOAT", dataType: 7, size: 24, sqlDataType: 7, radix: 2, searchableBasic: true},
	{name: "DOUBLE", dataType: 8, size: 53, sqlDataType: 8, radix: 2, searchableBasic: true},
	{name: "VARCHAR", dataType: 12, size: 65535, prefix: "'", suffix: "'", createParams: []string{"length"},
		caseSensitive: true, sqlDataType: 12},
	{name: "VARBINARY", dataType: -3, size: 65535, prefix: "X'", suffix: "'", createParams: []string{"length"},
		sqlDataType: -3},
	{name: "DATE", dataType: 91, size: 10, prefix: "DATE '", suffix: "'", sqlDataType: 9, datetimeSubcode: 1, searchableBasic: true},
	{name: "TIME", dataType: 92, size: 15, prefix: "TIME '", suffix: "'", createParams: []string{"fsp"}, maxScale: 6,
		sqlDataType: 9, datetimeSubcode: 2, searchableBasic: true},
	{name: "DATETIME", dataType: 93, size: 26, prefix: "TIMESTAMP '", suffix: "'", createParams: []string{"fsp"},
		maxScale: 6, sqlDataType: 9, datetimeSubcode: 3, searchableBasic: true},
}

func init() {
	sort.SliceStable(xdbcTypes, func(i, j int) bool { return xdbcTypes[i].dataType < xdbcTypes[j].dataType })
}

func (s *Server) GetFlightInfoXdbcTypeInfo(_ context.Context, _ flightsql.GetXdbcTypeInfo, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.flightInfo(desc, desc.Cmd, schema_ref.XdbcTypeInfo), nil
}

// DoGetXdbcTypeInfo lists the SQL types, ordered by data type, optionally
// only those of one data type.
func (s *Server) DoGetXdbcTypeInfo(_ context.Context, cmd flightsql.GetXdbcTypeInfo) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	want := cmd.GetDataType()
	return s.oneBatch(schema_ref.XdbcTypeInfo, func(b *array.RecordBuilder) {
		for _, t := range xdbcTypes {
			if want != nil && *want != t.dataType {
				continue
			}
			appendXdbcType(b, t)
		}
	})
}

const (
	xdbcNullable        = 1 // columnNullable
	xdbcSearchable      = 3 // typeSearchable
	xdbcSearchableBasic = 2 // typePredBasic
)

func appendXdbcType(b *array.RecordBuilder, t xdbcType) {
	str := func(i int, v string) {
		if v == "" {
			b.Field(i).AppendNull()
			return
		}
		b.Field(i).(*array.StringBuilder).Append(v)
	}
	i32 := func(i int, v int32, null bool) {
		if null {
			b.Field(i).AppendNull()
			return
		}
		b.Field(i).(*array.Int32Builder).Append(v)
	}
	b.Field(0).(*array.StringBuilder).Append(t.name)
	b.Field(1).(*array.Int32Builder).Append(t.dataType)
	i32(2, t.size, t.size == 0)
	str(3, t.prefix)
	str(4, t.suffix)
	params := b.Field(5).(*array.ListBuilder)
	if len(t.createParams) == 0 {
		params.AppendNull()
	} else {
		params.Append(true)
		params.ValueBuilder().(*array.StringBuilder).AppendValues(t.createParams, nil)
	}
	b.Field(6).(*array.Int32Builder).Append(xdbcNullable)
	b.Field(7).(*array.BooleanBuilder).Append(t.caseSensitive)
	searchable := int32(xdbcSearchable)
	if t.searchableBasic {
		searchable = xdbcSearchableBasic
	}
	b.Field(8).(*array.Int32Builder).Append(searchable)
	isNumber := t.radix != 0
	if isNumber {
		b.Field(9).(*array.BooleanBuilder).Append(t.unsigned)
	} else {
		b.Field(9).AppendNull()
	}
	b.Field(10).(*array.BooleanBuilder).Append(t.fixedPrecScale)
	if isNumber {
		b.Field(11).(*array.BooleanBuilder).Append(false)
	} else {
		b.Field(11).AppendNull()
	}
	str(12, t.name)
	hasScale := t.maxScale > 0
	i32(13, t.minScale, !hasScale)
	i32(14, t.maxScale, !hasScale)
	b.Field(15).(*array.Int32Builder).Append(t.sqlDataType)
	i32(16, t.datetimeSubcode, t.datetimeSubcode == 0)
	i32(17, t.radix, t.radix == 0)
	b.Field(18).AppendNull()
}
