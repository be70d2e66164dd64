package server

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
	"google.golang.org/grpc/peer"
)

// Limits bound what one query and one user may use. Zero means unlimited.
type Limits struct {
	// QueryTimeout ends a statement (and its result stream) after this long.
	QueryTimeout time.Duration
	// MaxResultBytes fails a query whose result grows past this size.
	MaxResultBytes int64
	// MaxConcurrentQueriesPerUser refuses a new statement of a user already
	// running this many (without auth: per client address).
	MaxConcurrentQueriesPerUser int
}

// guardedEngine wraps the engine with the per-call checks every statement
// path needs, whichever RPC brings it: read-only users, the per-user
// concurrency limit, the query timeout and the result size limit.
type guardedEngine struct {
	Engine
	limits Limits

	mu      sync.Mutex
	running map[string]int
}

func (g *guardedEngine) Prepare(ctx context.Context, s *engine.Session, sql string) (*engine.Prepared, error) {
	if err := checkWrite(ctx, sql); err != nil {
		return nil, err
	}
	return g.Engine.Prepare(ctx, s, sql)
}

func (g *guardedEngine) Execute(ctx context.Context, s *engine.Session, sql string, params []scalar.Scalar) (*engine.Result, error) {
	if err := checkWrite(ctx, sql); err != nil {
		return nil, err
	}
	release, err := g.acquire(ctx)
	if err != nil {
		return nil, err
	}
	qctx, cancel := ctx, context.CancelFunc(func() {})
	if g.limits.QueryTimeout > 0 {
		qctx, cancel = context.WithTimeout(ctx, g.limits.QueryTimeout)
	}
	done := func() { cancel(); release() }
	res, err := g.Engine.Execute(qctx, s, sql, params)
	if err != nil {
		err = g.timeoutErr(ctx, qctx, err)
		done()
		return nil, err
	}
	if res.Stream == nil {
		done()
		return res, nil
	}
	res.Stream = &guardedStream{Stream: res.Stream, g: g, parent: ctx, qctx: qctx, done: done}
	return res, nil
}

// InsertBatch runs the engine's one-commit batch INSERT (batchInserter)
// under Execute's checks and limits; ok is false when the engine has no
// such path or declines the statement.
func (g *guardedEngine) InsertBatch(ctx context.Context, s *engine.Session, sql string, params []arrow.RecordBatch) (int64, bool, error) {
	bi, can := g.Engine.(batchInserter)
	if !can {
		return 0, false, nil
	}
	if err := checkWrite(ctx, sql); err != nil {
		return 0, true, err
	}
	release, err := g.acquire(ctx)
	if err != nil {
		return 0, true, err
	}
	defer release()
	qctx, cancel := ctx, context.CancelFunc(func() {})
	if g.limits.QueryTimeout > 0 {
		qctx, cancel = context.WithTimeout(ctx, g.limits.QueryTimeout)
	}
	defer cancel()
	n, ok, err := bi.InsertBatch(qctx, s, sql, params)
	return n, ok, g.timeoutErr(ctx, qctx, err)
}

// timeoutErr turns the error of a statement that ran out of time into a
// DeadlineExceeded status naming the limit.
func (g *guardedEngine) timeoutErr(parent, qctx context.Context, err error) error {
	if err == nil || parent.Err() != nil {
		return err
	}
	expired := errors.Is(qctx.Err(), context.DeadlineExceeded)
	if dl, ok := qctx.Deadline(); ok && !time.Now().Before(dl) {
		expired = true
	}
	if expired {
		// The engine may report the deadline as a cancellation.
		return &qerr.Error{Kind: qerr.DeadlineExceeded, Msg: fmt.Sprintf("query exceeded the time limit of %s (--query-timeout)", g.limits.QueryTimeout), Err: err}
	}
	return err
}

// limitKey is whom the concurrency limit counts: the user, or the client's
// address without auth.
func limitKey(ctx context.Context) string {
	if u := userOf(ctx); u != "" {
		return "user " + u
	}
	if p, ok := peer.FromContext(ctx); ok && p.Addr != nil {
		host := p.Addr.String()
		if i := lastColon(host); i > 0 {
			host = host[:i]
		}
		return "client " + host
	}
	return "client"
}

func lastColon(s string) int {
	for i := len(s) - 1; i >= 0; i-- {
		if s[i] == ':' {
			return i
		}
	}
	return -1
}

func (g *guardedEngine) acquire(ctx context.Context) (func(), error) {
	max := g.limits.MaxConcurrentQueriesPerUser
	if max <= 0 {
		return func() {}, nil
	}
	key := limitKey(ctx)
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.running == nil {
		g.running = map[string]int{}
	}
	if g.running[key] >= max {
		return nil, qerr.New(qerr.ResourceExhausted,
			"%s already runs %d queries, the limit (--max-concurrent-queries-per-user); wait for one to finish", key, max)
	}
	g.running[key]++
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			defer g.mu.Unlock()
			if g.running[key]--; g.running[key] <= 0 {
				delete(g.running, key)
			}
		})
	}, nil
}

// guardedStream enforces the result size limit and the query timeout on a
// result stream, and frees the query's slot when closed.
type guardedStream struct {
	execution.Stream
	g      *guardedEngine
	parent context.Context
	qctx   context.Context
	done   func()
	bytes  int64
	once   sync.Once
}

func (s *guardedStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := s.qctx.Err(); err != nil {
		return nil, s.g.timeoutErr(s.parent, s.qctx, err)
	}
	if dl, ok := s.qctx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, dl)
		defer cancel()
	}
	b, err := s.Stream.Next(ctx)
	if err != nil {
		return nil, s.g.timeoutErr(s.parent, s.qctx, err)
	}
	if max := s.g.limits.MaxResultBytes; max > 0 {
		s.bytes += execution.BatchBytes(b)
		if s.bytes > max {
			b.Release()
			return nil, qerr.New(qerr.ResourceExhausted,
				"result exceeds %d bytes (--max-result-bytes): add a LIMIT or aggregate", max)
		}
	}
	return b, nil
}

func (s *guardedStream) Close() error {
	err := s.Stream.Close()
	s.once.Do(s.done)
	return err
}
