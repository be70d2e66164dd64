package server

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"strings"
	"sync"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/planner/parse"
	"github.com/quiverdb/quiver/qerr"
	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Authentication follows the Flight convention every client implements:
// the client sends `authorization: Basic base64(user:password)` on the
// Handshake call; the server answers with `authorization: Bearer <token>`
// (in the response headers and trailers) and the client sends that header
// on every later call. Basic credentials are also accepted on any call.
// Tokens are random, expire after Config.TokenTTL and are revoked when the
// user is removed from the users file or its password changes.

const (
	authHeader        = "authorization"
	defaultTokenTTL   = 12 * time.Hour
	handshakeMethod   = "/arrow.flight.protocol.FlightService/Handshake"
	maxTokensPerSweep = 1 << 16
)

// Identity is the authenticated caller, available to handlers through the
// call context.
type Identity struct {
	User     string
	ReadOnly bool
	Token    string // bearer token of this call ("" with Basic credentials)
}

type identityKey struct{}

// identityFrom returns the caller (nil when the server runs without auth).
func identityFrom(ctx context.Context) *Identity {
	id, _ := ctx.Value(identityKey{}).(*Identity)
	return id
}

// userOf is the caller's user name ("" without auth).
func userOf(ctx context.Context) string {
	if id := identityFrom(ctx); id != nil {
		return id.User
	}
	return ""
}

type token struct {
	user    string
	hash    string // the password hash the token was issued against
	expires time.Time
}

// authenticator checks credentials against the users file and issues tokens.
type authenticator struct {
	users *Users
	ttl   time.Duration
	now   func() time.Time

	mu     sync.Mutex
	tokens map[string]token
}

func newAuthenticator(users *Users, ttl time.Duration) *authenticator {
	if ttl <= 0 {
		ttl = defaultTokenTTL
	}
	return &authenticator{users: users, ttl: ttl, now: time.Now, tokens: map[string]token{}}
}

var errBadLogin = qerr.New(qerr.Unauthenticated, "invalid user name or password")

// login checks a user's password and returns the user.
func (a *authenticator) login(name, password string) (User, error) {
	usr, ok := a.users.lookup(name)
	if !ok {
		// Spend the same time as a wrong password: no user enumeration.
		_ = bcrypt.CompareHashAndPassword(dummyHash, []byte(password))
		return User{}, errBadLogin
	}
	if bcrypt.CompareHashAndPassword([]byte(usr.Hash), []byte(password)) != nil {
		return User{}, errBadLogin
	}
	return usr, nil
}

var dummyHash, _ = bcrypt.GenerateFromPassword([]byte("not a password"), bcrypt.DefaultCost)

// issue returns a new bearer token for usr.
func (a *authenticator) issue(usr User) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", qerr.Wrap(qerr.Internal, err, "token")
	}
	tok := base64.RawURLEncoding.EncodeToString(b[:])
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	if len(a.tokens) >= maxTokensPerSweep {
		for k, t := range a.tokens {
			if now.After(t.expires) {
				delete(a.tokens, k)
			}
		}
	}
	a.tokens[tok] = token{user: usr.Name, hash: usr.Hash, expires: now.Add(a.ttl)}
	return tok, nil
}

// check validates a bearer token.
func (a *authenticator) check(tok string) (User, error) {
	a.mu.Lock()
	t, ok := a.tokens[tok]
	if ok && a.now().After(t.expires) {
		delete(a.tokens, tok)
		a.mu.Unlock()
		return User{}, qerr.New(qerr.Unauthenticated, "bearer token expired: authenticate again")
	}
	a.mu.Unlock()
	if !ok {
		return User{}, qerr.New(qerr.Unauthenticated, "invalid or revoked bearer token: authenticate again")
	}
	usr, found := a.users.lookup(t.user)
	if !found || subtle.ConstantTimeCompare([]byte(usr.Hash), []byte(t.hash)) != 1 {
		a.revoke(tok)
		return User{}, qerr.New(qerr.Unauthenticated, "bearer token revoked (user removed or password changed): authenticate again")
	}
	return usr, nil
}

// revoke forgets a token.
func (a *authenticator) revoke(tok string) {
	a.mu.Lock()
	delete(a.tokens, tok)
	a.mu.Unlock()
}

// authenticate reads the credentials of a call. On Handshake (and whenever
// Basic credentials are used) it issues a token and sends it back in the
// headers and trailers.
func (a *authenticator) authenticate(ctx context.Context, method string, setHeader func(metadata.MD) error) (*Identity, error) {
	md, _ := metadata.FromIncomingContext(ctx)
	vals := md.Get(authHeader)
	if len(vals) == 0 || strings.TrimSpace(vals[0]) == "" {
		return nil, qerr.New(qerr.Unauthenticated,
			"authentication required: send user and password (Flight handshake with Basic auth) or a bearer token")
	}
	scheme, cred, _ := strings.Cut(strings.TrimSpace(vals[0]), " ")
	cred = strings.TrimSpace(cred)
	switch {
	case strings.EqualFold(scheme, "Bearer") && method != handshakeMethod:
		usr, err := a.check(cred)
		if err != nil {
			return nil, err
		}
		return &Identity{User: usr.Name, ReadOnly: usr.ReadOnly, Token: cred}, nil
	case strings.EqualFold(scheme, "Basic"):
		raw, err := base64.StdEncoding.DecodeString(cred)
		if err != nil {
			raw, err = base64.RawStdEncoding.DecodeString(cred)
		}
		if err != nil {
			return nil, qerr.New(qerr.Unauthenticated, "invalid Basic credentials: not base64")
		}
		name, pass, ok := strings.Cut(string(raw), ":")
		if !ok {
			return nil, qerr.New(qerr.Unauthenticated, "invalid Basic credentials: want user:password")
		}
		usr, err := a.login(name, pass)
		if err != nil {
			return nil, err
		}
		tok, err := a.issue(usr)
		if err != nil {
			return nil, err
		}
		if err := setHeader(metadata.Pairs(authHeader, "Bearer "+tok)); err != nil {
			return nil, qerr.Wrap(qerr.Internal, err, "send token")
		}
		return &Identity{User: usr.Name, ReadOnly: usr.ReadOnly, Token: tok}, nil
	case method == handshakeMethod:
		return nil, qerr.New(qerr.Unauthenticated, "handshake needs Basic credentials (user and password)")
	}
	return nil, qerr.New(qerr.Unauthenticated, "unsupported authorization scheme %q: use Basic or Bearer", scheme)
}

// authUnary and authStream enforce authentication when a users file is
// configured; the Handshake itself is answered here.
func (s *Server) authUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	if s.auth == nil {
		return h(ctx, req)
	}
	id, err := s.auth.authenticate(ctx, info.FullMethod, func(md metadata.MD) error {
		_ = grpc.SetTrailer(ctx, md)
		return grpc.SetHeader(ctx, md)
	})
	if err != nil {
		return nil, s.toStatus(err)
	}
	return h(context.WithValue(ctx, identityKey{}, id), req)
}

func (s *Server) authStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, h grpc.StreamHandler) error {
	if s.auth == nil {
		if info.FullMethod == handshakeMethod {
			return nil // nothing to negotiate: every call is allowed
		}
		return h(srv, ss)
	}
	id, err := s.auth.authenticate(ss.Context(), info.FullMethod, func(md metadata.MD) error {
		ss.SetTrailer(md)
		return ss.SetHeader(md)
	})
	if err != nil {
		return s.toStatus(err)
	}
	if info.FullMethod == handshakeMethod {
		return nil // token sent in the headers; no payload exchange needed
	}
	return h(srv, &ctxStream{ServerStream: ss, ctx: context.WithValue(ss.Context(), identityKey{}, id)})
}

// ctxStream replaces a stream's context.
type ctxStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (c *ctxStream) Context() context.Context { return c.ctx }

// checkWrite refuses statements that change data or the catalog (or write
// files) when the caller is a read-only user.
func checkWrite(ctx context.Context, sql string) error {
	id := identityFrom(ctx)
	if id == nil || !id.ReadOnly {
		return nil
	}
	stmts, err := parse.Parse(sql)
	if err != nil {
		return err
	}
	for _, st := range stmts {
		if !readOnlyStmt(st) {
			return qerr.New(qerr.PermissionDenied,
				"user '%s' is read-only: only queries (SELECT, SHOW, EXPLAIN, DESCRIBE, USE, SET) are allowed", id.User)
		}
	}
	return nil
}

func readOnlyStmt(st ast.StmtNode) bool {
	switch st := st.(type) {
	case *ast.SelectStmt:
		return st.SelectIntoOpt == nil
	case *ast.SetOprStmt:
		return readOnlySelects(st.SelectList)
	case *ast.ShowStmt, *ast.UseStmt, *ast.SetStmt:
		return true
	case *ast.ExplainStmt:
		return !st.Analyze || readOnlyStmt(st.Stmt)
	}
	return false
}

// requireWritable refuses read-only callers (bulk ingest).
func requireWritable(ctx context.Context, what string) error {
	if id := identityFrom(ctx); id != nil && id.ReadOnly {
		return qerr.New(qerr.PermissionDenied, "user '%s' is read-only: %s is not allowed", id.User, what)
	}
	return nil
}

// readOnlySelects reports whether no SELECT of a set operation writes a file.
func readOnlySelects(l *ast.SetOprSelectList) bool {
	if l == nil {
		return true
	}
	for _, sel := range l.Selects {
		switch n := sel.(type) {
		case *ast.SelectStmt:
			if n.SelectIntoOpt != nil {
				return false
			}
		case *ast.SetOprSelectList:
			if !readOnlySelects(n) {
				return false
			}
		}
	}
	return true
}
