package agg

import (
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution/ops"
	"github.com/quiverdb/quiver/qerr"
)

func TestResolve(t *testing.T) {
	d152 := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	cases := []struct {
		name string
		args []arrow.DataType
		want string
	}{
		{"sum", []arrow.DataType{arrow.PrimitiveTypes.Int32}, "decimal(38, 0)"},
		{"sum", []arrow.DataType{d152}, "decimal(38, 2)"},
		{"avg", []arrow.DataType{arrow.PrimitiveTypes.Int64}, "decimal(38, 4)"},
		{"AVG", []arrow.DataType{d152}, "decimal(38, 6)"},
		{"sum", []arrow.DataType{arrow.PrimitiveTypes.Float32}, "float64"},
		{"count", []arrow.DataType{arrow.BinaryTypes.String}, "int64"},
		{"count_star", nil, "int64"},
		{"min", []arrow.DataType{arrow.FixedWidthTypes.Date32}, "date32"},
		{"std", []arrow.DataType{arrow.PrimitiveTypes.Float64}, "float64"},
		{"variance", []arrow.DataType{arrow.PrimitiveTypes.Float64}, "float64"},
		{"group_concat", []arrow.DataType{arrow.PrimitiveTypes.Int64}, "utf8"},
		{"bit_or", []arrow.DataType{arrow.PrimitiveTypes.Int64}, "uint64"},
	}
	for _, c := range cases {
		s, err := Resolve(c.name, c.args, false)
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.Return.String() != c.want {
			t.Errorf("%s(%v) = %s, want %s", c.name, c.args, s.Return, c.want)
		}
	}
	if _, err := Resolve("nosuch", nil, false); qerr.KindOf(err) != qerr.NotFound {
		t.Errorf("unknown aggregate: %v", err)
	}
	if !IsAggregate("STDDEV") || IsAggregate("abs") || !IsWindowFunction("row_number") {
		t.Error("IsAggregate/IsWindowFunction")
	}
}

func TestSplittable(t *testing.T) {
	avg := ops.AggSpec{Func: "avg", Type: &arrow.Decimal128Type{Precision: 38, Scale: 4}}
	if !Splittable(avg) || len(StateFields(avg)) != 2 {
		t.Errorf("avg: %v", StateFields(avg))
	}
	if Splittable(ops.AggSpec{Func: "count", Distinct: true, Type: arrow.PrimitiveTypes.Int64}) {
		t.Error("count distinct must not split")
	}
	if Splittable(ops.AggSpec{Func: "group_concat", Type: arrow.BinaryTypes.String}) {
		t.Error("group_concat must not split")
	}
	if n := len(StateFields(ops.AggSpec{Func: "stddev", Type: arrow.PrimitiveTypes.Float64})); n != 3 {
		t.Errorf("stddev state fields: %d", n)
	}
}
