// Package engine runs SQL statements: it parses and binds them (planner),
// executes DDL/DML against the catalog, and for queries optimizes, plans,
// cuts stages and hands them to the scheduler (cluster), returning a stream
// of results. It is what the Flight SQL server and the in-process
// sqllogictest runner call. It knows nothing about gRPC.
package engine

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"strings"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/planner"
	"github.com/quiverdb/quiver/planner/parse"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// Config configures an engine.
type Config struct {
	DataDir          string
	DefaultSchema    string
	AllowedDirs      []string
	WorkDir          string
	QueryMemoryLimit int64 // bytes per query, <= 0 unlimited
	Parallelism      int   // task slots of this node; 0 = GOMAXPROCS
	// PartitionRows: a query whose largest input has fewer rows than
	// slots × PartitionRows uses fewer partitions (physical.PartitionCount);
	// 0 always uses every slot.
	PartitionRows int64
}

// Engine is safe for concurrent use by many sessions.
type Engine struct {
	cfg     Config
	log     *zap.Logger
	catalog *catalog.Catalog
	sched   *cluster.Scheduler
	// mem tracks every running query's allocator (see start).
	mem    execution.NodeMemory
	nextID atomic.Int64
}

// Session is per-connection state (current schema, variables). A session is
// used by one statement at a time.
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
	if log == nil {
		log = zap.NewNop()
	}
	if cfg.Parallelism <= 0 {
		cfg.Parallelism = runtime.GOMAXPROCS(0)
	}
	cat, err := catalog.Open(ctx, catalog.Options{
		DataDir:       cfg.DataDir,
		DefaultSchema: cfg.DefaultSchema,
		AllowedDirs:   cfg.AllowedDirs,
	}, log.Named("catalog"))
	if err != nil {
		return nil, err
	}
	// Spill directories a crashed run left (live processes lock theirs).
	if n, err := execution.RemoveStaleSpill(cfg.WorkDir); err != nil {
		log.Warn("removing stale spill files", zap.Error(err))
	} else if n > 0 {
		log.Info("removed spill directories of a crashed run", zap.Int("dirs", n))
	}
	e := &Engine{
		cfg:     cfg,
		log:     log,
		catalog: cat,
		sched:   cluster.NewScheduler(cfg.Parallelism, log.Named("scheduler")),
	}
	// Query ids count from a random start: a coordinator restarted within
	// the same second (or another node) never reuses a live query's id,
	// which names its tasks and shuffle output on every node.
	e.nextID.Store(int64(rand.Uint32()))
	return e, nil
}

// Scheduler is the engine's task scheduler (cluster wiring installs a
// Distributor on it).
func (e *Engine) Scheduler() *cluster.Scheduler { return e.sched }

// Catalog exposes the catalog (metadata RPCs read it directly).
func (e *Engine) Catalog() *catalog.Catalog { return e.catalog }

// MemoryInUse is the bytes of Arrow buffers (and reservations) that the
// running queries hold now: zero between queries. A query's remainder when
// it ends (a recovered panic's lost buffers, or a leak) is dropped from it
// and counted in MemoryLost instead.
func (e *Engine) MemoryInUse() int64 { return e.mem.Used() }

// MemoryLost is the bytes queries still held when they ended, in total
// since the engine started; a successful query that adds to it leaked.
func (e *Engine) MemoryLost() int64 { return e.mem.Lost() }

// Close stops background work.
func (e *Engine) Close() error { return nil }

// NewSession returns a session positioned at the default schema.
func (e *Engine) NewSession() *Session {
	return &Session{CurrentSchema: e.cfg.DefaultSchema, Vars: map[string]string{}}
}

// Prepare parses and binds sql (one statement) and describes it. A `?`
// whose context gives it no type (`SELECT ?`) is arrow.Null in Params, and
// so is a result column made of it: its type is the bound value's, known
// only once values are bound (see PrepareBound).
func (e *Engine) Prepare(ctx context.Context, s *Session, sql string) (*Prepared, error) {
	return e.PrepareBound(ctx, s, sql, nil)
}

// PrepareBound describes sql as it executes with params bound: untyped
// placeholders take the types of their values (Execute does the same).
func (e *Engine) PrepareBound(ctx context.Context, s *Session, sql string, params []scalar.Scalar) (*Prepared, error) {
	stmts, err := parse.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(stmts) != 1 {
		return nil, qerr.New(qerr.InvalidArgument, "expected one SQL statement, got %d", len(stmts))
	}
	stmt, err := e.bindValues(ctx, s, stmts[0], sql, params)
	if err != nil {
		return nil, err
	}
	p := &Prepared{SQL: sql}
	switch st := stmt.(type) {
	case *planner.Query:
		p.Schema = ClientSchema(st.Plan.Schema().ToArrow())
	case *planner.Explain:
		p.Schema = explainSchema
	}
	if q := queryOf(stmt); q != nil {
		for _, prm := range q.Params {
			p.Params = append(p.Params, prm.Type)
		}
	}
	return p, nil
}

// queryOf is the query inside stmt that holds its placeholders (nil if none).
func queryOf(stmt planner.Statement) *planner.Query {
	switch st := stmt.(type) {
	case *planner.Query:
		return st
	case *planner.Explain:
		return st.Query
	case *planner.Insert:
		return st.Source
	case *planner.Rewrite:
		return st.Source
	case *planner.CreateTable:
		return st.AsSelect
	case *planner.SelectInto:
		return st.Query
	}
	return nil
}

// Execute runs sql. Several statements separated by `;` run in order and
// the last one's result is returned. params holds one value per `?`
// placeholder (nil when there are none; a parameter batch of several rows is
// executed once per row by the caller, or as one INSERT by InsertBatch). For queries, the first batch is
// returned as soon as it is computed; ctx's end (or Stream.Close) stops all of
// the query's work.
func (e *Engine) Execute(ctx context.Context, s *Session, sql string, params []scalar.Scalar) (*Result, error) {
	stmts, err := parse.Parse(sql)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 0 {
		return nil, qerr.New(qerr.Syntax, "Query was empty")
	}
	if len(stmts) > 1 && params != nil {
		return nil, qerr.New(qerr.InvalidArgument, "parameters are not allowed with several statements")
	}
	var res *Result
	for i, st := range stmts {
		if res != nil && res.Stream != nil {
			res.Stream.Close()
		}
		text := sql
		if len(stmts) > 1 {
			text = st.Text()
		}
		res, err = e.executeStmt(ctx, s, st, text, params)
		if err != nil {
			if len(stmts) > 1 {
				return nil, fmt.Errorf("statement %d: %w", i+1, err)
			}
			return nil, err
		}
	}
	return res, nil
}

func (e *Engine) bind(ctx context.Context, s *Session, st ast.StmtNode, sql string, paramTypes map[int]arrow.DataType) (planner.Statement, error) {
	return planner.Bind(ctx, st, &planner.BindEnv{
		Catalog:       e.catalog,
		CurrentSchema: s.CurrentSchema,
		Now:           time.Now(),
		SQL:           sql,
		ParamTypes:    paramTypes,
	})
}

// bindValues binds st for execution with params: a placeholder the context
// leaves untyped takes its value's type (the statement is bound a second
// time with those types, as MySQL re-prepares), so `SELECT ?` returns a
// column of the bound value's type rather than NULL.
func (e *Engine) bindValues(ctx context.Context, s *Session, st ast.StmtNode, sql string, params []scalar.Scalar) (planner.Statement, error) {
	stmt, err := e.bind(ctx, s, st, sql, nil)
	if err != nil || len(params) == 0 {
		return stmt, err
	}
	q := queryOf(stmt)
	if q == nil || len(q.Params) != len(params) {
		return stmt, nil // the count mismatch is reported at execution
	}
	var hints map[int]arrow.DataType
	for i, p := range q.Params {
		v := params[i]
		if p.Type != nil && p.Type.ID() != arrow.NULL || v == nil || v.DataType().ID() == arrow.NULL {
			continue
		}
		if hints == nil {
			hints = map[int]arrow.DataType{}
		}
		hints[p.Offset] = v.DataType()
	}
	if hints == nil {
		return stmt, nil
	}
	return e.bind(ctx, s, st, sql, hints)
}

func (e *Engine) newQueryID() string {
	return fmt.Sprintf("q%d-%d", time.Now().Unix(), e.nextID.Add(1))
}

func lower(s string) string { return strings.ToLower(s) }
