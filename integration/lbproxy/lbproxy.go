// Package lbproxy is a transparent gRPC load balancer for tests: every
// incoming RPC (unary or streaming) goes to the next backend, round robin —
// what Envoy, a Kubernetes ingress or gRPC client-side round robin do in
// front of a Quiver cluster. Headers and trailers pass both ways, messages
// pass as raw bytes. It records each call (backend, method, Flight SQL
// command and prepared statement handle) so tests can prove that a
// client's calls really spread over the nodes.
package lbproxy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/anypb"
)

// Call is one forwarded RPC.
type Call struct {
	Backend int    `json:"backend"`
	Method  string `json:"method"` // e.g. /arrow.flight.protocol.FlightService/DoGet
	// Command is the Flight SQL command of the call's first message
	// (e.g. CommandPreparedStatementQuery) or the action type; "" if none.
	Command string `json:"command,omitempty"`
	// Handle is a digest of the prepared statement handle the call names
	// ("" if none): equal digests, equal handles.
	Handle string `json:"handle,omitempty"`
}

// Proxy forwards RPCs to its backends round robin.
type Proxy struct {
	backends []string
	conns    []*grpc.ClientConn
	srv      *grpc.Server
	lis      net.Listener
	next     atomic.Uint64
	onCall   func(Call)

	mu    sync.Mutex
	calls []Call
}

// New listens on listen ("127.0.0.1:0" for any port) and forwards to
// backends (host:port, plaintext). onCall, if not nil, sees every call as
// it starts.
func New(listen string, backends []string, onCall func(Call)) (*Proxy, error) {
	if len(backends) == 0 {
		return nil, errors.New("lbproxy: no backends")
	}
	p := &Proxy{backends: backends, onCall: onCall}
	for _, b := range backends {
		c, err := grpc.NewClient(b, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(1<<30), grpc.MaxCallSendMsgSize(1<<30)))
		if err != nil {
			p.Close()
			return nil, fmt.Errorf("lbproxy: backend %s: %w", b, err)
		}
		p.conns = append(p.conns, c)
	}
	lis, err := net.Listen("tcp", listen)
	if err != nil {
		p.Close()
		return nil, err
	}
	p.lis = lis
	p.srv = grpc.NewServer(grpc.UnknownServiceHandler(p.forward), grpc.ForceServerCodec(rawCodec{}),
		grpc.MaxRecvMsgSize(1<<30), grpc.MaxSendMsgSize(1<<30))
	go p.srv.Serve(lis) //nolint:errcheck // ends with Close
	return p, nil
}

// Addr is the proxy's address.
func (p *Proxy) Addr() string { return p.lis.Addr().String() }

// Calls returns the calls forwarded so far.
func (p *Proxy) Calls() []Call {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]Call(nil), p.calls...)
}

// Counts returns the number of calls each backend got.
func (p *Proxy) Counts() []int {
	n := make([]int, len(p.backends))
	for _, c := range p.Calls() {
		n[c.Backend]++
	}
	return n
}

// Close stops the proxy (running calls end) and its backend connections.
func (p *Proxy) Close() {
	if p.srv != nil {
		p.srv.Stop()
	}
	for _, c := range p.conns {
		c.Close()
	}
}

// hopHeaders are set by gRPC itself on the outgoing call.
var hopHeaders = []string{":authority", "content-type", "user-agent", "te", "grpc-timeout", "grpc-encoding", "grpc-accept-encoding"}

func (p *Proxy) forward(_ any, in grpc.ServerStream) error {
	method, ok := grpc.MethodFromServerStream(in)
	if !ok {
		return status.Error(codes.Internal, "lbproxy: no method")
	}
	i := int((p.next.Add(1) - 1) % uint64(len(p.conns)))
	md, _ := metadata.FromIncomingContext(in.Context())
	md = md.Copy()
	for _, h := range hopHeaders {
		delete(md, h)
	}
	ctx, cancel := context.WithCancel(in.Context())
	defer cancel()
	out, err := p.conns[i].NewStream(metadata.NewOutgoingContext(ctx, md),
		&grpc.StreamDesc{ServerStreams: true, ClientStreams: true}, method, grpc.ForceCodec(rawCodec{}))
	if err != nil {
		return err
	}

	// The first request message names the command: read it before
	// recording the call.
	var first frame
	firstErr := in.RecvMsg(&first)
	call := Call{Backend: i, Method: method}
	if firstErr == nil {
		call.Command, call.Handle = describe(method, first)
	}
	p.mu.Lock()
	p.calls = append(p.calls, call)
	p.mu.Unlock()
	if p.onCall != nil {
		p.onCall(call)
	}

	// Client → backend.
	go func() {
		err := firstErr
		if err == nil {
			err = out.SendMsg(&first)
		}
		for err == nil {
			var f frame
			if err = in.RecvMsg(&f); err == nil {
				err = out.SendMsg(&f)
			}
		}
		if errors.Is(err, io.EOF) {
			out.CloseSend() //nolint:errcheck // the backend's status comes from RecvMsg
			return
		}
		cancel() // the client went away (or the backend did: RecvMsg below reports it)
	}()

	// Backend → client.
	hdr, err := out.Header()
	if err == nil && len(hdr) > 0 {
		if err := in.SendHeader(hdr); err != nil {
			return err
		}
	}
	for {
		var f frame
		if err := out.RecvMsg(&f); err != nil {
			in.SetTrailer(out.Trailer())
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err // the backend's status, code and message unchanged
		}
		if err := in.SendMsg(&f); err != nil {
			return err
		}
	}
}

// describe reads the Flight SQL command (and prepared statement handle)
// out of a call's first message.
func describe(method string, f frame) (command, handle string) {
	var cmd []byte
	switch method[strings.LastIndex(method, "/")+1:] {
	case "GetFlightInfo", "GetSchema", "PollFlightInfo":
		var d pb.FlightDescriptor
		if proto.Unmarshal(f, &d) != nil {
			return "", ""
		}
		cmd = d.GetCmd()
	case "DoPut", "DoExchange":
		var d pb.FlightData
		if proto.Unmarshal(f, &d) != nil {
			return "", ""
		}
		cmd = d.GetFlightDescriptor().GetCmd()
	case "DoGet":
		var t pb.Ticket
		if proto.Unmarshal(f, &t) != nil {
			return "", ""
		}
		cmd = t.GetTicket()
	case "DoAction":
		var a pb.Action
		if proto.Unmarshal(f, &a) != nil {
			return "", ""
		}
		var any anypb.Any
		if proto.Unmarshal(a.GetBody(), &any) == nil {
			var c pb.ActionClosePreparedStatementRequest
			if any.UnmarshalTo(&c) == nil {
				return a.GetType(), digest(c.GetPreparedStatementHandle())
			}
		}
		return a.GetType(), ""
	default:
		return "", ""
	}
	var any anypb.Any
	if proto.Unmarshal(cmd, &any) != nil || any.GetTypeUrl() == "" {
		return "", ""
	}
	command = any.GetTypeUrl()[strings.LastIndex(any.GetTypeUrl(), ".")+1:]
	var q pb.CommandPreparedStatementQuery
	var u pb.CommandPreparedStatementUpdate
	switch {
	case any.UnmarshalTo(&q) == nil:
		handle = digest(q.GetPreparedStatementHandle())
	case any.UnmarshalTo(&u) == nil:
		handle = digest(u.GetPreparedStatementHandle())
	}
	return command, handle
}

func digest(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:8])
}

// frame is a message passed through unparsed.
type frame []byte

// rawCodec moves frames as they are, so the proxy needs no schema.
type rawCodec struct{}

func (rawCodec) Marshal(v any) ([]byte, error) {
	f, ok := v.(*frame)
	if !ok {
		return nil, fmt.Errorf("lbproxy: cannot marshal %T", v)
	}
	return *f, nil
}

func (rawCodec) Unmarshal(data []byte, v any) error {
	f, ok := v.(*frame)
	if !ok {
		return fmt.Errorf("lbproxy: cannot unmarshal into %T", v)
	}
	*f = append((*f)[:0], data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }
