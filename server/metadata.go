package server

import (
	"context"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/qerr"
)

// CatalogName is the one catalog Quiver reports: "def", as MySQL does in
// information_schema (TABLE_CATALOG) and its JDBC driver, so the metadata
// RPCs and information_schema agree. Schemas are MySQL databases.
const CatalogName = "def"

// tableTypes are the catalog's table kinds, named as information_schema
// reports them (TABLE_TYPE).
var tableTypes = []string{catalog.BaseTable.String(), catalog.SystemTable.String(), catalog.View.String()}

func (s *Server) GetFlightInfoCatalogs(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.flightInfo(desc, desc.Cmd, schema_ref.Catalogs), nil
}

func (s *Server) DoGetCatalogs(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.oneBatch(schema_ref.Catalogs, func(b *array.RecordBuilder) {
		b.Field(0).(*array.StringBuilder).Append(CatalogName)
	})
}

func (s *Server) GetFlightInfoTableTypes(_ context.Context, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.flightInfo(desc, desc.Cmd, schema_ref.TableTypes), nil
}

func (s *Server) DoGetTableTypes(context.Context) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.oneBatch(schema_ref.TableTypes, func(b *array.RecordBuilder) {
		b.Field(0).(*array.StringBuilder).AppendValues(tableTypes, nil)
	})
}

func (s *Server) GetFlightInfoSchemas(_ context.Context, _ flightsql.GetDBSchemas, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.flightInfo(desc, desc.Cmd, schema_ref.DBSchemas), nil
}

func (s *Server) DoGetDBSchemas(_ context.Context, cmd flightsql.GetDBSchemas) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if s.cat == nil {
		return nil, nil, s.toStatus(errNoCatalog)
	}
	names := s.matchingSchemas(cmd.GetCatalog(), cmd.GetDBSchemaFilterPattern())
	return s.oneBatch(schema_ref.DBSchemas, func(b *array.RecordBuilder) {
		for _, n := range names {
			b.Field(0).(*array.StringBuilder).Append(CatalogName)
			b.Field(1).(*array.StringBuilder).Append(n)
		}
	})
}

func (s *Server) GetFlightInfoTables(_ context.Context, cmd flightsql.GetTables, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.flightInfo(desc, desc.Cmd, tablesSchema(cmd.GetIncludeSchema())), nil
}

func tablesSchema(includeSchema bool) *arrow.Schema {
	if includeSchema {
		return schema_ref.TablesWithIncludedSchema
	}
	return schema_ref.Tables
}

// DoGetTables lists tables whose schema and name match the LIKE patterns
// and whose type is among the requested ones, with their Arrow schema
// (columns annotated with Flight SQL column metadata) when asked.
func (s *Server) DoGetTables(ctx context.Context, cmd flightsql.GetTables) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if s.cat == nil {
		return nil, nil, s.toStatus(errNoCatalog)
	}
	wantType := map[string]bool{}
	for _, t := range cmd.GetTableTypes() {
		wantType[strings.ToUpper(t)] = true
	}
	var tables []*catalog.Table
	for _, sc := range s.matchingSchemas(cmd.GetCatalog(), cmd.GetDBSchemaFilterPattern()) {
		ts, err := s.cat.Tables(ctx, sc)
		if err != nil {
			return nil, nil, s.toStatus(err)
		}
		for _, t := range ts {
			if p := cmd.GetTableNameFilterPattern(); p != nil && !likeMatch(*p, t.Name) {
				continue
			}
			if len(wantType) > 0 && !wantType[t.Kind.String()] {
				continue
			}
			tables = append(tables, t)
		}
	}
	include := cmd.GetIncludeSchema()
	return s.oneBatch(tablesSchema(include), func(b *array.RecordBuilder) {
		for _, t := range tables {
			b.Field(0).(*array.StringBuilder).Append(CatalogName)
			b.Field(1).(*array.StringBuilder).Append(t.Schema)
			b.Field(2).(*array.StringBuilder).Append(t.Name)
			b.Field(3).(*array.StringBuilder).Append(t.Kind.String())
			if include {
				b.Field(4).(*array.BinaryBuilder).Append(flight.SerializeSchema(annotate(t), s.Alloc))
			}
		}
	})
}

var errNoCatalog = qerr.New(qerr.Unimplemented, "metadata commands are not available: the server has no catalog")

// matchingSchemas returns the schema names matching the filters; a catalog
// other than CatalogName matches nothing, an empty one matches it.
func (s *Server) matchingSchemas(cat, pattern *string) []string {
	if cat != nil && *cat != "" && !strings.EqualFold(*cat, CatalogName) {
		return nil
	}
	var out []string
	for _, n := range s.cat.Schemas() {
		if pattern == nil || likeMatch(*pattern, n) {
			out = append(out, n)
		}
	}
	return out
}

// annotate returns a table's columns as clients receive them in results
// (engine.ClientSchema: BOOLEAN columns arrive as BIGINT 1/0, so JDBC
// getColumns and ADBC get_table_schema agree with what SELECT returns) with
// Flight SQL column metadata (catalog, schema, table, type name, precision,
// scale); JDBC getColumns reads it. information_schema describes the
// declared MySQL type instead (tinyint(1) for BOOLEAN, as MySQL does).
func annotate(t *catalog.Table) *arrow.Schema {
	cols := engine.ClientSchema(t.Columns)
	fields := make([]arrow.Field, cols.NumFields())
	for i, f := range cols.Fields() {
		md := flightsql.NewColumnMetadataBuilder().
			CatalogName(CatalogName).SchemaName(t.Schema).TableName(t.Name).
			TypeName(mysqlTypeName(f.Type)).IsReadOnly(t.Kind != catalog.BaseTable).
			IsSearchable(true).IsAutoIncrement(false)
		if p, sc, ok := precisionScale(f.Type); ok {
			md.Precision(p).Scale(sc)
		}
		f.Metadata = md.Metadata()
		fields[i] = f
	}
	return arrow.NewSchema(fields, nil)
}

// mysqlTypeName is the SQL type name of a result column of type dt.
func mysqlTypeName(dt arrow.DataType) string {
	switch dt.ID() {
	case arrow.INT8:
		return "TINYINT"
	case arrow.INT16:
		return "SMALLINT"
	case arrow.INT32:
		return "INT"
	case arrow.INT64:
		return "BIGINT"
	case arrow.UINT8:
		return "TINYINT UNSIGNED"
	case arrow.UINT16:
		return "SMALLINT UNSIGNED"
	case arrow.UINT32:
		return "INT UNSIGNED"
	case arrow.UINT64:
		return "BIGINT UNSIGNED"
	case arrow.FLOAT32:
		return "FLOAT"
	case arrow.FLOAT64:
		return "DOUBLE"
	case arrow.DECIMAL32, arrow.DECIMAL64, arrow.DECIMAL128, arrow.DECIMAL256:
		return "DECIMAL"
	case arrow.STRING, arrow.LARGE_STRING, arrow.STRING_VIEW:
		return "VARCHAR"
	case arrow.BINARY, arrow.LARGE_BINARY, arrow.BINARY_VIEW, arrow.FIXED_SIZE_BINARY:
		return "VARBINARY"
	case arrow.DATE32, arrow.DATE64:
		return "DATE"
	case arrow.TIMESTAMP:
		return "DATETIME"
	case arrow.TIME32, arrow.TIME64:
		return "TIME"
	case arrow.NULL:
		return "NULL"
	case arrow.DICTIONARY:
		return mysqlTypeName(dt.(*arrow.DictionaryType).ValueType)
	}
	return strings.ToUpper(dt.Name())
}

func precisionScale(dt arrow.DataType) (int32, int32, bool) {
	if d, ok := dt.(arrow.DecimalType); ok {
		return d.GetPrecision(), d.GetScale(), true
	}
	return 0, 0, false
}

// likeMatch reports whether s matches the SQL LIKE pattern p (% any run,
// _ one character, \ escapes), ignoring case as identifiers do.
func likeMatch(p, s string) bool {
	pr, sr := []rune(strings.ToLower(p)), []rune(strings.ToLower(s))
	// Iterative matching with backtracking to the last %.
	pi, si, starP, starS := 0, 0, -1, 0
	for si < len(sr) {
		if pi < len(pr) {
			switch c := pr[pi]; {
			case c == '%':
				starP, starS = pi, si
				pi++
				continue
			case c == '\\' && pi+1 < len(pr):
				if pr[pi+1] == sr[si] {
					pi, si = pi+2, si+1
					continue
				}
			case c == '_' || c == sr[si]:
				pi, si = pi+1, si+1
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starS++
		pi, si = starP+1, starS
	}
	for pi < len(pr) && pr[pi] == '%' {
		pi++
	}
	return pi == len(pr)
}

// oneBatch returns a single-batch result built by fill.
func (s *Server) oneBatch(schema *arrow.Schema, fill func(*array.RecordBuilder)) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	b := array.NewRecordBuilder(s.Alloc, schema)
	defer b.Release()
	fill(b)
	ch := make(chan flight.StreamChunk, 1)
	ch <- flight.StreamChunk{Data: b.NewRecordBatch()}
	close(ch)
	return schema, ch, nil
}
