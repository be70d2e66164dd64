package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
)

// DefaultListen is the default Flight SQL address.
const DefaultListen = "127.0.0.1:32010"

// Engine is what the server needs from the SQL engine; *engine.Engine
// satisfies it.
type Engine interface {
	NewSession() *engine.Session
	Prepare(ctx context.Context, s *engine.Session, sql string) (*engine.Prepared, error)
	Execute(ctx context.Context, s *engine.Session, sql string, params []scalar.Scalar) (*engine.Result, error)
}

// Catalog is what the metadata RPCs (GetDbSchemas, GetTables) read;
// *catalog.Catalog satisfies it.
type Catalog interface {
	Schemas() []string
	Tables(ctx context.Context, schema string) ([]*catalog.Table, error)
}

// Config wires a server.
type Config struct {
	Engine  Engine
	Catalog Catalog // nil: metadata RPCs answer Unimplemented
	Log     *zap.Logger
	// Alloc is used for metadata results and incoming parameter batches.
	Alloc memory.Allocator
	// MaxBatchBytes bounds the size of one DoGet message; larger batches are
	// split by rows. Default 3 MiB, under gRPC's 4 MiB default client limit.
	MaxBatchBytes int64
	// Version is reported in SqlInfo.
	Version string

	// Users enables authentication (see auth.go); nil serves everyone.
	Users *Users
	// TokenTTL is how long a bearer token stays valid (default 12h).
	TokenTTL time.Duration
	// SessionIdleTimeout ends sessions unused this long (default 30m).
	SessionIdleTimeout time.Duration
	// TLS, when set, makes Serve speak TLS (see LoadTLS).
	TLS *tls.Config
	// Limits per query and user.
	Limits Limits
	// EndpointAddr, when set (host:port clients can reach), is put as the
	// location of query result endpoints (see endpoints.go); "" leaves
	// them without location (read over the same connection).
	EndpointAddr string
	// HandleKey keys the MAC of prepared statement handles (see handle.go)
	// and of bearer tokens (auth.go): nodes with the same key accept each
	// other's handles and tokens (serve passes the cluster secret); nil
	// makes a random key.
	HandleKey []byte
	// HandleTTL is how long a prepared statement handle stays valid
	// (default DefaultHandleTTL).
	HandleTTL time.Duration
	// ResultTTL is how long a result held for per-partition endpoints
	// waits for its fetches (default DefaultResultTTL; see partition.go).
	ResultTTL time.Duration
}

// Server is the Flight SQL service of one node.
type Server struct {
	flightsql.BaseServer
	eng      Engine
	cat      Catalog
	log      *zap.Logger
	maxBytes int64
	sessions sessions
	prepared preparedStore
	auth     *authenticator
	tls      *tls.Config
	running  runningQueries
	polls    pollStore
	down     shutdown
	location string // result endpoint location ("" = none)
	// Per-partition endpoints (partition.go): nil parts = not supported.
	parts     PartitionEngine
	partCodec *partitionCodec
	held      heldResults // by session, canceled when it closes
	resultTTL time.Duration
}

// DefaultResultTTL is how long an unfetched partitioned result is kept.
const DefaultResultTTL = 5 * time.Minute

const defaultMaxBatchBytes = 3 << 20

// New builds a server from cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Engine == nil {
		return nil, fmt.Errorf("server: no engine")
	}
	s := &Server{cat: cfg.Catalog, log: cfg.Log, maxBytes: cfg.MaxBatchBytes, tls: cfg.TLS}
	// Statements that change their session (USE, SET) are pushed to the
	// peers (see session.go).
	s.eng = &guardedEngine{Engine: sessionEngine{Engine: cfg.Engine, ss: &s.sessions}, limits: cfg.Limits}
	s.sessions.idle, s.sessions.fresh = cfg.SessionIdleTimeout, cfg.Engine.NewSession
	s.down.init()
	if cfg.EndpointAddr != "" {
		var err error
		if s.location, err = EndpointURI(cfg.EndpointAddr, cfg.TLS != nil); err != nil {
			return nil, err
		}
	}
	// Handles and bearer tokens are signed with keys derived from one
	// secret: the cluster's, so that every node accepts them.
	secret := cfg.HandleKey
	if len(secret) == 0 {
		var err error
		if secret, err = randomSecret(); err != nil {
			return nil, err
		}
	}
	var err error
	if s.prepared.codec, err = newHandleCodec(secret, cfg.HandleTTL); err != nil {
		return nil, err
	}
	s.parts, _ = cfg.Engine.(PartitionEngine)
	s.partCodec = newPartitionCodec(secret)
	if s.resultTTL = cfg.ResultTTL; s.resultTTL <= 0 {
		s.resultTTL = DefaultResultTTL
	}
	if cfg.Users != nil {
		s.auth = newAuthenticator(cfg.Users, cfg.TokenTTL, secret)
	}
	if s.log == nil {
		s.log = zap.NewNop()
	}
	if s.maxBytes <= 0 {
		s.maxBytes = defaultMaxBatchBytes
	}
	s.Alloc = cfg.Alloc
	if s.Alloc == nil {
		s.Alloc = memory.DefaultAllocator
	}
	if err := s.registerSqlInfo(cfg.Version); err != nil {
		return nil, err
	}
	return s, nil
}

// maxRecvBytes lets clients send large parameter and ingest batches.
const maxRecvBytes = 64 << 20

// NewGRPCServer returns a gRPC server serving s as a Flight SQL service:
// authentication (when configured), cancellation tracking, and panic
// recovery so that a bug fails only the call that hit it. TLS comes from
// Config.TLS unless opts set credentials.
func (s *Server) NewGRPCServer(opts ...grpc.ServerOption) *grpc.Server {
	if s.tls != nil {
		opts = append([]grpc.ServerOption{grpc.Creds(credentials.NewTLS(s.tls))}, opts...)
	}
	opts = append([]grpc.ServerOption{
		grpc.ChainUnaryInterceptor(s.authUnary, s.shutdownUnary, s.recoverUnary),
		grpc.ChainStreamInterceptor(s.authStream, s.shutdownStream, s.trackStream, s.recoverStream),
		grpc.MaxRecvMsgSize(maxRecvBytes),
	}, opts...)
	gs := grpc.NewServer(opts...)
	flight.RegisterFlightServiceServer(gs, guardedService{FlightServer: flightsql.NewFlightServer(s), s: s})
	return gs
}

func (s *Server) recovered(method string, r any) error {
	s.log.Error("panic in handler", zap.String("method", method), zap.Any("panic", r),
		zap.ByteString("stack", debug.Stack()))
	return s.toStatus(qerr.New(qerr.Internal, "internal error in %s: %v", method, r))
}

func (s *Server) recoverUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (resp any, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.recovered(info.FullMethod, r)
		}
	}()
	return h(ctx, req)
}

func (s *Server) recoverStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = s.recovered(info.FullMethod, r)
		}
	}()
	return h(srv, ss)
}

// Transactions: every statement commits on its own; there are no
// multi-statement transactions (SqlInfo says so) and the transaction
// actions answer Unimplemented with this message.
var errNoTransactions = qerr.New(qerr.Unimplemented, "Quiver has no transactions: every statement commits on its own (auto-commit)")

// BeginTransaction is not supported.
func (s *Server) BeginTransaction(context.Context, flightsql.ActionBeginTransactionRequest) ([]byte, error) {
	return nil, s.toStatus(errNoTransactions)
}

// EndTransaction is not supported.
func (s *Server) EndTransaction(context.Context, flightsql.ActionEndTransactionRequest) error {
	return s.toStatus(errNoTransactions)
}

// BeginSavepoint is not supported.
func (s *Server) BeginSavepoint(context.Context, flightsql.ActionBeginSavepointRequest) ([]byte, error) {
	return nil, s.toStatus(errNoTransactions)
}

// EndSavepoint is not supported.
func (s *Server) EndSavepoint(context.Context, flightsql.ActionEndSavepointRequest) error {
	return s.toStatus(errNoTransactions)
}

// rowsAffectedSchema is the result of a DDL/DML statement run through a
// query command (CommandStatementQuery or a DML prepared statement fetched
// with DoGet): one row with the count.
var rowsAffectedSchema = arrow.NewSchema([]arrow.Field{{Name: "rows_affected", Type: arrow.PrimitiveTypes.Int64}}, nil)

func resultSchema(p *engine.Prepared) *arrow.Schema {
	if p.Schema == nil {
		return rowsAffectedSchema
	}
	return p.Schema
}
