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
)

// Key metadata, in the spec's schemas: JDBC getPrimaryKeys/getImportedKeys/
// getExportedKeys/getCrossReference and DBeaver's table browser call them
// and fail on Unimplemented (DBeaver edits rows only of tables with a
// primary key). Primary keys are those CREATE TABLE declared; the catalog
// records no foreign keys, so those commands answer truthfully with no rows.

func (s *Server) GetFlightInfoPrimaryKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.flightInfo(desc, desc.Cmd, schema_ref.PrimaryKeys), nil
}

// DoGetPrimaryKeys lists the primary key columns of the named table, in
// every schema when the request names none (the spec: an omitted schema
// does not narrow the search).
func (s *Server) DoGetPrimaryKeys(ctx context.Context, ref flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if s.cat == nil {
		return nil, nil, s.toStatus(errNoCatalog)
	}
	var schemas []string
	if ref.DBSchema != nil {
		if ref.Catalog == nil || *ref.Catalog == "" || strings.EqualFold(*ref.Catalog, CatalogName) {
			schemas = []string{*ref.DBSchema}
		}
	} else {
		schemas = s.matchingSchemas(ref.Catalog, nil)
	}
	var keyed []*catalog.Table
	for _, sc := range schemas {
		ts, err := s.cat.Tables(ctx, sc)
		if err != nil {
			continue // no such schema: no keys
		}
		for _, t := range ts {
			if strings.EqualFold(t.Name, ref.Table) && t.Kind == catalog.BaseTable {
				keyed = append(keyed, t)
			}
		}
	}
	return s.oneBatch(schema_ref.PrimaryKeys, func(b *array.RecordBuilder) {
		for _, t := range keyed {
			keys := catalog.Keys(t.Columns)
			if len(keys) == 0 || !keys[0].Primary {
				continue
			}
			for i, col := range keys[0].Columns {
				b.Field(0).(*array.StringBuilder).Append(CatalogName)
				b.Field(1).(*array.StringBuilder).Append(t.Schema)
				b.Field(2).(*array.StringBuilder).Append(t.Name)
				b.Field(3).(*array.StringBuilder).Append(col)
				b.Field(4).(*array.Int32Builder).Append(int32(i + 1))
				b.Field(5).(*array.StringBuilder).Append(keys[0].Name)
			}
		}
	})
}

func (s *Server) GetFlightInfoImportedKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.flightInfo(desc, desc.Cmd, schema_ref.ImportedKeys), nil
}

func (s *Server) DoGetImportedKeys(context.Context, flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.oneBatch(schema_ref.ImportedKeys, func(*array.RecordBuilder) {})
}

func (s *Server) GetFlightInfoExportedKeys(_ context.Context, _ flightsql.TableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.flightInfo(desc, desc.Cmd, schema_ref.ExportedKeys), nil
}

func (s *Server) DoGetExportedKeys(context.Context, flightsql.TableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.oneBatch(schema_ref.ExportedKeys, func(*array.RecordBuilder) {})
}

func (s *Server) GetFlightInfoCrossReference(_ context.Context, _ flightsql.CrossTableRef, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.flightInfo(desc, desc.Cmd, schema_ref.CrossReference), nil
}

func (s *Server) DoGetCrossReference(context.Context, flightsql.CrossTableRef) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	return s.oneBatch(schema_ref.CrossReference, func(*array.RecordBuilder) {})
}
