package scan

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution/expr"
)

// BenchmarkApplyFilters filters a lineitem-like batch (int64,
// decimal(15,2), date, string) on a boolean column keeping 4 rows in 7
// (scattered) or 98 in 100 (as q01's l_shipdate filter).
func BenchmarkApplyFilters(b *testing.B) {
	mem := memory.NewGoAllocator()
	const n = 8192
	dec := &arrow.Decimal128Type{Precision: 15, Scale: 2}
	schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "p", Type: dec}, {Name: "d", Type: arrow.FixedWidthTypes.Date32},
		{Name: "s", Type: arrow.BinaryTypes.String}, {Name: "m", Type: arrow.FixedWidthTypes.Boolean}}, nil)
	for _, c := range []struct {
		name string
		keep func(i int) bool
	}{
		{"keep4of7", func(i int) bool { return (i*2654435761)%7 < 4 }},
		{"keep98of100", func(i int) bool { return (i*2654435761)%100 < 98 }},
	} {
		rb := array.NewRecordBuilder(mem, schema)
		for i := 0; i < n; i++ {
			rb.Field(0).(*array.Int64Builder).Append(int64(i))
			rb.Field(1).(*array.Decimal128Builder).Append(decimal128.FromI64(int64(i * 37)))
			rb.Field(2).(*array.Date32Builder).Append(arrow.Date32(9000 + i%2000))
			rb.Field(3).(*array.StringBuilder).Append(fmt.Sprintf("DELIVER %d", i%4))
			rb.Field(4).(*array.BooleanBuilder).Append(c.keep(i))
		}
		batch := rb.NewRecordBatch()
		rb.Release()
		filters := []expr.Expr{expr.NewColumn(4, "m", arrow.FixedWidthTypes.Boolean)}
		b.Run(c.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				batch.Retain()
				out, err := applyFilters(context.Background(), mem, batch, filters)
				if err != nil || out == nil || out.NumRows() == 0 || out.NumRows() == n {
					b.Fatalf("filter kept %v rows: %v", out, err)
				}
				out.Release()
			}
		})
		batch.Release()
	}
}
