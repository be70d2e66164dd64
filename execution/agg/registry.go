// Package agg implements aggregate functions (accumulators over group ids)
// for the hash aggregate and window operators, and their typing rules.
package agg

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution/agg/accum"
	"github.com/quiverdb/quiver/execution/ops"
	"github.com/quiverdb/quiver/qerr"
)

// Signature types an aggregate call: argument types to cast to, result type.
type Signature struct {
	Args   []arrow.DataType
	Return arrow.DataType
}

var aggregates = map[string]bool{
	"count": true, "count_star": true, "sum": true, "avg": true, "min": true, "max": true,
	"stddev_samp": true, "stddev_pop": true, "var_samp": true, "var_pop": true,
	"std": true, "stddev": true, "variance": true, "group_concat": true,
	"bit_and": true, "bit_or": true, "bit_xor": true, "any_value": true,
}

var windowFuncs = map[string]bool{
	"row_number": true, "rank": true, "dense_rank": true, "percent_rank": true, "cume_dist": true,
	"ntile": true, "lag": true, "lead": true, "first_value": true, "last_value": true, "nth_value": true,
}

func isInt(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.INT8, arrow.INT16, arrow.INT32, arrow.INT64, arrow.UINT8, arrow.UINT16, arrow.UINT32, arrow.BOOL:
		return true
	}
	return false
}

func isFloat(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.FLOAT16, arrow.FLOAT32, arrow.FLOAT64:
		return true
	}
	return false
}

func isString(t arrow.DataType) bool {
	switch t.ID() {
	case arrow.STRING, arrow.LARGE_STRING, arrow.BINARY, arrow.LARGE_BINARY:
		return true
	}
	return false
}

func decimalScale(t arrow.DataType) (int32, bool) {
	if d, ok := t.(arrow.DecimalType); ok {
		return d.GetScale(), true
	}
	return 0, false
}

var (
	i64 = arrow.PrimitiveTypes.Int64
	u64 = arrow.PrimitiveTypes.Uint64
	f64 = arrow.PrimitiveTypes.Float64
)

func dec(scale int32) arrow.DataType {
	return &arrow.Decimal128Type{Precision: 38, Scale: min(scale, 38)}
}

// Resolve types aggregate name over args (MySQL rules: SUM(int) and
// SUM(decimal(p,s)) → DECIMAL(38,s); AVG(int) → DECIMAL(38,4);
// AVG(decimal(p,s)) → DECIMAL(38,s+4); SUM/AVG(float) → DOUBLE; COUNT →
// BIGINT; MIN/MAX → argument type; STDDEV/VARIANCE → DOUBLE; GROUP_CONCAT →
// VARCHAR; BIT_* → BIGINT UNSIGNED). Unknown → NotFound.
func Resolve(name string, args []arrow.DataType, distinct bool) (Signature, error) {
	n := strings.ToLower(name)
	if !aggregates[n] {
		return Signature{}, qerr.New(qerr.NotFound, "FUNCTION %s does not exist", name)
	}
	fn := accum.Canonical(n)
	want := 1
	switch fn {
	case "count_star":
		want = 0
	case "count", "group_concat":
		if len(args) == 0 {
			return Signature{}, wrongArgs(name)
		}
		want = len(args)
	}
	if len(args) != want {
		return Signature{}, wrongArgs(name)
	}
	switch fn {
	case "count", "count_star":
		return Signature{Args: args, Return: i64}, nil
	case "sum", "avg":
		a := args[0]
		extra := int32(0)
		if fn == "avg" {
			extra = 4
		}
		switch {
		case a.ID() == arrow.NULL:
			return Signature{Args: []arrow.DataType{i64}, Return: dec(extra)}, nil
		case isInt(a):
			return Signature{Args: []arrow.DataType{i64}, Return: dec(extra)}, nil
		case a.ID() == arrow.UINT64:
			return Signature{Args: []arrow.DataType{u64}, Return: dec(extra)}, nil
		case isFloat(a) || isString(a):
			return Signature{Args: []arrow.DataType{f64}, Return: f64}, nil
		}
		if s, ok := decimalScale(a); ok {
			arg := a
			if a.ID() != arrow.DECIMAL128 && a.ID() != arrow.DECIMAL64 {
				arg = &arrow.Decimal128Type{Precision: 38, Scale: s}
			}
			return Signature{Args: []arrow.DataType{arg}, Return: dec(s + extra)}, nil
		}
		// Dates and times sum as numbers in MySQL; treat them as DOUBLE.
		return Signature{Args: []arrow.DataType{f64}, Return: f64}, nil
	case "min", "max", "any_value":
		a := args[0]
		switch a.ID() {
		case arrow.NULL:
			return Signature{Args: []arrow.DataType{i64}, Return: i64}, nil
		case arrow.FLOAT16:
			return Signature{Args: []arrow.DataType{f64}, Return: f64}, nil
		case arrow.DICTIONARY:
			v := a.(*arrow.DictionaryType).ValueType
			return Signature{Args: []arrow.DataType{v}, Return: v}, nil
		}
		return Signature{Args: args, Return: a}, nil
	case "stddev_samp", "stddev_pop", "var_samp", "var_pop":
		return Signature{Args: []arrow.DataType{f64}, Return: f64}, nil
	case "bit_and", "bit_or", "bit_xor":
		arg := i64
		if args[0].ID() == arrow.UINT64 {
			arg = u64
		}
		return Signature{Args: []arrow.DataType{arg}, Return: u64}, nil
	case "group_concat":
		out := make([]arrow.DataType, len(args))
		for i := range out {
			out[i] = arrow.BinaryTypes.String
		}
		return Signature{Args: out, Return: arrow.BinaryTypes.String}, nil
	}
	return Signature{}, qerr.New(qerr.NotFound, "FUNCTION %s does not exist", name)
}

func wrongArgs(name string) error {
	return qerr.New(qerr.InvalidArgument, "Incorrect parameter count in the call to native function '%s'", name)
}

// IsAggregate reports whether name is an aggregate function.
func IsAggregate(name string) bool { return aggregates[strings.ToLower(name)] }

// ResolveWindow types a window-only function (row_number, rank, lag, ...);
// aggregates used as window functions go through Resolve.
func ResolveWindow(name string, args []arrow.DataType) (Signature, error) {
	n := strings.ToLower(name)
	switch n {
	case "row_number", "rank", "dense_rank":
		if len(args) != 0 {
			return Signature{}, wrongArgs(name)
		}
		return Signature{Return: u64}, nil
	case "percent_rank", "cume_dist":
		if len(args) != 0 {
			return Signature{}, wrongArgs(name)
		}
		return Signature{Return: f64}, nil
	case "ntile":
		if len(args) != 1 {
			return Signature{}, wrongArgs(name)
		}
		return Signature{Args: []arrow.DataType{i64}, Return: u64}, nil
	case "lag", "lead":
		// (value [, offset [, default]]): default is cast to the value type.
		if len(args) < 1 || len(args) > 3 {
			return Signature{}, wrongArgs(name)
		}
		out := []arrow.DataType{args[0]}
		if len(args) > 1 {
			out = append(out, i64)
		}
		if len(args) > 2 {
			out = append(out, args[0])
		}
		return Signature{Args: out, Return: args[0]}, nil
	case "first_value", "last_value":
		if len(args) != 1 {
			return Signature{}, wrongArgs(name)
		}
		return Signature{Args: args, Return: args[0]}, nil
	case "nth_value":
		if len(args) != 2 {
			return Signature{}, wrongArgs(name)
		}
		return Signature{Args: []arrow.DataType{args[0], i64}, Return: args[0]}, nil
	}
	return Signature{}, qerr.New(qerr.NotFound, "FUNCTION %s does not exist", name)
}

// IsWindowFunction reports whether name is a window-only function.
func IsWindowFunction(name string) bool { return windowFuncs[strings.ToLower(name)] }

// Splittable reports whether spec can run as Partial → Final (DISTINCT and
// GROUP_CONCAT cannot).
func Splittable(spec ops.AggSpec) bool { return accum.Splittable(ops.AccumSpec(spec)) }

// StateFields are the intermediate columns spec's Partial mode emits (and
// Final mode consumes), in order.
func StateFields(spec ops.AggSpec) []arrow.Field {
	if !Splittable(spec) {
		return nil
	}
	return accum.StateTypes(ops.AccumSpec(spec))
}
