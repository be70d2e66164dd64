package engine

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// runParams executes sql with params and returns the result schema and rows.
func runParams(t *testing.T, e *Engine, s *Session, sql string, params ...scalar.Scalar) (*arrow.Schema, []string) {
	t.Helper()
	res, err := e.Execute(context.Background(), s, sql, params)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	defer res.Stream.Close()
	var rows []string
	for {
		b, err := res.Stream.Next(context.Background())
		if err != nil {
			break
		}
		for r := 0; r < int(b.NumRows()); r++ {
			row := ""
			for c, col := range b.Columns() {
				if c > 0 {
					row += "|"
				}
				if col.DataType().ID() == arrow.NULL {
					row += "NULL"
				} else {
					row += valueString(col, r)
				}
			}
			rows = append(rows, row)
		}
		b.Release()
	}
	return res.Schema, rows
}

// A `?` whose context gives no type takes the bound value's type (MySQL
// does the same); Prepare reports it as NULL until values are bound.
func TestUntypedParamTakesValueType(t *testing.T) {
	e, s := tpchEngine(t)
	ctx := context.Background()
	p, err := e.Prepare(ctx, s, "SELECT ? AS p")
	if err != nil {
		t.Fatal(err)
	}
	if p.Schema.Field(0).Type.ID() != arrow.NULL || p.Params[0].ID() != arrow.NULL {
		t.Fatalf("prepared without values: schema %v params %v, want null", p.Schema, p.Params)
	}
	dec := scalar.NewDecimal128Scalar(decimal128.FromI64(12345), &arrow.Decimal128Type{Precision: 10, Scale: 2})
	cases := []struct {
		v    scalar.Scalar
		want string
	}{
		{scalar.NewInt64Scalar(5), "5"},
		{scalar.NewStringScalar("héllo"), "héllo"},
		{scalar.NewFloat64Scalar(2.5), "2.5"},
		{scalar.NewDate32Scalar(arrow.Date32(19000)), "2022-01-08"},
		{dec, "123.45"},
		{scalar.NewBinaryScalar(memory.NewBufferBytes([]byte{0xca, 0xfe}), arrow.BinaryTypes.Binary), ""},
		{scalar.MakeNullScalar(arrow.Null), "NULL"},
	}
	for _, c := range cases {
		schema, rows := runParams(t, e, s, "SELECT ? AS p", c.v)
		if got, want := schema.Field(0).Type, c.v.DataType(); !arrow.TypeEqual(got, want) {
			t.Errorf("SELECT ? with %v: column type %v, want %v", c.v, got, want)
		}
		if len(rows) != 1 || (c.want != "" && rows[0] != c.want) {
			t.Errorf("SELECT ? with %v: rows %v, want [%s]", c.v, rows, c.want)
		}
		pb, err := e.PrepareBound(ctx, s, "SELECT ? AS p", []scalar.Scalar{c.v})
		if err != nil {
			t.Fatal(err)
		}
		if !arrow.TypeEqual(pb.Schema.Field(0).Type, schema.Field(0).Type) {
			t.Errorf("PrepareBound with %v: %v, Execute gave %v", c.v, pb.Schema, schema)
		}
	}

	// Typed by context: unchanged (the value is cast to the column's type).
	schema, rows := runParams(t, e, s, "SELECT n_name, ? + 1 AS x, ? AS y FROM nation WHERE n_nationkey = ?",
		scalar.NewInt64Scalar(41), scalar.NewStringScalar("z"), scalar.NewStringScalar("7"))
	if len(rows) != 1 || rows[0] != "GERMANY|42|z" {
		t.Errorf("mixed parameters: %v", rows)
	}
	if schema.Field(2).Type.ID() != arrow.STRING {
		t.Errorf("mixed parameters: y is %v, want utf8", schema.Field(2).Type)
	}
	// In a subquery and an aggregate.
	if _, rows := runParams(t, e, s, "SELECT MAX(p) FROM (SELECT ? AS p FROM nation) t", scalar.NewInt64Scalar(3)); len(rows) != 1 || rows[0] != "3" {
		t.Errorf("MAX over a derived parameter column: %v", rows)
	}
}
