package server

import (
	"context"
	"io"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// fakeEngine understands a handful of statements, enough to exercise the
// protocol: "select N" streams N int64 rows in batches of 1000;
// "insert ?" is DML with one parameter and affects one row; "wait" blocks
// until its stream is closed; "hang" blocks, deaf to cancellation, until
// hang is closed; "notfound" and "panic" fail.
type fakeEngine struct {
	mem  memory.Allocator
	hang chan struct{}

	mu     sync.Mutex
	execs  [][]scalar.Scalar // params of each Execute
	closed atomic.Int32      // streams closed
	// liveAtClose is the bytes still allocated when a stream was last
	// closed (the engine settles a query's memory accounting then).
	liveAtClose atomic.Int64
}

var intSchema = arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)

func (f *fakeEngine) NewSession() *engine.Session {
	return &engine.Session{CurrentSchema: "tpch", Vars: map[string]string{}}
}

func (f *fakeEngine) Prepare(_ context.Context, _ *engine.Session, sql string) (*engine.Prepared, error) {
	switch {
	case strings.HasPrefix(sql, "select"), sql == "wait", sql == "hang":
		return &engine.Prepared{SQL: sql, Schema: intSchema}, nil
	case strings.HasPrefix(sql, "insert"):
		return &engine.Prepared{SQL: sql, Params: []arrow.DataType{arrow.PrimitiveTypes.Int64}}, nil
	case sql == "panic":
		panic("boom")
	}
	return nil, qerr.New(qerr.NotFound, "Table 'tpch.%s' doesn't exist", sql)
}

func (f *fakeEngine) Execute(ctx context.Context, s *engine.Session, sql string, params []scalar.Scalar) (*engine.Result, error) {
	p, err := f.Prepare(ctx, s, sql)
	if err != nil {
		return nil, err
	}
	f.mu.Lock()
	f.execs = append(f.execs, params)
	f.mu.Unlock()
	switch {
	case sql == "wait":
		return &engine.Result{Schema: intSchema, Stream: &fakeStream{f: f, wait: true}}, nil
	case sql == "hang":
		return &engine.Result{Schema: intSchema, Stream: &fakeStream{f: f, wait: true, hang: f.hang}}, nil
	case strings.HasPrefix(sql, "select"):
		var n int
		for _, c := range strings.TrimPrefix(sql, "select ") {
			n = n*10 + int(c-'0')
		}
		return &engine.Result{Schema: p.Schema, Stream: &fakeStream{f: f, left: n}}, nil
	}
	return &engine.Result{RowsAffected: 1}, nil
}

type fakeStream struct {
	f      *fakeEngine
	left   int
	next   int64
	wait   bool
	hang   chan struct{}
	closed bool
}

func (s *fakeStream) Schema() *arrow.Schema { return intSchema }

func (s *fakeStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if s.wait {
		// Produce one batch, then block until the query is canceled.
		if s.next == 0 {
			s.next = 1
			return s.batch(1), nil
		}
		if s.hang != nil {
			<-s.hang
		} else {
			<-ctx.Done()
		}
		return nil, qerr.New(qerr.Canceled, "query canceled")
	}
	if s.left == 0 {
		return nil, io.EOF
	}
	n := min(s.left, 1000)
	s.left -= n
	return s.batch(n), nil
}

func (s *fakeStream) batch(n int) arrow.RecordBatch {
	b := array.NewInt64Builder(s.f.mem)
	defer b.Release()
	for range n {
		b.Append(s.next)
		s.next++
	}
	col := b.NewArray()
	defer col.Release()
	return array.NewRecordBatch(intSchema, []arrow.Array{col}, int64(n))
}

func (s *fakeStream) Close() error {
	if !s.closed {
		s.closed = true
		s.f.closed.Add(1)
		if m, ok := s.f.mem.(*memory.CheckedAllocator); ok {
			s.f.liveAtClose.Store(int64(m.CurrentAlloc()))
		}
	}
	return nil
}

var _ execution.Stream = (*fakeStream)(nil)

// fakeCatalog has schemas tpch (lineitem, nation, a view) and test (t1).
type fakeCatalog struct{}

func (fakeCatalog) Schemas() []string { return []string{"information_schema", "test", "tpch"} }

func (fakeCatalog) Tables(_ context.Context, schema string) ([]*catalog.Table, error) {
	cols := arrow.NewSchema([]arrow.Field{
		{Name: "k", Type: arrow.PrimitiveTypes.Int64},
		{Name: "price", Type: &arrow.Decimal128Type{Precision: 15, Scale: 2}, Nullable: true},
	}, nil)
	mk := func(name string, kind catalog.TableKind) *catalog.Table {
		return &catalog.Table{Schema: schema, Name: name, Kind: kind, Columns: cols}
	}
	switch schema {
	case "tpch":
		return []*catalog.Table{mk("lineitem", catalog.BaseTable), mk("nation", catalog.BaseTable), mk("v_nation", catalog.View)}, nil
	case "test":
		return []*catalog.Table{mk("t1", catalog.BaseTable)}, nil
	case "information_schema":
		return []*catalog.Table{mk("tables", catalog.SystemTable)}, nil
	}
	return nil, qerr.New(qerr.NotFound, "Unknown database '%s'", schema)
}
