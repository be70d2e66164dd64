package ops

import (
	"context"
	"errors"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/agg/accum"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/qerr"
)

var dec380 = &arrow.Decimal128Type{Precision: 38, Scale: 0}
var dec384 = &arrow.Decimal128Type{Precision: 38, Scale: 4}

func aggSpecs() []AggSpec {
	v := col{1, i64}
	return []AggSpec{
		{Func: "count_star", Type: i64},
		{Func: "count", Args: []expr.Expr{v}, Type: i64},
		{Func: "sum", Args: []expr.Expr{v}, Type: dec380},
		{Func: "avg", Args: []expr.Expr{v}, Type: dec384},
		{Func: "min", Args: []expr.Expr{v}, Type: i64},
		{Func: "max", Args: []expr.Expr{v}, Type: i64},
	}
}

func outSchema(keys []arrow.DataType, aggs []AggSpec, partial bool) *arrow.Schema {
	types := append([]arrow.DataType(nil), keys...)
	for _, a := range aggs {
		if partial {
			for _, f := range accum.StateTypes(AccumSpec(a)) {
				types = append(types, f.Type)
			}
		} else {
			types = append(types, a.Type)
		}
	}
	return schemaOf(types...)
}

func aggInput(mem memory.Allocator) (*arrow.Schema, []arrow.RecordBatch) {
	s := schemaOf(str, i64)
	return s, []arrow.RecordBatch{
		batch(mem, s, []any{"a", 1}, []any{"b", 2}, []any{nil, 5}, []any{"a", nil}),
		batch(mem, s, []any{"b", 10}, []any{nil, 7}, []any{"a", 4}, []any{"c", nil}),
	}
}

func TestHashAggregateSingle(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s, bs := aggInput(mem)
	aggs := aggSpecs()
	h, err := NewHashAggregate(tctx(mem, 0), stream(s, bs...), AggSingle, []expr.Expr{col{0, str}}, aggs, outSchema([]arrow.DataType{str}, aggs, false))
	if err != nil {
		t.Fatal(err)
	}
	eq(t, rowsOf(t, h, true), []string{
		"(null)|2|2|12|6|5|7",
		"a|3|2|5|2.5|1|4",
		"b|2|2|12|6|2|10",
		"c|1|0|(null)|(null)|(null)|(null)",
	})
}

func TestHashAggregatePartialFinalEqualsSingle(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	aggs := aggSpecs()
	aggs = append(aggs, AggSpec{Func: "var_samp", Args: []expr.Expr{col{2, arrow.PrimitiveTypes.Float64}}, Type: arrow.PrimitiveTypes.Float64})
	tc := tctx(mem, 0)
	// Two partial aggregates over int keys, merged by one final.
	s, bs := aggInput(mem)
	withF := func(b arrow.RecordBatch) arrow.RecordBatch {
		// add a float column = value
		p := NewProject(tc, stream(s, b), []expr.Expr{hashKey{}, col{1, i64}, toF{1}}, schemaOf(i64, i64, arrow.PrimitiveTypes.Float64))
		out, err := execution.Collect(context.Background(), p)
		if err != nil || len(out) != 1 {
			t.Fatal(err)
		}
		return out[0]
	}
	in := schemaOf(i64, i64, arrow.PrimitiveTypes.Float64)
	b0, b1 := withF(bs[0]), withF(bs[1])
	keys := []expr.Expr{col{0, i64}}
	single, _ := NewHashAggregate(tc, stream(in, b0, b1), AggSingle, keys, aggs, outSchema([]arrow.DataType{i64}, aggs, false))
	b0.Retain()
	b1.Retain()
	pout := outSchema([]arrow.DataType{i64}, aggs, true)
	p0, _ := NewHashAggregate(tc, stream(in, b0), AggPartial, keys, aggs, pout)
	p1, _ := NewHashAggregate(tc, stream(in, b1), AggPartial, keys, aggs, pout)
	parts, err := execution.Collect(context.Background(), p0)
	if err != nil {
		t.Fatal(err)
	}
	more, err := execution.Collect(context.Background(), p1)
	if err != nil {
		t.Fatal(err)
	}
	final, _ := NewHashAggregate(tc, stream(pout, append(parts, more...)...), AggFinal, keys, aggs, outSchema([]arrow.DataType{i64}, aggs, false))
	want := rowsOf(t, single, true)
	eq(t, rowsOf(t, final, true), want)
	if len(want) != 4 {
		t.Fatalf("want 4 groups, got %v", want)
	}
}

// hashKey maps the string column 0 to an int64 key (length of the string, NULL stays NULL).
type hashKey struct{}

func (hashKey) DataType() arrow.DataType { return i64 }
func (hashKey) String() string           { return "len(#0)" }
func (hashKey) Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	c := b.Column(0)
	bb := newI64(mem)
	defer bb.Release()
	for i := 0; i < c.Len(); i++ {
		if c.IsNull(i) {
			bb.AppendNull()
		} else {
			bb.Append(int64(c.ValueStr(i)[0]))
		}
	}
	return bb.NewArray(), nil
}

func TestHashAggregateEmptyInput(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	s := schemaOf(str, i64)
	aggs := aggSpecs()
	h, _ := NewHashAggregate(tctx(mem, 0), stream(s), AggSingle, nil, aggs, outSchema(nil, aggs, false))
	eq(t, rowsOf(t, h, false), []string{"0|0|(null)|(null)|(null)|(null)"})
	g, _ := NewHashAggregate(tctx(mem, 0), stream(s), AggSingle, []expr.Expr{col{0, str}}, aggs, outSchema([]arrow.DataType{str}, aggs, false))
	eq(t, rowsOf(t, g, false), nil)
}

func TestHashAggregateMemoryLimit(t *testing.T) {
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	defer mem.AssertSize(t, 0)
	tc := tctx(mem, 64<<10)
	s := schemaOf(i64, i64)
	var bs []arrow.RecordBatch
	for k := 0; k < 4; k++ {
		b := newI64(mem)
		for i := 0; i < 5000; i++ {
			b.Append(int64(k*5000 + i))
		}
		a := b.NewArray()
		b.Release()
		a.Retain()
		bs = append(bs, arrowBatch(s, []arrow.Array{a, a}, 5000))
		a.Release()
		a.Release()
	}
	aggs := []AggSpec{{Func: "sum", Args: []expr.Expr{col{1, i64}}, Type: dec380}}
	h, err := NewHashAggregate(tc, stream(s, bs...), AggSingle, []expr.Expr{col{0, i64}}, aggs, outSchema([]arrow.DataType{i64}, aggs, false))
	if err != nil {
		t.Fatal(err)
	}
	_, err = execution.Collect(context.Background(), execution.Instrument(h, h, nil, tc.Alloc))
	var qe *qerr.Error
	if !errors.As(err, &qe) || qe.Kind != qerr.ResourceExhausted {
		t.Fatalf("want ResourceExhausted, got %v", err)
	}
}

// A partial aggregate over nearly unique keys switches to passing rows
// through as one-row states after partialProbeRows rows; one over few keys
// keeps grouping. Either way Final gives what Single gives.
func TestHashAggregatePartialPassThrough(t *testing.T) {
	aggs := aggSpecs()
	const rows = partialProbeRows + 3*execution.BatchSize
	for _, c := range []struct {
		name    string
		key     func(i int) int64
		partial int // rows the partial aggregate emits
	}{
		{"pairs", func(i int) int64 { return int64(i / 2 * 2) }, 0}, // two rows per key: ratio 0.5 keeps grouping
		{"distinct", func(i int) int64 { return int64(i) }, rows},
		{"few", func(i int) int64 { return int64(i % 7) }, 7},
	} {
		t.Run(c.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			tc := tctx(mem, 0)
			s := schemaOf(i64, i64)
			input := func() execution.Stream {
				var bs []arrow.RecordBatch
				for off := 0; off < rows; off += execution.BatchSize {
					k, v := newI64(mem), newI64(mem)
					for i := off; i < min(off+execution.BatchSize, rows); i++ {
						k.Append(c.key(i))
						if i%5 == 0 {
							v.AppendNull()
						} else {
							v.Append(int64(i % 1000))
						}
					}
					ka, va := k.NewArray(), v.NewArray()
					bs = append(bs, arrowBatch(s, []arrow.Array{ka, va}, int64(ka.Len())))
					ka.Release()
					va.Release()
					k.Release()
					v.Release()
				}
				return stream(s, bs...)
			}
			keys := []expr.Expr{col{0, i64}}
			single, err := NewHashAggregate(tc, input(), AggSingle, keys, aggs, outSchema([]arrow.DataType{i64}, aggs, false))
			if err != nil {
				t.Fatal(err)
			}
			want := rowsOf(t, single, true)
			pout := outSchema([]arrow.DataType{i64}, aggs, true)
			p, err := NewHashAggregate(tc, input(), AggPartial, keys, aggs, pout)
			if err != nil {
				t.Fatal(err)
			}
			parts, err := execution.Collect(context.Background(), p)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, b := range parts {
				n += int(b.NumRows())
			}
			if c.partial > 0 && n != c.partial || c.partial == 0 && n != rows/2 {
				t.Fatalf("partial emitted %d rows", n)
			}
			final, err := NewHashAggregate(tc, stream(pout, parts...), AggFinal, keys, aggs, outSchema([]arrow.DataType{i64}, aggs, false))
			if err != nil {
				t.Fatal(err)
			}
			eq(t, rowsOf(t, final, true), want)
		})
	}
}
