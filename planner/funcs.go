package planner

import (
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/pingcap/tidb/pkg/parser/format"
	"github.com/quiverdb/quiver/execution/agg"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/planner/logical"
)

// DefaultFunctions is the resolver backed by the execution/expr and
// execution/agg registries.
func DefaultFunctions() FunctionResolver { return registry{} }

type registry struct{}

func (registry) Resolve(name string, args []arrow.DataType, consts []scalar.Scalar) (logical.Signature, error) {
	s, err := expr.ResolveConst(name, args, consts)
	return logical.Signature{Args: s.Args, Return: s.Return}, err
}

func (registry) CommonType(ts ...arrow.DataType) (arrow.DataType, error) {
	return expr.CommonType(ts...)
}

func (registry) ResolveAggregate(name string, args []arrow.DataType, distinct bool) (logical.Signature, error) {
	s, err := agg.Resolve(name, args, distinct)
	return logical.Signature{Args: s.Args, Return: s.Return}, err
}

func (registry) ResolveWindow(name string, args []arrow.DataType) (logical.Signature, error) {
	s, err := agg.ResolveWindow(name, args)
	return logical.Signature{Args: s.Args, Return: s.Return}, err
}

func (registry) IsWindowFunction(name string) bool { return agg.IsWindowFunction(name) }

func newRestoreCtx(sb *strings.Builder) *format.RestoreCtx {
	return format.NewRestoreCtx(format.DefaultRestoreFlags, sb)
}
