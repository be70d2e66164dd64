package server

import (
	"bytes"
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/quiverdb/quiver/qerr"
	"google.golang.org/grpc"
)

// Cancellation. A query runs while its DoGet stream is open: when the
// client cancels or drops the stream, the stream's context ends and the
// engine stops the query (JDBC Statement.cancel() does this).
// CancelFlightInfo cancels the DoGet calls reading the endpoints of the
// FlightInfo it names; a ticket canceled before its DoGet started fails
// that DoGet (once, within canceledTTL).

const (
	doGetMethod = "/arrow.flight.protocol.FlightService/DoGet"
	canceledTTL = time.Minute
)

type runningCall struct {
	user     string
	cancel   context.CancelFunc
	canceled atomic.Bool
}

// runningQueries maps tickets to the DoGet calls reading them.
type runningQueries struct {
	mu       sync.Mutex
	byTicket map[string]map[*runningCall]struct{}
	canceled map[string]canceledTicket
}

type canceledTicket struct {
	user  string
	until time.Time
}

func (r *runningQueries) add(ticket string, c *runningCall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.byTicket == nil {
		r.byTicket = map[string]map[*runningCall]struct{}{}
	}
	if ct, ok := r.canceled[ticket]; ok {
		delete(r.canceled, ticket)
		if ct.user == c.user && time.Now().Before(ct.until) {
			c.canceled.Store(true)
			c.cancel()
		}
	}
	m := r.byTicket[ticket]
	if m == nil {
		m = map[*runningCall]struct{}{}
		r.byTicket[ticket] = m
	}
	m[c] = struct{}{}
}

func (r *runningQueries) remove(ticket string, c *runningCall) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if m := r.byTicket[ticket]; m != nil {
		delete(m, c)
		if len(m) == 0 {
			delete(r.byTicket, ticket)
		}
	}
}

// cancel cancels the running reads of ticket by user; when none runs, the
// next read of the ticket is canceled.
func (r *runningQueries) cancel(ticket, user string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for c := range r.byTicket[ticket] {
		if c.user == user {
			c.canceled.Store(true)
			c.cancel()
			n++
		}
	}
	if n > 0 {
		return
	}
	if r.canceled == nil {
		r.canceled = map[string]canceledTicket{}
	}
	now := time.Now()
	for k, v := range r.canceled {
		if now.After(v.until) {
			delete(r.canceled, k)
		}
	}
	r.canceled[ticket] = canceledTicket{user: user, until: now.Add(canceledTTL)}
}

func (r *runningQueries) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, m := range r.byTicket {
		n += len(m)
	}
	return n
}

// trackStream registers every DoGet under its ticket so CancelFlightInfo
// can end it.
func (s *Server) trackStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if info.FullMethod != doGetMethod {
		return h(srv, ss)
	}
	ctx, cancel := context.WithCancel(ss.Context())
	defer cancel()
	ts := &trackedStream{ServerStream: ss, ctx: ctx, s: s, call: &runningCall{user: userOf(ctx), cancel: cancel}}
	err := h(srv, ts)
	if ts.registered {
		s.running.remove(ts.ticket, ts.call)
	}
	if ts.call.canceled.Load() && ss.Context().Err() == nil {
		return s.toStatus(qerr.New(qerr.Canceled, "query canceled (CancelFlightInfo)"))
	}
	return err
}

type trackedStream struct {
	grpc.ServerStream
	ctx        context.Context
	s          *Server
	call       *runningCall
	ticket     string
	registered bool
}

func (t *trackedStream) Context() context.Context { return t.ctx }

func (t *trackedStream) RecvMsg(m any) error {
	err := t.ServerStream.RecvMsg(m)
	if tk, ok := m.(*flight.Ticket); ok && err == nil && !t.registered {
		t.ticket, t.registered = string(tk.GetTicket()), true
		t.s.running.add(t.ticket, t.call)
	}
	return err
}

// CancelFlightInfo cancels the reads of every endpoint of a FlightInfo.
func (s *Server) CancelFlightInfo(ctx context.Context, req *flight.CancelFlightInfoRequest) (flight.CancelFlightInfoResult, error) {
	info := req.GetInfo()
	// A running partitioned poll's info has no endpoints yet: its app
	// metadata names the poll.
	if id, ok := bytes.CutPrefix(info.GetAppMetadata(), pollMagic); ok {
		if q, err := s.polls.get(string(id), userOf(ctx)); err == nil {
			q.release()
		}
		if len(info.GetEndpoint()) == 0 {
			return flight.CancelFlightInfoResult{Status: flight.CancelStatusCancelled}, nil
		}
	}
	if info == nil || len(info.GetEndpoint()) == 0 {
		return flight.CancelFlightInfoResult{Status: flight.CancelStatusUnspecified},
			s.toStatus(qerr.New(qerr.InvalidArgument, "CancelFlightInfo: the request names no FlightInfo endpoints"))
	}
	user := userOf(ctx)
	held := map[string]bool{}
	for _, ep := range info.GetEndpoint() {
		if t := ep.GetTicket(); t != nil {
			s.running.cancel(string(t.GetTicket()), user)
			s.cancelPoll(t.GetTicket(), user)
			s.cancelPartition(t.GetTicket(), user, held)
		}
	}
	return flight.CancelFlightInfoResult{Status: flight.CancelStatusCancelled}, nil
}
