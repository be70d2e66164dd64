// Package accum holds the aggregate accumulators: per-group states in flat
// typed slices indexed by dense group id, updated a batch at a time. It is
// shared by the hash aggregate and window operators (execution/ops) and the
// typing rules (execution/agg), and imports neither.
package accum

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
)

// Accumulator aggregates rows into groups 0..n-1.
type Accumulator interface {
	// Resize makes room for n groups (n only grows).
	Resize(n int)
	// Update folds raw argument rows: row i goes to group groups[i].
	Update(groups []uint32, args []arrow.Array) error
	// Merge folds intermediate state rows (the columns State emits).
	Merge(groups []uint32, states []arrow.Array) error
	// State emits the intermediate state of every group.
	State(mem memory.Allocator) ([]arrow.Array, error)
	// Final emits the result of every group.
	Final(mem memory.Allocator) (arrow.Array, error)
	// Bytes is the Go-side memory held (for the query memory budget).
	Bytes() int64
	// Release frees Arrow memory the accumulator retains.
	Release()
}

// noRelease is embedded by accumulators that retain no Arrow memory.
type noRelease struct{}

func (noRelease) Release() {}

// GroupMerger is implemented by accumulators that can fold one group's state
// into another (running window frames).
type GroupMerger interface {
	MergeGroup(dst, src uint32)
}

// Spec describes one aggregate call to build.
type Spec struct {
	Func     string           // canonical name (aliases resolved by Canonical)
	ArgTypes []arrow.DataType // argument types after the binder's casts
	Distinct bool
	// OrderBy (group_concat): the sort keys are passed as extra arguments after
	// the value arguments; OrderDesc/OrderNullsFirst describe them.
	OrderDesc       []bool
	OrderNullsFirst []bool
	Separator       string
	Result          arrow.DataType
	// Mem allocates temporary arrays (DISTINCT row selection).
	Mem memory.Allocator
}

// Canonical maps aliases to canonical aggregate names.
func Canonical(name string) string {
	n := strings.ToLower(name)
	switch n {
	case "std", "stddev":
		return "stddev_pop"
	case "variance":
		return "var_pop"
	}
	return n
}

// valueArgs is the number of value arguments (the rest are ORDER BY keys).
func (s Spec) valueArgs() int { return len(s.ArgTypes) - len(s.OrderDesc) }

// New builds the accumulator for spec.
func New(s Spec) (Accumulator, error) {
	s.Func = Canonical(s.Func)
	if s.Distinct && s.Func != "group_concat" && s.Func != "min" && s.Func != "max" {
		inner := s
		inner.Distinct = false
		a, err := New(inner)
		if err != nil {
			return nil, err
		}
		return newDistinct(a, s.valueArgs(), s.Mem), nil
	}
	switch s.Func {
	case "count", "count_star":
		return &countAcc{star: s.Func == "count_star"}, nil
	case "sum", "avg":
		return newSum(s)
	case "min", "max", "any_value":
		return newMinMax(s)
	case "stddev_samp", "stddev_pop", "var_samp", "var_pop":
		return &varAcc{fn: s.Func}, nil
	case "bit_and", "bit_or", "bit_xor":
		return newBit(s.Func), nil
	case "group_concat":
		return newGroupConcat(s), nil
	}
	return nil, qerr.New(qerr.NotFound, "FUNCTION %s does not exist", s.Func)
}

// StateTypes are the intermediate columns of spec's Partial output.
func StateTypes(s Spec) []arrow.Field {
	switch Canonical(s.Func) {
	case "count", "count_star":
		return []arrow.Field{{Name: "count", Type: arrow.PrimitiveTypes.Int64}}
	case "sum":
		return []arrow.Field{{Name: "sum", Type: s.Result, Nullable: true}}
	case "avg":
		return []arrow.Field{{Name: "sum", Type: sumStateType(s), Nullable: true}, {Name: "count", Type: arrow.PrimitiveTypes.Int64}}
	case "min", "max", "any_value":
		return []arrow.Field{{Name: "value", Type: s.Result, Nullable: true}}
	case "stddev_samp", "stddev_pop", "var_samp", "var_pop":
		return []arrow.Field{{Name: "count", Type: arrow.PrimitiveTypes.Int64},
			{Name: "mean", Type: arrow.PrimitiveTypes.Float64}, {Name: "m2", Type: arrow.PrimitiveTypes.Float64}}
	case "bit_and", "bit_or", "bit_xor":
		return []arrow.Field{{Name: "bits", Type: arrow.PrimitiveTypes.Uint64}}
	}
	return nil
}

// Splittable reports whether spec can run as Partial → Final.
func Splittable(s Spec) bool {
	if s.Distinct {
		return false
	}
	return StateTypes(s) != nil
}

// sumStateType is the running-sum type of avg: DECIMAL(38, input scale) or DOUBLE.
func sumStateType(s Spec) arrow.DataType {
	if d, ok := s.Result.(*arrow.Decimal128Type); ok {
		return &arrow.Decimal128Type{Precision: 38, Scale: d.Scale - 4}
	}
	return arrow.PrimitiveTypes.Float64
}

func growTo[T any](s []T, n int) []T {
	if len(s) >= n {
		return s
	}
	if cap(s) >= n {
		return s[:n]
	}
	ns := make([]T, n, max(n, 2*cap(s)))
	copy(ns, s)
	return ns
}
