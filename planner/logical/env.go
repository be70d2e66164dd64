package logical

import (
	"context"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/catalog"
)

// CatalogReader is the part of the catalog the binder reads
// (*catalog.Catalog satisfies it).
type CatalogReader interface {
	Table(ctx context.Context, schema, name string) (*catalog.Table, error)
	SchemaExists(name string) bool
	Tables(ctx context.Context, schema string) ([]*catalog.Table, error)
	DefaultSchema() string
}

// Signature types one call: the types the arguments must be cast to and the
// result type.
type Signature struct {
	Args   []arrow.DataType
	Return arrow.DataType
}

// FunctionResolver types scalar, aggregate and window calls. Production uses
// the execution/expr and execution/agg registries (planner.DefaultFunctions);
// tests inject small fakes. It is an interface here so that logical does not
// depend on execution packages.
type FunctionResolver interface {
	// Resolve types a scalar call; consts[i] is argument i's value when it
	// is a literal (nil otherwise): some result types depend on them, e.g.
	// ROUND(x, 2), STR_TO_DATE(s, '%Y-%m-%d'), DATE_ADD(d, INTERVAL 1 DAY).
	Resolve(name string, args []arrow.DataType, consts []scalar.Scalar) (Signature, error)
	CommonType(types ...arrow.DataType) (arrow.DataType, error)
	ResolveAggregate(name string, args []arrow.DataType, distinct bool) (Signature, error)
	ResolveWindow(name string, args []arrow.DataType) (Signature, error)
	// IsWindowFunction reports whether name is a window-only function
	// (row_number, rank, lag, ...), as opposed to an aggregate used over a window.
	IsWindowFunction(name string) bool
}

// Env is what binding a statement depends on.
type Env struct {
	Catalog       CatalogReader
	CurrentSchema string    // "" = none selected
	Now           time.Time // NOW()/CURRENT_DATE fold to this (one value per statement)
	SQL           string    // the statement's original text
	Funcs         FunctionResolver
	// ParamTypes gives, by text offset (Param.Offset), the type of a `?` the
	// context leaves untyped, taken from the value bound to it: `SELECT ?`
	// then has the bound value's type, as in MySQL (which re-prepares such
	// a statement when the values' types change).
	ParamTypes map[int]arrow.DataType
}
