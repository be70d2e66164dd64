package ops

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
)

// col is a test-only column reference.
type col struct {
	i int
	t arrow.DataType
}

func (c col) DataType() arrow.DataType { return c.t }
func (c col) String() string           { return fmt.Sprintf("#%d", c.i) }
func (c col) Eval(_ memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	a := b.Column(c.i)
	a.Retain()
	return a, nil
}

// gtCol is a test-only predicate: int64 column a > column b (NULL if either is NULL).
type gtCol struct{ a, b int }

func (g gtCol) DataType() arrow.DataType { return arrow.FixedWidthTypes.Boolean }
func (g gtCol) String() string           { return fmt.Sprintf("#%d > #%d", g.a, g.b) }
func (g gtCol) Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	x, y := b.Column(g.a).(*array.Int64), b.Column(g.b).(*array.Int64)
	bb := array.NewBooleanBuilder(mem)
	defer bb.Release()
	for i := 0; i < x.Len(); i++ {
		if x.IsNull(i) || y.IsNull(i) {
			bb.AppendNull()
		} else {
			bb.Append(x.Value(i) > y.Value(i))
		}
	}
	return bb.NewArray(), nil
}

var (
	i64 = arrow.PrimitiveTypes.Int64
	str = arrow.BinaryTypes.String
)

func schemaOf(types ...arrow.DataType) *arrow.Schema {
	f := make([]arrow.Field, len(types))
	for i, t := range types {
		f[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: t, Nullable: true}
	}
	return arrow.NewSchema(f, nil)
}

// batch builds a batch from rows of Go values (int64, string, nil).
func batch(mem memory.Allocator, s *arrow.Schema, rows ...[]any) arrow.RecordBatch {
	b := array.NewRecordBuilder(mem, s)
	defer b.Release()
	for _, r := range rows {
		for i, v := range r {
			fb := b.Field(i)
			if v == nil {
				fb.AppendNull()
				continue
			}
			switch x := v.(type) {
			case int:
				fb.(*array.Int64Builder).Append(int64(x))
			case string:
				fb.(*array.StringBuilder).Append(x)
			}
		}
	}
	return b.NewRecordBatch()
}

func stream(s *arrow.Schema, bs ...arrow.RecordBatch) execution.Stream {
	return execution.NewBatchStream(s, bs)
}

func tctx(mem memory.Allocator, limit int64) *execution.TaskContext {
	return &execution.TaskContext{Alloc: execution.NewQueryAllocator(mem, limit)}
}

// rowsOf drains s and renders its rows as strings ("a|b"), sorted when asked.
func rowsOf(t *testing.T, s execution.Stream, sorted bool) []string {
	t.Helper()
	bs, err := execution.Collect(context.Background(), s)
	if err != nil {
		t.Fatalf("collect: %v", err)
	}
	var out []string
	for _, b := range bs {
		for r := 0; r < int(b.NumRows()); r++ {
			parts := make([]string, b.NumCols())
			for c := range parts {
				parts[c] = b.Column(c).ValueStr(r)
			}
			out = append(out, strings.Join(parts, "|"))
		}
		b.Release()
	}
	if sorted {
		sort.Strings(out)
	}
	return out
}

func eq(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func newI64(mem memory.Allocator) *array.Int64Builder { return array.NewInt64Builder(mem) }

// toF converts int64 column i to float64.
type toF struct{ i int }

func (toF) DataType() arrow.DataType { return arrow.PrimitiveTypes.Float64 }
func (f toF) String() string         { return fmt.Sprintf("float(#%d)", f.i) }
func (f toF) Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	c := b.Column(f.i).(*array.Int64)
	fb := array.NewFloat64Builder(mem)
	defer fb.Release()
	for i := 0; i < c.Len(); i++ {
		if c.IsNull(i) {
			fb.AppendNull()
		} else {
			fb.Append(float64(c.Value(i)))
		}
	}
	return fb.NewArray(), nil
}
