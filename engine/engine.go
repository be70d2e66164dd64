// Package engine runs SQL statements: it parses and binds them (planner),
// executes DDL/DML against the catalog, and for queries optimizes, plans,
// cuts stages and hands them to the scheduler (cluster), returning a stream
// of results. It is what the Flight SQL server and the in-process
// sqllogictest runner call. It knows nothing about gRPC.
package engine

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/execution"
	"go.uber.org/zap"
)

// Config configures an engine.
type Config struct {
	DataDir          string
	DefaultSchema    string
	AllowedDirs      []string
	WorkDir          string
	QueryMemoryLimit int64 // bytes per query, <= 0 unlimited
	Parallelism      int   // partitions per scan/exchange; 0 = GOMAXPROCS
}

// Engine is safe for concurrent use by many sessions.
type Engine struct {
	cfg Config
	log *zap.Logger
}

// Session is per-connection state (current schema, variables).
type Session struct {
	CurrentSchema string
	Vars          map[string]string
}

// Prepared describes a statement without running it.
type Prepared struct {
	SQL string
	// Schema is the result schema of a query; nil for statements that return
	// no rows (DDL/DML), which Flight SQL reports as an update.
	Schema *arrow.Schema
	// Params are the parameter types of the `?` placeholders (arrow.Null
	// when the context does not determine them).
	Params []arrow.DataType
}

// Result is the outcome of Execute: either a stream of rows (Stream != nil,
// the caller must Close it) or a count of affected rows.
type Result struct {
	Schema       *arrow.Schema
	Stream       execution.Stream
	RowsAffected int64
}

// New opens the catalog and starts the local scheduler.
func New(ctx context.Context, cfg Config, log *zap.Logger) (*Engine, error) {
	panic("engine.New: not implemented yet")
}

// Close stops background work.
func (e *Engine) Close() error { return nil }

// NewSession returns a session positioned at the default schema.
func (e *Engine) NewSession() *Session {
	return &Session{CurrentSchema: e.cfg.DefaultSchema, Vars: map[string]string{}}
}

// Prepare parses and binds sql (one statement) and describes it.
func (e *Engine) Prepare(ctx context.Context, s *Session, sql string) (*Prepared, error) {
	panic("engine.Prepare: not implemented yet")
}

// Execute runs one statement. params holds one value per `?` placeholder
// (nil when there are none; a parameter batch of several rows is executed
// once per row by the caller). For queries, the first batch is returned as soon as it is
// computed; ctx cancellation (or Stream.Close) stops all of the query's work.
func (e *Engine) Execute(ctx context.Context, s *Session, sql string, params []scalar.Scalar) (*Result, error) {
	panic("engine.Execute: not implemented yet")
}
