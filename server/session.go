package server

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	pb "github.com/apache/arrow-go/v18/arrow/flight/gen/flight"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/qerr"
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
//
// In a cluster any call may land on any node (a per-call load balancer), so
// a session is the same on every node:
//   - its id is the same everywhere: derived from the user and header value,
//     from the bearer token, or the cookie value itself;
//   - every change of its state (USE, SET, SetSessionOptions, DROP DATABASE
//     of the current schema, CloseSession) is pushed to every peer before
//     the call that made it returns (Server.SetSessionPeers).
//
// A node that does not know a session id therefore knows its state: the
// default one. What a node missed before it joined (or while cut off) it
// pulls from its peers when it starts and when they join (session-sync,
// Server.SessionSnapshot). What stays per node: the idle clock (a session
// unused on one node for SessionIdleTimeout is forgotten there, even if
// used elsewhere), a push that failed between two members, and a close
// made while a node was cut off (docs/server.md, "Any call on any node").
const (
	// SessionHeader names the gRPC metadata key a client may set to name
	// its session explicitly.
	SessionHeader = "x-quiver-session"
	// SessionCookie is the Flight SQL session cookie (as arrow-go names it).
	SessionCookie = "arrow_flight_session_id"

	defaultSessionIdle = 30 * time.Minute
	defaultMaxSessions = 100000
	// maxCookieLen bounds a cookie value accepted as a session id.
	maxCookieLen = 128
)

type sessionEntry struct {
	id       string
	user     string // "" until a caller claims it: made from a ticket or a peer's update without a user
	sess     *engine.Session
	lastUsed time.Time
	ver      int64 // version of the state: orders the updates of one session across nodes
}

// sessions holds the sessions of this node.
type sessions struct {
	idle time.Duration
	max  int
	now  func() time.Time
	// fresh makes a session in the default state (peers' updates).
	fresh func() *engine.Session

	mu        sync.Mutex
	byID      map[string]*sessionEntry
	bySess    map[*engine.Session]*sessionEntry
	publish   func(context.Context, []byte) // pushes an update to the peers; nil on a single node
	lastSweep time.Time
}

func (s *sessions) init() {
	if s.byID == nil {
		s.byID, s.bySess = map[string]*sessionEntry{}, map[*engine.Session]*sessionEntry{}
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

// derivedID is the session id of a header or token session: the same on
// every node, and not the secret it comes from (ids travel in tickets).
func derivedID(kind, user, value string) string {
	h := sha256.Sum256([]byte(kind + "\x00" + user + "\x00" + value))
	return kind + hex.EncodeToString(h[:16])
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
	delete(s.bySess, e.sess)
}

// createLocked registers a new session.
func (s *sessions) createLocked(id, user string, sess *engine.Session) *sessionEntry {
	s.sweepLocked(len(s.byID) >= s.max)
	if old := s.byID[id]; old != nil {
		s.dropLocked(old)
	}
	e := &sessionEntry{id: id, user: user, sess: sess, lastUsed: s.now()}
	s.byID[id] = e
	s.bySess[sess] = e
	return e
}

// lookupLocked returns a live session of user by id. An unclaimed session
// becomes user's: its id came from user's token, header or cookie.
func (s *sessions) lookupLocked(id, user string) *sessionEntry {
	e, ok := s.byID[id]
	if !ok || (e.user != user && e.user != "") {
		return nil
	}
	if s.now().Sub(e.lastUsed) > s.idle {
		s.dropLocked(e)
		return nil
	}
	e.user = user
	e.lastUsed = s.now()
	return e
}

// openLocked returns user's session id, made in the default state when
// this node has none (it never changed, or it was forgotten) — unless
// newSession is nil: then it returns nil.
func (s *sessions) openLocked(id, user string, newSession func() *engine.Session) *sessionEntry {
	if e := s.lookupLocked(id, user); e != nil {
		return e
	}
	if newSession == nil {
		return nil
	}
	return s.createLocked(id, user, newSession())
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
	if c, ok := cookieOf(md, SessionCookie); ok && c != "" && len(c) <= maxCookieLen {
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
// no session and create is false, and when newSession is nil and this node
// does not know the session the call names.
func (s *sessions) resolve(ctx context.Context, create bool, newSession func() *engine.Session) *sessionEntry {
	k, user := keysOf(ctx), userOf(ctx)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	if k.header != "" {
		return s.openLocked(derivedID("h", user, k.header), user, newSession)
	}
	if k.cookie != "" {
		if e := s.lookupLocked(k.cookie, user); e != nil {
			return e
		}
		if _, taken := s.byID[k.cookie]; !taken && k.token == "" && newSession != nil {
			// A cookie this node does not know (another node issued it,
			// or it idled out here): its session is in the default state.
			return s.createLocked(k.cookie, user, newSession())
		}
	}
	if k.token != "" {
		return s.openLocked(derivedID("t", "", k.token), user, newSession)
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

// close ends the caller's session, on every node.
func (s *sessions) close(ctx context.Context) bool {
	e := s.resolve(ctx, false, nil)
	if e == nil {
		return false
	}
	s.mu.Lock()
	s.dropLocked(e)
	u := s.updateLocked(e)
	u.Closed = true
	publish := s.publish
	s.mu.Unlock()
	s.send(ctx, publish, u)
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

// sessionUpdate is a session's state as pushed to the peers
// (cluster.ActionSessionUpdate).
type sessionUpdate struct {
	ID     string            `json:"id"`
	User   string            `json:"user,omitempty"`
	Schema string            `json:"schema"`
	Vars   map[string]string `json:"vars,omitempty"`
	Ver    int64             `json:"ver"`
	Closed bool              `json:"closed,omitempty"`
}

// sessionState is what a statement may change in a session.
type sessionState struct {
	schema string
	vars   map[string]string
}

func (s *sessions) snapshot(sess *engine.Session) sessionState {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sessionState{schema: sess.CurrentSchema, vars: maps.Clone(sess.Vars)}
}

// updateLocked stamps a new version of e's state.
func (s *sessions) updateLocked(e *sessionEntry) sessionUpdate {
	e.ver = max(s.now().UnixNano(), e.ver+1)
	return sessionUpdate{ID: e.id, User: e.user, Schema: e.sess.CurrentSchema, Vars: maps.Clone(e.sess.Vars), Ver: e.ver}
}

// changed pushes sess's state to the peers when a statement changed it
// (before is the state it ran in). A change to a prepared statement's
// private session (rebuilt from its handle on a node other than the one
// that prepared it) is the caller's: it goes to the caller's session, as
// it does on the preparing node, whose entry shares the caller's session.
func (s *sessions) changed(ctx context.Context, sess *engine.Session, before sessionState) {
	s.mu.Lock()
	if sess.CurrentSchema == before.schema && maps.Equal(sess.Vars, before.vars) {
		s.mu.Unlock()
		return
	}
	e := s.bySess[sess]
	s.mu.Unlock()
	if e == nil {
		if s.fresh == nil {
			return
		}
		if e = s.resolve(ctx, false, s.fresh); e == nil {
			return
		}
	}
	s.mu.Lock()
	if e.sess != sess {
		if sess.CurrentSchema != before.schema {
			e.sess.CurrentSchema = sess.CurrentSchema
		}
		for k, v := range sess.Vars {
			if old, ok := before.vars[k]; !ok || old != v {
				if e.sess.Vars == nil {
					e.sess.Vars = map[string]string{}
				}
				e.sess.Vars[k] = v
			}
		}
	}
	if s.publish == nil {
		s.mu.Unlock()
		return
	}
	u := s.updateLocked(e)
	publish := s.publish
	s.mu.Unlock()
	s.send(ctx, publish, u)
}

func (s *sessions) send(ctx context.Context, publish func(context.Context, []byte), u sessionUpdate) {
	if publish == nil {
		return
	}
	b, err := json.Marshal(u)
	if err != nil {
		return // strings and a map of strings always marshal
	}
	publish(ctx, b)
}

// apply takes a peer's update unless this node has a newer state, or the
// session belongs to another user here.
func (s *sessions) apply(body []byte) error {
	var u sessionUpdate
	if err := json.Unmarshal(body, &u); err != nil || u.ID == "" {
		return qerr.New(qerr.InvalidArgument, "malformed session update")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	return s.applyLocked(u)
}

// changedSessions lists the sessions whose state changed (a version) and that
// were used within the idle timeout: what a joining peer needs.
func (s *sessions) changedSessions() []sessionUpdate {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	now := s.now()
	var out []sessionUpdate
	for _, e := range s.byID {
		if e.ver > 0 && now.Sub(e.lastUsed) <= s.idle {
			out = append(out, sessionUpdate{ID: e.id, User: e.user, Schema: e.sess.CurrentSchema, Vars: maps.Clone(e.sess.Vars), Ver: e.ver})
		}
	}
	return out
}

// applyAll takes a peer's sessions (session-sync reply) as updates.
func (s *sessions) applyAll(body []byte) error {
	var us []sessionUpdate
	if err := json.Unmarshal(body, &us); err != nil {
		return qerr.New(qerr.InvalidArgument, "malformed session sync reply")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.init()
	for _, u := range us {
		if u.ID == "" {
			continue
		}
		if err := s.applyLocked(u); err != nil {
			return err
		}
	}
	return nil
}

func (s *sessions) applyLocked(u sessionUpdate) error {
	e := s.byID[u.ID]
	if e != nil && (e.ver >= u.Ver || (e.user != u.User && e.user != "" && u.User != "")) {
		return nil
	}
	if u.Closed {
		if e != nil {
			s.dropLocked(e)
		}
		return nil
	}
	if e == nil {
		if s.fresh == nil {
			return qerr.New(qerr.Internal, "sessions: no engine")
		}
		e = s.createLocked(u.ID, u.User, s.fresh())
	}
	if e.user == "" {
		e.user = u.User
	}
	e.sess.CurrentSchema = u.Schema
	e.sess.Vars = maps.Clone(u.Vars)
	if e.sess.Vars == nil {
		e.sess.Vars = map[string]string{}
	}
	e.ver, e.lastUsed = u.Ver, s.now()
	return nil
}

// sessionEngine publishes the session changes statements make (USE, SET,
// DROP DATABASE of the current schema) wherever they run.
type sessionEngine struct {
	Engine
	ss *sessions
}

func (e sessionEngine) Execute(ctx context.Context, sess *engine.Session, sql string, params []scalar.Scalar) (*engine.Result, error) {
	before := e.ss.snapshot(sess)
	res, err := e.Engine.Execute(ctx, sess, sql, params)
	e.ss.changed(ctx, sess, before)
	return res, err
}

// InsertBatch passes through to the engine (see batchInserter); an INSERT
// changes no session state.
func (e sessionEngine) InsertBatch(ctx context.Context, sess *engine.Session, sql string, params []arrow.RecordBatch) (int64, bool, error) {
	bi, ok := e.Engine.(batchInserter)
	if !ok {
		return 0, false, nil
	}
	return bi.InsertBatch(ctx, sess, sql, params)
}

// PrepareBound passes through to the engine (see prepareBound).
func (e sessionEngine) PrepareBound(ctx context.Context, sess *engine.Session, sql string, params []scalar.Scalar) (*engine.Prepared, error) {
	bp, ok := e.Engine.(boundPreparer)
	if !ok {
		return nil, nil
	}
	return bp.PrepareBound(ctx, sess, sql, params)
}

// SetSessionPeers makes the server push every session change to the other
// nodes of its cluster: publish gets the update (what ApplySessionUpdate
// takes) and returns when the peers have it. Call it before serving.
func (s *Server) SetSessionPeers(publish func(ctx context.Context, update []byte)) {
	s.sessions.mu.Lock()
	s.sessions.publish = publish
	s.sessions.mu.Unlock()
}

// ApplySessionUpdate applies a session change a peer pushed (the internal
// action cluster.ActionSessionUpdate).
func (s *Server) ApplySessionUpdate(_ context.Context, update []byte) ([]byte, error) {
	if err := s.sessions.apply(update); err != nil {
		return nil, s.toStatus(err)
	}
	return nil, nil
}

// SessionSnapshot answers a peer's cluster.ActionSessionSync: the sessions
// this node knows changed within the idle timeout.
func (s *Server) SessionSnapshot(_ context.Context, _ []byte) ([]byte, error) {
	b, err := json.Marshal(s.sessions.changedSessions())
	if err != nil {
		return nil, s.toStatus(qerr.Wrap(qerr.Internal, err, "session snapshot"))
	}
	return b, nil
}

// ApplySessionSync takes the sessions a peer reported (SessionSnapshot),
// each unless this node has a newer state of it.
func (s *Server) ApplySessionSync(reply []byte) error {
	return s.sessions.applyAll(reply)
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
			before := s.sessions.snapshot(e.sess)
			s.sessions.mu.Lock()
			e.sess.CurrentSchema = strings.ToLower(str.StringValue)
			s.sessions.mu.Unlock()
			s.sessions.changed(ctx, e.sess, before)
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
	if e := s.sessions.resolve(ctx, false, nil); e != nil {
		s.cancelSessionResults(e.sess) // its unread partitioned results
	}
	s.sessions.close(ctx)
	return &flight.CloseSessionResult{Status: flight.CloseSessionResultClosed}, nil
}
