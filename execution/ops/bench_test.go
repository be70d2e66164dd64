package ops

import (
	"context"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
)

// intBatches makes rows rows of (key = i*7919 % keys, value = i) in BatchSize batches.
func intBatches(mem memory.Allocator, rows, keys int) []arrow.RecordBatch {
	s := schemaOf(i64, i64)
	var out []arrow.RecordBatch
	for off := 0; off < rows; off += execution.BatchSize {
		n := min(execution.BatchSize, rows-off)
		kb, vb := array.NewInt64Builder(mem), array.NewInt64Builder(mem)
		for i := off; i < off+n; i++ {
			kb.Append(int64(i * 7919 % keys))
			vb.Append(int64(i))
		}
		k, v := kb.NewArray(), vb.NewArray()
		kb.Release()
		vb.Release()
		out = append(out, array.NewRecordBatch(s, []arrow.Array{k, v}, int64(n)))
		k.Release()
		v.Release()
	}
	return out
}

func retained(bs []arrow.RecordBatch) []arrow.RecordBatch {
	for _, b := range bs {
		b.Retain()
	}
	return append([]arrow.RecordBatch(nil), bs...)
}

func BenchmarkHashAggregate1MInt64Sum(b *testing.B) {
	mem := memory.NewGoAllocator()
	in := intBatches(mem, 1<<20, 100_000)
	defer releaseBatches(in)
	aggs := []AggSpec{{Func: "sum", Args: []expr.Expr{col{1, i64}}, Type: dec380}}
	out := outSchema([]arrow.DataType{i64}, aggs, false)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h, _ := NewHashAggregate(tctx(mem, 0), stream(schemaOf(i64, i64), retained(in)...), AggSingle, []expr.Expr{col{0, i64}}, aggs, out)
		res, err := execution.Collect(context.Background(), h)
		if err != nil {
			b.Fatal(err)
		}
		releaseBatches(res)
	}
}

func BenchmarkHashJoin1Mx100k(b *testing.B) {
	mem := memory.NewGoAllocator()
	probe := intBatches(mem, 1<<20, 200_000)
	build := intBatches(mem, 100_000, 1<<30)
	defer releaseBatches(probe)
	defer releaseBatches(build)
	s := schemaOf(i64, i64)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		j, _ := NewHashJoin(tctx(mem, 0), stream(s, retained(probe)...), stream(s, retained(build)...), InnerJoin,
			[]expr.Expr{col{0, i64}}, []expr.Expr{col{1, i64}}, nil, false, schemaOf(i64, i64, i64, i64))
		res, err := execution.Collect(context.Background(), j)
		if err != nil {
			b.Fatal(err)
		}
		releaseBatches(res)
	}
}
