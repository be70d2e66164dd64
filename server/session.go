package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/quiverdb/quiver/engine"
	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// Sessions hold the state a client keeps across calls: the current schema
// (USE, SetSessionOptions "schema") and variables. A call finds its session,
// in this order, by
//
//  1. the gRPC header x-quiver-session (quiver sql sets it),
//  2. the cookie arrow_flight_session_id (the Flight session cookie: the JDBC
//     driver and arrow-go's cookie middleware send back what the server set),
//  3. the bearer token (one per JDBC/ADBC connection with user/password).
//
// A statement call that carries none of these gets a new session and a
// Set-Cookie header naming it, so cookie-aware clients keep their state.
// Sessions belong to the user that created them and expire after
// Config.SessionIdleTimeout without use; CloseSession ends one.
const (
	// SessionHeader names the gRPC metadata key a client may set to name
	// its session explicitly.
	SessionHeader = "x-quiver-session"
	// SessionCookie is the Flight SQL session cookie (as arrow-go names it).
	SessionCookie = "arrow_flight_session_id"

	defaultSessionIdle = 30 * time.Minute
	defaultMaxSessions = 100000
)

type sessionEntry struct {
	id       string
	user     string
	sess     *engine.Session
	lastUsed time.Time
	keys     []string // aliases in sessions.byKey
}

// sessions holds the sessions of this node.
type sessions struct {
	idle time.Duration
	max  int
	now  func() time.Time

	mu        sync.Mutex
	byID      map[string]*sessionEntry
	byKey     map[string]string // "h:user:value" / "t:token" → id
	lastSweep time.Time
}

func (s *sessions) init() {
	if s.byID == nil {
		s.byID, s.byKey = map[string]*sessionEntry{}, map[string]string{}
	}
	if s.idle <= 0 {
		s.idle = defaultSessionIdle
	}
	if s.max <= 0 {
		s.max = defaultMaxSessions
	}
	if s.now == nil {
		s.now = time.Now
	}
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// sweepLocked drops idle sessions (at most once a minute), and the least
// recently used ones when there are too many.
func (s *sessions) sweepLocked(force bool) {
	now := s.now()
	if !force && now.Sub(s.lastSweep) < time.Minute {
		return
	}
	s.lastSweep = now
	for _, e := range s.byID {
		if now.Sub(e.lastUsed) > s.idle {
			s.dropLocked(e)
		}
	}
	for len(s.byID) >= s.max {
		var oldest *sessionEntry
		for _, e := range s.byID {
			if oldest == nil || e.lastUsed.Before(oldest.lastUsed) {
				oldest = e
			}
		}
		s.dropLocked(oldest)
	}
}

func (s *sessions) dropLocked(e *sessionEntry) {
	delete(s.byID, e.id)
	for _, k := range e.keys {
		delete(s.byKey, k)
	}
}

// createLocked registers a new session.
func (s *sessions) createLocked(id, user string, sess *engine.Session, keys ...string) *sessionEntry {
	s.sweepLocked(len(s.byID) >= s.max)
	e := &sessionEntry{id: id, user: user, sess: sess, lastUsed: s.now(), keys: keys}
	s.byID[id] = e
	for _, k := range keys {
		s.byKey[k] = id
	}
	return e
}

// lookupLocked returns a live session of user by id.
func (s *sessions) lookupLocked(id, user string) *sessionEntry {
	e, ok := s.byID[id]
	if !ok || e.user != user {
		return nil
	}
	if s.now().Sub(e.lastUsed) > s.idle {
		s.dropLocked(e)
		return nil
	}
	e.lastUsed = s.now()
	return e
}

// get returns the session named id, creating it (through newSession) when
// unknown or expired; id "" yields a fresh unnamed session. Tickets use it:
// they name the session they were issued in.
func (s *sessions) get(id string, newSession func() *engine.Session) *engine.Session {
	if id == "" {
		return newSession()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if e, ok := s.byID[id]; ok {
		e.lastUsed = s.now()
		return e.sess
	}
	return s.createLocked(id, "", newSession()).sess
}

// callKeys are the session identifiers a call carries.
type callKeys struct {
	header, cookie, token string
}

func keysOf(ctx context.Context) callKeys {
	var k callKeys
	md, _ := metadata.FromIncomingContext(ctx)
	if v := md.Get(SessionHeader); len(v) > 0 {
		k.header = v[0]
	}
	if c, ok := cookieOf(md, SessionCookie); ok {
		k.cookie = c
	}
	if id := identityFrom(ctx); id != nil {
		k.token = id.Token
	}
	return k
}

// cookieOf reads a cookie from the call's "cookie" headers.
func cookieOf(md metadata.MD, name string) (string, bool) {
	for _, line := range md.Get("cookie") {
		cs, err := http.ParseCookie(line)
		if err != nil {
			// Be lenient with clients that send unquoted odd values.
			for _, part := range strings.Split(line, ";") {
				if k, v, ok := strings.Cut(strings.TrimSpace(part), "="); ok && k == name {
					return v, true
				}
			}
			continue
		}
		for _, c := range cs {
			if c.Name == name {
				return c.Value, true
			}
		}
	}
	return "", false
}

// resolve finds the caller's session; create makes one when the call has
// none (and tells the client its cookie). It returns nil when the call has
// no session and create is false.
func (s *sessions) resolve(ctx context.Context, create bool, newSession func() *engine.Session) *sessionEntry {
	k, user := keysOf(ctx), userOf(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if k.header != "" {
		key := "h:" + user + ":" + k.header
		if id, ok := s.byKey[key]; ok {
			if e := s.lookupLocked(id, user); e != nil {
				return e
			}
		}
		return s.createLocked(newID(), user, newSession(), key)
	}
	if k.cookie != "" {
		if e := s.lookupLocked(k.cookie, user); e != nil {
			return e
		}
	}
	if k.token != "" {
		key := "t:" + k.token
		if id, ok := s.byKey[key]; ok {
			if e := s.lookupLocked(id, user); e != nil {
				return e
			}
		}
		return s.createLocked(newID(), user, newSession(), key)
	}
	if !create {
		return nil
	}
	e := s.createLocked(newID(), user, newSession())
	setCookie(ctx, e.id, 0)
	return e
}

// setCookie tells the client its session cookie (maxAge < 0 deletes it).
func setCookie(ctx context.Context, id string, maxAge int) {
	c := http.Cookie{Name: SessionCookie, Value: id, MaxAge: maxAge}
	_ = grpc.SetHeader(ctx, metadata.Pairs("set-cookie", c.String()))
}

// close ends the caller's session.
func (s *sessions) close(ctx context.Context) bool {
	e := s.resolve(ctx, false, nil)
	if e == nil {
		return false
	}
	s.mu.Lock()
	s.dropLocked(e)
	s.mu.Unlock()
	if k := keysOf(ctx); k.cookie == e.id {
		setCookie(ctx, e.id, -1)
	}
	return true
}

func (s *sessions) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.byID)
}

// session returns the session of the calling client (see the package
// comment above), creating one if the call carries none.
func (s *Server) session(ctx context.Context) (string, *engine.Session) {
	e := s.sessions.resolve(ctx, true, s.eng.NewSession)
	return e.id, e.sess
}

// Session options (SetSessionOptions/GetSessionOptions): "catalog" (only
// "def", the one catalog) and "schema" (the current schema, as USE sets).
const (
	optCatalog = "catalog"
	optSchema  = "schema"
)

// SetSessionOptions sets the current catalog/schema of the caller's session.
func (s *Server) SetSessionOptions(ctx context.Context, req *flight.SetSessionOptionsRequest) (*flight.SetSessionOptionsResult, error) {
	e := s.sessions.resolve(ctx, true, s.eng.NewSession)
	res := &flight.SetSessionOptionsResult{Errors: map[string]*flight.SetSessionOptionsResultError{}}
	fail := func(name string, v pb.SetSessionOptionsResult_ErrorValue) {
		res.Errors[name] = &flight.SetSessionOptionsResultError{Value: v}
	}
	for name, v := range req.GetSessionOptions() {
		str, isStr := v.GetOptionValue().(*pb.SessionOptionValue_StringValue)
		switch strings.ToLower(name) {
		case optCatalog:
			if !isStr || (str.StringValue != "" && !strings.EqualFold(str.StringValue, CatalogName)) {
				fail(name, flight.SetSessionOptionsResultErrorInvalidValue)
			}
		case optSchema:
			if !isStr || !s.schemaExists(str.StringValue) {
				fail(name, flight.SetSessionOptionsResultErrorInvalidValue)
				continue
			}
			s.sessions.mu.Lock()
			e.sess.CurrentSchema = strings.ToLower(str.StringValue)
			s.sessions.mu.Unlock()
		default:
			fail(name, flight.SetSessionOptionsResultErrorInvalidName)
		}
	}
	return res, nil
}

func (s *Server) schemaExists(name string) bool {
	if s.cat == nil {
		return name != ""
	}
	for _, sc := range s.cat.Schemas() {
		if strings.EqualFold(sc, name) {
			return true
		}
	}
	return false
}

// GetSessionOptions reports the caller's catalog and schema.
func (s *Server) GetSessionOptions(ctx context.Context, _ *flight.GetSessionOptionsRequest) (*flight.GetSessionOptionsResult, error) {
	e := s.sessions.resolve(ctx, true, s.eng.NewSession)
	s.sessions.mu.Lock()
	schema := e.sess.CurrentSchema
	s.sessions.mu.Unlock()
	str := func(v string) *flight.SessionOptionValue {
		return &flight.SessionOptionValue{OptionValue: &pb.SessionOptionValue_StringValue{StringValue: v}}
	}
	return &flight.GetSessionOptionsResult{SessionOptions: map[string]*flight.SessionOptionValue{
		optCatalog: str(CatalogName),
		optSchema:  str(schema),
	}}, nil
}

// CloseSession ends the caller's session; a call without one has nothing
// to close and succeeds too.
func (s *Server) CloseSession(ctx context.Context, _ *flight.CloseSessionRequest) (*flight.CloseSessionResult, error) {
	s.sessions.close(ctx)
	return &flight.CloseSessionResult{Status: flight.CloseSessionResultClosed}, nil
}
