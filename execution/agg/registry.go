// Package agg implements aggregate functions (accumulators over group ids)
// for the hash aggregate and window operators, and their typing rules.
package agg

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution/ops"
	"github.com/quiverdb/quiver/qerr"
)

// Signature types an aggregate call: argument types to cast to, result type.
type Signature struct {
	Args   []arrow.DataType
	Return arrow.DataType
}

// Resolve types aggregate name over args (MySQL rules: SUM(int) and
// SUM(decimal(p,s)) → DECIMAL(38,s); AVG(decimal(p,s)) → DECIMAL(38,s+4);
// SUM/AVG(float) → DOUBLE; COUNT → BIGINT; MIN/MAX → argument type;
// STDDEV/VARIANCE → DOUBLE; GROUP_CONCAT → VARCHAR). Unknown → NotFound.
func Resolve(name string, args []arrow.DataType, distinct bool) (Signature, error) {
	return Signature{}, qerr.New(qerr.Unimplemented, "aggregate %s not implemented", name)
}

// IsAggregate reports whether name is an aggregate function.
func IsAggregate(name string) bool { return false }

// ResolveWindow types a window-only function (row_number, rank, lag, ...);
// aggregates used as window functions go through Resolve.
func ResolveWindow(name string, args []arrow.DataType) (Signature, error) {
	return Signature{}, qerr.New(qerr.Unimplemented, "window function %s not implemented", name)
}

// IsWindowFunction reports whether name is a window-only function.
func IsWindowFunction(name string) bool { return false }

// Splittable reports whether spec can run as Partial → Final.
func Splittable(spec ops.AggSpec) bool { return false }

// StateFields are the intermediate columns spec's Partial mode emits (and
// Final mode consumes), in order.
func StateFields(spec ops.AggSpec) []arrow.Field { return nil }
