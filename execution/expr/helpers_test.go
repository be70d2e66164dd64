package expr

import (
	"fmt"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
)

// col builds an array of type t from JSON.
func col(t *testing.T, mem memory.Allocator, dt arrow.DataType, js string) arrow.Array {
	t.Helper()
	a, _, err := array.FromJSON(mem, dt, strings.NewReader(js))
	if err != nil {
		t.Fatalf("FromJSON %s %s: %v", dt, js, err)
	}
	return a
}

// batchOf builds a batch whose columns are c0, c1, ...
func batchOf(cols ...arrow.Array) arrow.RecordBatch {
	fields := make([]arrow.Field, len(cols))
	for i, c := range cols {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: c.DataType(), Nullable: true}
	}
	n := int64(0)
	if len(cols) > 0 {
		n = int64(cols[0].Len())
	}
	return array.NewRecordBatch(arrow.NewSchema(fields, nil), cols, n)
}

// render prints an array as MySQL-ish strings ("NULL" for nulls).
func render(a arrow.Array) string {
	parts := make([]string, a.Len())
	for i := range parts {
		if a.IsNull(i) {
			parts[i] = "NULL"
			continue
		}
		if bin, ok := a.(*array.Binary); ok { // GetScalar would keep the buffer alive
			parts[i] = bin.ValueString(i)
			continue
		}
		s, _ := scalar.GetScalar(a, i)
		switch v := s.(type) {
		case *scalar.Decimal128:
			parts[i] = string(appendDecimal(nil, v.Value, v.Type.(*arrow.Decimal128Type).Scale))
		case *scalar.Date32:
			parts[i] = string(appendDate(nil, int64(v.Value)))
		case *scalar.Timestamp:
			parts[i] = string(appendTS(nil, int64(v.Value)))
		case *scalar.Time64:
			parts[i] = string(appendClock(nil, int64(v.Value)))
		case *scalar.Float64:
			parts[i] = string(appendFloat(nil, v.Value))
		case *scalar.Boolean:
			if v.Value {
				parts[i] = "1"
			} else {
				parts[i] = "0"
			}
		default:
			parts[i] = s.String()
		}
	}
	return strings.Join(parts, ",")
}

func dec(p, s int32) *arrow.Decimal128Type { return &arrow.Decimal128Type{Precision: p, Scale: s} }

func c(i int, t arrow.DataType) Expr { return NewColumn(i, fmt.Sprintf("c%d", i), t) }

func lit(v any) Expr { return NewLiteral(scalar.MakeScalar(v)) }

func strLit(s string) Expr { return NewLiteral(scalar.NewStringScalar(s)) }

func mustCall(t *testing.T, name string, ret arrow.DataType, args ...Expr) Expr {
	t.Helper()
	e, err := NewCall(name, args, ret)
	if err != nil {
		t.Fatalf("NewCall %s: %v", name, err)
	}
	return e
}

// evalStr evaluates e over b and renders the result.
func evalStr(t *testing.T, mem memory.Allocator, e Expr, b arrow.RecordBatch) (string, error) {
	t.Helper()
	out, err := e.Eval(mem, b)
	if err != nil {
		return "", err
	}
	defer out.Release()
	if out.Len() != int(b.NumRows()) {
		t.Fatalf("%s: %d rows, want %d", e, out.Len(), b.NumRows())
	}
	if !arrow.TypeEqual(out.DataType(), e.DataType()) && out.DataType().ID() != arrow.NULL {
		t.Fatalf("%s: result type %s, declared %s", e, out.DataType(), e.DataType())
	}
	return render(out), nil
}

// callCase is one kernel test: a call over columns built from JSON.
type callCase struct {
	name string
	fn   string
	ret  arrow.DataType
	cols []arrow.DataType
	data []string
	args func(cols []Expr) []Expr // nil = the columns in order
	want string
	err  string
}

func runCalls(t *testing.T, cases []callCase) {
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
			defer mem.AssertSize(t, 0)
			arrs := make([]arrow.Array, len(tc.cols))
			exprs := make([]Expr, len(tc.cols))
			for i, dt := range tc.cols {
				arrs[i] = col(t, mem, dt, tc.data[i])
				defer arrs[i].Release()
				exprs[i] = c(i, dt)
			}
			args := exprs
			if tc.args != nil {
				args = tc.args(exprs)
			}
			b := batchOf(arrs...)
			defer b.Release()
			e, err := NewCall(tc.fn, args, tc.ret)
			if err == nil {
				var got string
				got, err = evalStr(t, mem, e, b)
				if err == nil {
					if tc.err != "" {
						t.Fatalf("got %s, want error %q", got, tc.err)
					}
					if got != tc.want {
						t.Fatalf("%s = %s, want %s", e, got, tc.want)
					}
					return
				}
			}
			if tc.err == "" || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("error %v, want %q", err, tc.err)
			}
		})
	}
}
