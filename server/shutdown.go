package server

import (
	"context"
	"net"
	"sync"
	"time"

	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
	"google.golang.org/grpc"
)

// Shutdown. When Serve's context ends the server stops accepting
// connections and tells clients to open no new calls (HTTP/2 GOAWAY);
// running calls go on for the grace period. When it is over, every call
// still running is canceled with shutdownErr (its client gets Unavailable
// and a message saying why), background queries are dropped, and the
// connections are closed shortly after. Serve returns within about
// grace + stopWait even if a handler never returns.

// stopWait is how long canceled calls get to end and send their error
// before the connections are closed, and again before Serve gives up
// waiting for gRPC.
const stopWait = time.Second

// shutdown cancels the contexts of running calls when the grace period
// ends.
type shutdown struct {
	once   sync.Once
	ctx    context.Context // canceled (with the shutdown error as cause) at the end of the grace period
	cancel context.CancelCauseFunc
}

func (d *shutdown) init() {
	d.ctx, d.cancel = context.WithCancelCause(context.Background())
}

// stopCalls cancels every running and future call with err.
func (d *shutdown) stopCalls(err error) {
	d.once.Do(func() { d.cancel(err) })
}

// callContext derives a call's context that also ends when the grace
// period does; stop must be called when the call ends.
func (d *shutdown) callContext(ctx context.Context) (context.Context, func()) {
	cctx, cancel := context.WithCancelCause(ctx)
	unhook := context.AfterFunc(d.ctx, func() { cancel(context.Cause(d.ctx)) })
	return cctx, func() { unhook(); cancel(context.Canceled) }
}

// canceledByShutdown is the shutdown error if ctx was canceled by it.
func (d *shutdown) canceledByShutdown(ctx context.Context) error {
	if ctx.Err() == nil || d.ctx.Err() == nil {
		return nil
	}
	if cause := context.Cause(ctx); cause == context.Cause(d.ctx) {
		return cause
	}
	return nil
}

func (s *Server) shutdownUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	cctx, done := s.down.callContext(ctx)
	defer done()
	resp, err := h(cctx, req)
	if err != nil {
		if serr := s.down.canceledByShutdown(cctx); serr != nil {
			return nil, s.toStatus(serr)
		}
	}
	return resp, err
}

// shutdownStream reports the shutdown error for a stream canceled at the
// end of the grace period even when its handler ended without error (a
// DoGet cut short would otherwise look like a complete result).
func (s *Server) shutdownStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	cctx, done := s.down.callContext(ss.Context())
	defer done()
	err := h(srv, &ctxStream{ServerStream: ss, ctx: cctx})
	if serr := s.down.canceledByShutdown(cctx); serr != nil {
		return s.toStatus(serr)
	}
	return err
}

// Serve serves on lis until ctx ends, then shuts down: no new connections
// or calls, running calls get up to grace to finish, then they are
// canceled (clients get Unavailable) and the connections closed.
func (s *Server) Serve(ctx context.Context, lis net.Listener, grace time.Duration) error {
	gs := s.NewGRPCServer()
	served := make(chan error, 1)
	go func() { served <- gs.Serve(lis) }()
	select {
	case err := <-served:
		s.polls.cancelAll()
		return err
	case <-ctx.Done():
	}
	s.log.Info("shutting down: new connections refused, running queries have the grace period to finish",
		zap.Duration("grace", grace))
	drained := make(chan struct{})
	go func() { gs.GracefulStop(); close(drained) }()
	timer := time.NewTimer(grace)
	defer timer.Stop()
	select {
	case <-drained:
		s.polls.cancelAll()
		return <-served
	case <-timer.C:
	}
	s.log.Warn("shutdown grace period over: canceling the running queries", zap.Duration("grace", grace))
	s.down.stopCalls(qerr.New(qerr.Unavailable,
		"the server is shutting down: the query was canceled after the %s shutdown grace period (--shutdown-grace); run it again", grace))
	s.polls.cancelAll()
	select {
	case <-drained:
		return <-served
	case <-time.After(stopWait):
	}
	go gs.Stop()
	select {
	case err := <-served: // Stop ended Serve even if handlers still run
		return err
	case <-time.After(stopWait):
		s.log.Warn("calls still running after shutdown; exiting without them")
		return nil
	}
}
