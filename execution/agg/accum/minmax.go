package accum

import (
	"cmp"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

type mmOp int

const (
	opMin mmOp = iota
	opMax
	opFirst // any_value: the first non-NULL value
)

func newMinMax(s Spec) (Accumulator, error) {
	op := opMin
	switch s.Func {
	case "max":
		op = opMax
	case "any_value":
		op = opFirst
	}
	dt := s.Result
	switch dt.ID() {
	case arrow.INT8:
		return newOrdered[int8](op, dt), nil
	case arrow.INT16:
		return newOrdered[int16](op, dt), nil
	case arrow.INT32, arrow.DATE32, arrow.TIME32, arrow.DECIMAL32:
		return newOrdered[int32](op, dt), nil
	case arrow.INT64, arrow.DATE64, arrow.TIME64, arrow.TIMESTAMP, arrow.DURATION, arrow.DECIMAL64:
		return newOrdered[int64](op, dt), nil
	case arrow.UINT8:
		return newOrdered[uint8](op, dt), nil
	case arrow.UINT16:
		return newOrdered[uint16](op, dt), nil
	case arrow.UINT32:
		return newOrdered[uint32](op, dt), nil
	case arrow.UINT64:
		return newOrdered[uint64](op, dt), nil
	case arrow.FLOAT32:
		return newOrdered[float32](op, dt), nil
	case arrow.FLOAT64:
		return newOrdered[float64](op, dt), nil
	case arrow.DECIMAL128:
		return &mmAcc[decimal128.Num]{op: op, dt: dt, cmp: decimal128.Num.Cmp}, nil
	case arrow.BOOL:
		return &mmBool{op: op}, nil
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return &mmString{op: op, dt: dt}, nil
	}
	return nil, qerr.New(qerr.Unimplemented, "%s over %s is not supported", s.Func, dt)
}

func newOrdered[T cmp.Ordered](op mmOp, dt arrow.DataType) *mmAcc[T] {
	return &mmAcc[T]{op: op, dt: dt, cmp: cmp.Compare[T]}
}

// mmAcc is MIN/MAX/ANY_VALUE over a fixed-width type.
type mmAcc[T any] struct {
	noRelease
	op   mmOp
	dt   arrow.DataType
	cmp  func(a, b T) int
	vals []T
	has  []bool
}

func (a *mmAcc[T]) Resize(n int) { a.vals, a.has = growTo(a.vals, n), growTo(a.has, n) }
func (a *mmAcc[T]) Bytes() int64 { return int64(cap(a.vals))*16 + int64(cap(a.has)) }

func (a *mmAcc[T]) put(g uint32, v T) {
	if !a.has[g] {
		a.vals[g], a.has[g] = v, true
		return
	}
	switch a.op {
	case opMin:
		if a.cmp(v, a.vals[g]) < 0 {
			a.vals[g] = v
		}
	case opMax:
		if a.cmp(v, a.vals[g]) > 0 {
			a.vals[g] = v
		}
	}
}

func (a *mmAcc[T]) Update(groups []uint32, args []arrow.Array) error {
	if len(args) != 1 || !arrow.TypeEqual(args[0].DataType(), a.dt) {
		return qerr.New(qerr.Internal, "min/max: argument does not match %s", a.dt)
	}
	x := args[0]
	v := values[T](x)
	nulls := x.NullN() > 0
	for i, g := range groups {
		if nulls && x.IsNull(i) {
			continue
		}
		a.put(g, v[i])
	}
	return nil
}

func (a *mmAcc[T]) Merge(groups []uint32, states []arrow.Array) error {
	return a.Update(groups, states)
}

func (a *mmAcc[T]) MergeGroup(dst, src uint32) {
	if a.has[src] {
		a.put(dst, a.vals[src])
	}
}

func (a *mmAcc[T]) State(mem memory.Allocator) ([]arrow.Array, error) {
	f, err := a.Final(mem)
	return []arrow.Array{f}, err
}

func (a *mmAcc[T]) Final(mem memory.Allocator) (arrow.Array, error) {
	return fixedArray(mem, a.dt, a.vals, a.has), nil
}

type mmBool struct {
	noRelease
	op        mmOp
	vals, has []bool
}

func (a *mmBool) Resize(n int) { a.vals, a.has = growTo(a.vals, n), growTo(a.has, n) }
func (a *mmBool) Bytes() int64 { return int64(cap(a.vals)) * 2 }

func (a *mmBool) put(g uint32, v bool) {
	switch {
	case !a.has[g]:
		a.vals[g], a.has[g] = v, true
	case a.op == opMin:
		a.vals[g] = a.vals[g] && v
	case a.op == opMax:
		a.vals[g] = a.vals[g] || v
	}
}

func (a *mmBool) Update(groups []uint32, args []arrow.Array) error {
	x, ok := args[0].(*array.Boolean)
	if !ok {
		return qerr.New(qerr.Internal, "min/max: want BOOLEAN argument")
	}
	for i, g := range groups {
		if x.IsValid(i) {
			a.put(g, x.Value(i))
		}
	}
	return nil
}

func (a *mmBool) Merge(groups []uint32, states []arrow.Array) error { return a.Update(groups, states) }

func (a *mmBool) MergeGroup(dst, src uint32) {
	if a.has[src] {
		a.put(dst, a.vals[src])
	}
}

func (a *mmBool) State(mem memory.Allocator) ([]arrow.Array, error) {
	f, err := a.Final(mem)
	return []arrow.Array{f}, err
}

func (a *mmBool) Final(mem memory.Allocator) (arrow.Array, error) {
	b := array.NewBooleanBuilder(mem)
	defer b.Release()
	b.AppendValues(a.vals, a.has)
	return b.NewArray(), nil
}

// mmString keeps its own copies of the winning strings (input buffers are
// released after each batch).
type mmString struct {
	noRelease
	op    mmOp
	dt    arrow.DataType
	vals  []string
	has   []bool
	bytes int64
}

func (a *mmString) Resize(n int) { a.vals, a.has = growTo(a.vals, n), growTo(a.has, n) }
func (a *mmString) Bytes() int64 { return int64(cap(a.vals))*17 + a.bytes }

func (a *mmString) put(g uint32, v string, clone bool) {
	if a.has[g] {
		switch a.op {
		case opFirst:
			return
		case opMin:
			if v >= a.vals[g] {
				return
			}
		case opMax:
			if v <= a.vals[g] {
				return
			}
		}
	}
	if clone {
		v = strings.Clone(v)
	}
	a.bytes += int64(len(v) - len(a.vals[g]))
	a.vals[g], a.has[g] = v, true
}

func (a *mmString) Update(groups []uint32, args []arrow.Array) error {
	x := args[0]
	get, err := stringGetter(x)
	if err != nil {
		return err
	}
	for i, g := range groups {
		if x.IsValid(i) {
			a.put(g, get(i), true)
		}
	}
	return nil
}

func (a *mmString) Merge(groups []uint32, states []arrow.Array) error {
	return a.Update(groups, states)
}

func (a *mmString) MergeGroup(dst, src uint32) {
	if a.has[src] {
		a.put(dst, a.vals[src], false)
	}
}

func (a *mmString) State(mem memory.Allocator) ([]arrow.Array, error) {
	f, err := a.Final(mem)
	return []arrow.Array{f}, err
}

func (a *mmString) Final(mem memory.Allocator) (arrow.Array, error) {
	b := array.NewBuilder(mem, a.dt)
	defer b.Release()
	switch sb := b.(type) {
	case *array.StringBuilder:
		sb.AppendValues(a.vals, a.has)
	case *array.LargeStringBuilder:
		sb.AppendValues(a.vals, a.has)
	case *array.BinaryBuilder:
		for i, v := range a.vals {
			if a.has[i] {
				sb.AppendString(v)
			} else {
				sb.AppendNull()
			}
		}
	}
	return b.NewArray(), nil
}

// stringGetter reads values of a string/binary array (views into its buffer).
func stringGetter(x arrow.Array) (func(int) string, error) {
	switch c := x.(type) {
	case *array.String:
		return c.Value, nil
	case *array.LargeString:
		return c.Value, nil
	case *array.Binary:
		return c.ValueString, nil
	case *array.LargeBinary:
		return c.ValueString, nil
	case *array.Dictionary:
		inner, err := stringGetter(c.Dictionary())
		if err != nil {
			return nil, err
		}
		return func(i int) string { return inner(c.GetValueIndex(i)) }, nil
	}
	return nil, qerr.New(qerr.Internal, "want a string argument, got %s", x.DataType())
}
