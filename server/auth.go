package server

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/binary"
	"strings"
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
//
// Tokens are self-contained so that every node of a cluster accepts every
// node's tokens (behind a per-call load balancer each RPC may land on
// another node): base64url of
//
//	version (1 byte) | issued, expiry (uvarint Unix seconds) | id (16 random bytes) |
//	password fingerprint (16 bytes) | user | HMAC-SHA256 (32 bytes)
//
// keyed like prepared statement handles (the cluster secret, or a random
// key per node without one). The fingerprint is a MAC of the user's bcrypt
// hash, so removing the user or changing the password (in the users file
// every node reads) revokes the tokens issued before, on every node.
// Nothing else revokes a token (logout/CloseSession end the session, not
// the token), so there is no revocation list to share.

const (
	authHeader      = "authorization"
	defaultTokenTTL = 12 * time.Hour
	handshakeMethod = "/arrow.flight.protocol.FlightService/Handshake"

	tokenVersion = 1
	tokenIDLen   = 16
	tokenFPLen   = 16
	// maxTokenLen bounds what is decoded (a user name is a line of the
	// users file).
	maxTokenLen = 4096
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

// authenticator checks credentials against the users file and issues and
// verifies tokens.
type authenticator struct {
	users *Users
	ttl   time.Duration
	key   []byte // token MAC key
	now   func() time.Time
}

// newAuthenticator makes tokens signed with a key derived from secret
// (the cluster secret; see Server.New).
func newAuthenticator(users *Users, ttl time.Duration, secret []byte) *authenticator {
	if ttl <= 0 {
		ttl = defaultTokenTTL
	}
	return &authenticator{users: users, ttl: ttl, key: deriveKey(secret, "quiver bearer token key"), now: time.Now}
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

func (a *authenticator) mac(b []byte) []byte {
	m := hmac.New(sha256.New, a.key)
	m.Write(b)
	return m.Sum(nil)
}

// fingerprint identifies a password hash without revealing it.
func (a *authenticator) fingerprint(hash string) []byte {
	return a.mac([]byte("password\x00" + hash))[:tokenFPLen]
}

// issue returns a new bearer token for usr.
func (a *authenticator) issue(usr User) (string, error) {
	var id [tokenIDLen]byte
	if _, err := rand.Read(id[:]); err != nil {
		return "", qerr.Wrap(qerr.Internal, err, "token")
	}
	now := a.now()
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+tokenIDLen+tokenFPLen+len(usr.Name)+sha256.Size)
	b = append(b, tokenVersion)
	b = binary.AppendUvarint(b, uint64(now.Unix()))
	b = binary.AppendUvarint(b, uint64(now.Add(a.ttl).Unix()))
	b = append(b, id[:]...)
	b = append(b, a.fingerprint(usr.Hash)...)
	b = append(b, usr.Name...)
	return base64.RawURLEncoding.EncodeToString(append(b, a.mac(b)...)), nil
}

var errBadToken = qerr.New(qerr.Unauthenticated, "invalid or revoked bearer token: authenticate again")

// check validates a bearer token.
func (a *authenticator) check(tok string) (User, error) {
	if len(tok) > maxTokenLen {
		return User{}, errBadToken
	}
	raw, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(raw) < 1+2+tokenIDLen+tokenFPLen+sha256.Size || raw[0] != tokenVersion {
		return User{}, errBadToken
	}
	body, sum := raw[:len(raw)-sha256.Size], raw[len(raw)-sha256.Size:]
	if !hmac.Equal(sum, a.mac(body)) {
		return User{}, errBadToken
	}
	rest := body[1:]
	if _, n := binary.Uvarint(rest); n > 0 {
		rest = rest[n:]
	} else {
		return User{}, errBadToken
	}
	exp, n := binary.Uvarint(rest)
	if n <= 0 || len(rest)-n < tokenIDLen+tokenFPLen {
		return User{}, errBadToken
	}
	rest = rest[n+tokenIDLen:]
	fp, name := rest[:tokenFPLen], string(rest[tokenFPLen:])
	if !a.now().Before(time.Unix(int64(exp), 0)) {
		return User{}, qerr.New(qerr.Unauthenticated, "bearer token expired: authenticate again")
	}
	usr, found := a.users.lookup(name)
	if !found || subtle.ConstantTimeCompare(a.fingerprint(usr.Hash), fp) != 1 {
		return User{}, qerr.New(qerr.Unauthenticated, "bearer token revoked (user removed or password changed): authenticate again")
	}
	return usr, nil
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
