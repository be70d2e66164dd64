package integration

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/integration/tpch"
)

// A parameter the statement gives no type (SELECT ?) takes the bound value's
// type: dataset_schema reports NULL at preparation, the FlightInfo after
// binding and the stream carry the value's type.
func TestBareParameterOverFlightSQL(t *testing.T) {
	eng := newEngine(t, sf001, "tpch")
	cl := serve(t, eng)
	ctx := context.Background()
	ps, err := cl.Prepare(ctx, "SELECT ? AS p")
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close(ctx)
	if ds := ps.DatasetSchema(); ds.NumFields() != 1 || ds.Field(0).Type.ID() != arrow.NULL {
		t.Fatalf("dataset_schema before binding: %v, want one NULL column", ds)
	}
	if pschema := ps.ParameterSchema(); pschema.NumFields() != 1 {
		t.Fatalf("parameter_schema: %v", pschema)
	}

	bind := func(typ arrow.DataType, fill func(array.Builder)) {
		t.Helper()
		b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{{Name: "parameter_1", Type: typ, Nullable: true}}, nil))
		defer b.Release()
		fill(b.Field(0))
		rec := b.NewRecordBatch()
		defer rec.Release()
		ps.SetParameters(rec)
	}
	run := func(want arrow.DataType) string {
		t.Helper()
		info, err := ps.Execute(ctx)
		if err != nil {
			t.Fatal(err)
		}
		schema, err := flight.DeserializeSchema(info.Schema, memory.DefaultAllocator)
		if err != nil {
			t.Fatal(err)
		}
		if !arrow.TypeEqual(schema.Field(0).Type, want) {
			t.Errorf("FlightInfo schema after binding a %v: %v", want, schema)
		}
		rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
		if err != nil {
			t.Fatal(err)
		}
		defer rdr.Release()
		got := ""
		for rdr.Next() {
			rec := rdr.RecordBatch()
			if !arrow.TypeEqual(rec.Column(0).DataType(), want) {
				t.Errorf("stream column type %v, want %v", rec.Column(0).DataType(), want)
			}
			for i := 0; i < int(rec.NumRows()); i++ {
				got += rec.Column(0).ValueStr(i)
			}
		}
		if err := rdr.Err(); err != nil {
			t.Fatal(err)
		}
		return got
	}

	bind(arrow.PrimitiveTypes.Int64, func(b array.Builder) { b.(*array.Int64Builder).Append(5) })
	if got := run(arrow.PrimitiveTypes.Int64); got != "5" {
		t.Errorf("SELECT ? with 5: %q", got)
	}
	// The same handle bound again with another type.
	bind(arrow.BinaryTypes.String, func(b array.Builder) { b.(*array.StringBuilder).Append("five") })
	if got := run(arrow.BinaryTypes.String); got != "five" {
		t.Errorf("SELECT ? with 'five': %q", got)
	}
	bind(arrow.PrimitiveTypes.Float64, func(b array.Builder) { b.(*array.Float64Builder).Append(0.5) })
	if got := run(arrow.PrimitiveTypes.Float64); got != "0.5" {
		t.Errorf("SELECT ? with 0.5: %q", got)
	}
}

// Timestamp parameters are advertised in milliseconds (the JDBC driver
// writes a java.sql.Timestamp's milliseconds into whatever vector
// parameter_schema asks for); values bound in any unit are cast to the
// column's type, so microseconds from other clients still match exactly.
func TestTimestampParameterUnits(t *testing.T) {
	data := t.TempDir()
	copyTree(t, "testdata/clients", filepath.Join(data, "clients"))
	eng := newEngine(t, data, "clients")
	cl := serve(t, eng)
	ctx := context.Background()
	ps, err := cl.Prepare(ctx, "SELECT id FROM alltypes WHERE ts = ? ORDER BY id")
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Close(ctx)
	want := &arrow.TimestampType{Unit: arrow.Millisecond}
	if pt := ps.ParameterSchema().Field(0).Type; !arrow.TypeEqual(pt, want) {
		t.Errorf("parameter_schema type %v, want %v", pt, want)
	}
	for _, c := range []struct {
		unit arrow.TimeUnit
		at   time.Time
		want string
	}{
		{arrow.Millisecond, time.Date(2038, 1, 19, 3, 14, 8, 0, time.UTC), "4"},
		{arrow.Millisecond, time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), "2"},
		{arrow.Microsecond, time.Date(2024, 2, 29, 12, 34, 56, 789012000, time.UTC), "1"},
		{arrow.Millisecond, time.Date(2024, 2, 29, 12, 34, 56, 789000000, time.UTC), ""},
	} {
		typ := &arrow.TimestampType{Unit: c.unit}
		b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{{Name: "parameter_1", Type: typ, Nullable: true}}, nil))
		v, err := arrow.TimestampFromTime(c.at, c.unit)
		if err != nil {
			t.Fatal(err)
		}
		b.Field(0).(*array.TimestampBuilder).Append(v)
		rec := b.NewRecordBatch()
		b.Release()
		ps.SetParameters(rec)
		rec.Release()
		info, err := ps.Execute(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rdr, err := cl.DoGet(ctx, info.Endpoint[0].Ticket)
		if err != nil {
			t.Fatal(err)
		}
		got := joinRows(tpch.Rows(readAll(t, rdr)))
		if got != c.want {
			t.Errorf("ts = %v (%v): ids %q, want %q", c.at, typ, got, c.want)
		}
	}
}

func readAll(t *testing.T, rdr *flight.Reader) []arrow.RecordBatch {
	t.Helper()
	defer rdr.Release()
	var out []arrow.RecordBatch
	for rdr.Next() {
		b := rdr.RecordBatch()
		b.Retain()
		out = append(out, b)
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
