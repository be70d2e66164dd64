package server

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
)

func sessionOpts(t *testing.T, ctx context.Context, cl flight.Client) map[string]string {
	t.Helper()
	res, err := cl.GetSessionOptions(ctx, &flight.GetSessionOptionsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for k, v := range res.GetSessionOptions() {
		out[k] = v.GetStringValue()
	}
	return out
}

func setSchema(ctx context.Context, cl flight.Client, opts map[string]any) (*flight.SetSessionOptionsResult, error) {
	vals, err := flight.NewSessionOptionValues(opts)
	if err != nil {
		return nil, err
	}
	return cl.SetSessionOptions(ctx, &flight.SetSessionOptionsRequest{SessionOptions: vals})
}

// TestSessionCookie: a client with arrow-go's cookie middleware (as JDBC
// keeps cookies) keeps its schema across calls; CloseSession ends it.
func TestSessionCookie(t *testing.T) {
	ts := startWith(t, Config{})
	cl := dial(t, ts.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithChainUnaryInterceptor(flight.NewClientCookieMiddleware().Unary),
		grpc.WithChainStreamInterceptor(flight.NewClientCookieMiddleware().Stream))
	bg := context.Background()
	if got := sessionOpts(t, bg, cl.Client)["schema"]; got != "tpch" {
		t.Fatalf("default schema %q", got)
	}
	res, err := setSchema(bg, cl.Client, map[string]any{"schema": "TEST", "catalog": "def"})
	if err != nil || len(res.GetErrors()) != 0 {
		t.Fatalf("set schema: %v %v", res, err)
	}
	opts := sessionOpts(t, bg, cl.Client)
	if opts["schema"] != "test" || opts["catalog"] != "def" {
		t.Fatalf("after SetSessionOptions: %v", opts)
	}
	res, err = setSchema(bg, cl.Client, map[string]any{"schema": "nope", "catalog": "other", "colour": "red"})
	if err != nil {
		t.Fatal(err)
	}
	errs := res.GetErrors()
	if errs["schema"].GetValue() != flight.SetSessionOptionsResultErrorInvalidValue ||
		errs["catalog"].GetValue() != flight.SetSessionOptionsResultErrorInvalidValue ||
		errs["colour"].GetValue() != flight.SetSessionOptionsResultErrorInvalidName {
		t.Fatalf("bad options: %v", errs)
	}
	if got := sessionOpts(t, bg, cl.Client)["schema"]; got != "test" {
		t.Fatalf("a rejected option changed the schema to %q", got)
	}
	if _, err := cl.Client.CloseSession(bg, &flight.CloseSessionRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := sessionOpts(t, bg, cl.Client)["schema"]; got != "tpch" {
		t.Fatalf("after CloseSession schema %q, want a fresh session", got)
	}
}

// TestSessionPerToken: with auth, each login (JDBC/ADBC connection) has its
// own session, kept by the bearer token without cookies.
func TestSessionPerToken(t *testing.T) {
	_, users := writeUsers(t)
	ts := startWith(t, Config{Users: users})
	cl := dial(t, ts.addr)
	c1, err := cl.Client.AuthenticateBasicToken(context.Background(), "alice", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	c2, _ := cl.Client.AuthenticateBasicToken(context.Background(), "alice", "s3cret")
	if _, err := setSchema(c1, cl.Client, map[string]any{"schema": "test"}); err != nil {
		t.Fatal(err)
	}
	if s1, s2 := sessionOpts(t, c1, cl.Client)["schema"], sessionOpts(t, c2, cl.Client)["schema"]; s1 != "test" || s2 != "tpch" {
		t.Fatalf("token sessions: %q %q", s1, s2)
	}
	// Another user naming the same header session does not reach it.
	b, _ := cl.Client.AuthenticateBasicToken(metadataCtx(SessionHeader, "shared"), "bob", "hunter2")
	a := metadataCtx(SessionHeader, "shared")
	a, _ = cl.Client.AuthenticateBasicToken(a, "alice", "s3cret")
	if _, err := setSchema(a, cl.Client, map[string]any{"schema": "test"}); err != nil {
		t.Fatal(err)
	}
	if got := sessionOpts(t, b, cl.Client)["schema"]; got != "tpch" {
		t.Fatalf("bob sees alice's header session: %q", got)
	}
}

func TestSessionExpiry(t *testing.T) {
	var ss sessions
	now := time.Now()
	ss.idle, ss.now = time.Minute, func() time.Time { return now }
	ctx := metadataIncoming(SessionHeader, "x")
	e1 := ss.resolve(ctx, true, (&fakeEngine{}).NewSession)
	e1.sess.CurrentSchema = "test"
	if e := ss.resolve(ctx, true, (&fakeEngine{}).NewSession); e != e1 {
		t.Fatal("same header, different session")
	}
	now = now.Add(2 * time.Minute)
	if e := ss.resolve(ctx, true, (&fakeEngine{}).NewSession); e == e1 || e.sess.CurrentSchema != "tpch" {
		t.Fatal("idle session not expired")
	}
	ss.max = 3
	for i := range 10 {
		ss.resolve(metadataIncoming(SessionHeader, string(rune('a'+i))), true, (&fakeEngine{}).NewSession)
	}
	if n := ss.count(); n > 3 {
		t.Fatalf("%d sessions kept, max 3", n)
	}
}

// TestSessionsAcrossNodes: two servers sharing the cluster secret and
// pushing session changes to each other (as serve wires them over the
// internal service): a token, a header session and a cookie session made
// on one node are the same session on the other; CloseSession ends it on
// both; another user's header session stays apart.
func TestSessionsAcrossNodes(t *testing.T) {
	_, users := writeUsers(t)
	key := []byte("shared cluster secret")
	a, b := pairServers(t, Config{Users: users, HandleKey: key})
	ca, cb := dial(t, a.addr), dial(t, b.addr)
	bg := context.Background()
	actx, err := ca.Client.AuthenticateBasicToken(bg, "alice", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	if got := sessionOpts(t, actx, cb.Client)["schema"]; got != "tpch" {
		t.Fatalf("token of node a on node b: schema %q", got)
	}
	if _, err := setSchema(actx, ca.Client, map[string]any{"schema": "test"}); err != nil {
		t.Fatal(err)
	}
	if got := sessionOpts(t, actx, cb.Client)["schema"]; got != "test" {
		t.Fatalf("token session on b after SetSessionOptions on a: %q", got)
	}
	if _, err := cb.Client.CloseSession(actx, &flight.CloseSessionRequest{}); err != nil {
		t.Fatal(err)
	}
	if got := sessionOpts(t, actx, ca.Client)["schema"]; got != "tpch" {
		t.Fatalf("session on a after CloseSession on b: %q", got)
	}

	// Header sessions: alice's "s" on a is hers on b; bob's "s" is his.
	ah := metadata.AppendToOutgoingContext(actx, SessionHeader, "s")
	bh, err := cb.Client.AuthenticateBasicToken(metadataCtx(SessionHeader, "s"), "bob", "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := setSchema(ah, cb.Client, map[string]any{"schema": "test"}); err != nil {
		t.Fatal(err)
	}
	if got := sessionOpts(t, ah, ca.Client)["schema"]; got != "test" {
		t.Fatalf("alice's header session on a: %q", got)
	}
	for _, cl := range []*flightsql.Client{ca, cb} {
		if got := sessionOpts(t, bh, cl.Client)["schema"]; got != "tpch" {
			t.Fatalf("bob reached alice's header session: %q", got)
		}
	}

}

// pairServers starts two servers that push session changes to each other
// (as serve wires them over the internal service).
func pairServers(t *testing.T, cfg Config) (a, b *testServer) {
	t.Helper()
	a, b = startWith(t, cfg), startWith(t, cfg)
	for _, pair := range [][2]*testServer{{a, b}, {b, a}} {
		peer := pair[1]
		pair[0].SetSessionPeers(func(ctx context.Context, u []byte) {
			if _, err := peer.ApplySessionUpdate(ctx, u); err != nil {
				t.Errorf("apply: %v", err)
			}
		})
	}
	return a, b
}

// TestCookieSessionAcrossNodes: without auth, the session cookie one node
// set names the same session on the other (a client behind a balancer
// sends the cookie to every node).
func TestCookieSessionAcrossNodes(t *testing.T) {
	a, b := pairServers(t, Config{HandleKey: []byte("k")})
	jar := flight.NewCookieMiddleware()
	withJar := func(addr string) *flightsql.Client {
		mw := flight.CreateClientMiddleware(jar)
		return dial(t, addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithChainUnaryInterceptor(mw.Unary), grpc.WithChainStreamInterceptor(mw.Stream))
	}
	ca, cb := withJar(a.addr), withJar(b.addr)
	bg := context.Background()
	if _, err := setSchema(bg, ca.Client, map[string]any{"schema": "test"}); err != nil {
		t.Fatal(err)
	}
	if got := sessionOpts(t, bg, cb.Client)["schema"]; got != "test" {
		t.Fatalf("cookie session on b: %q", got)
	}
	if _, err := setSchema(bg, cb.Client, map[string]any{"schema": "tpch"}); err != nil {
		t.Fatal(err)
	}
	if got := sessionOpts(t, bg, ca.Client)["schema"]; got != "tpch" {
		t.Fatalf("cookie session on a after a change on b: %q", got)
	}
	// A client without the cookie has its own session.
	if got := sessionOpts(t, bg, dial(t, b.addr).Client)["schema"]; got != "tpch" {
		t.Fatalf("fresh client: %q", got)
	}
}

// TestSessionUpdateOrder: a peer's update older than what a node has, or
// naming another user's session, changes nothing; a malformed one is an
// error.
func TestSessionUpdateOrder(t *testing.T) {
	ss := sessions{fresh: (&fakeEngine{}).NewSession}
	put := func(u string) error { return ss.apply([]byte(u)) }
	if err := put(`{"id":"t1","user":"alice","schema":"test","vars":{"x":"1"},"ver":10}`); err != nil {
		t.Fatal(err)
	}
	e := ss.byID["t1"]
	if e == nil || e.sess.CurrentSchema != "test" || e.sess.Vars["x"] != "1" || e.user != "alice" {
		t.Fatalf("applied: %+v", e)
	}
	put(`{"id":"t1","user":"alice","schema":"old","ver":9}`)
	put(`{"id":"t1","user":"bob","schema":"bobs","ver":11}`)
	if e.sess.CurrentSchema != "test" {
		t.Fatalf("stale or foreign update applied: %q", e.sess.CurrentSchema)
	}
	put(`{"id":"t1","user":"alice","closed":true,"ver":12}`)
	if ss.count() != 0 {
		t.Fatal("closed session kept")
	}
	if err := put(`{"schema":"x"}`); err == nil {
		t.Fatal("update without id accepted")
	}
	if err := put(`not json`); err == nil {
		t.Fatal("malformed update accepted")
	}
}

// TestCloseUnknownSession: CloseSession naming a session this node never
// saw (a token or header from a peer) succeeds and creates nothing.
func TestCloseUnknownSession(t *testing.T) {
	var ss sessions
	for _, ctx := range []context.Context{
		metadataIncoming(SessionHeader, "x"),
		context.WithValue(context.Background(), identityKey{}, &Identity{User: "alice", Token: "tok"}),
		metadataIncoming("cookie", SessionCookie+"=abc"),
	} {
		if ss.close(ctx) {
			t.Fatal("closed a session that did not exist")
		}
	}
	if n := ss.count(); n != 0 {
		t.Fatalf("%d sessions made by CloseSession", n)
	}
}

// TestTicketSessionFromAnotherNode: a statement ticket naming a session
// this node does not know runs at the schema the ticket was issued at.
func TestTicketSessionFromAnotherNode(t *testing.T) {
	s, err := New(Config{Engine: &fakeEngine{}})
	if err != nil {
		t.Fatal(err)
	}
	sess := s.ticketSession(statementTicket{SQL: "SELECT 1", Session: "from-peer", Schema: "sales"})
	if sess.CurrentSchema != "sales" {
		t.Fatalf("unknown session recreated at schema %q, want sales", sess.CurrentSchema)
	}
	if again := s.ticketSession(statementTicket{SQL: "SELECT 1", Session: "from-peer"}); again != sess {
		t.Fatal("the recreated session was not kept")
	}
}

// TestSessionSync: a node's snapshot (session-sync) lists the sessions
// whose state changed and that are not idle; applying it on another node
// takes each unless that node holds a newer version.
func TestSessionSync(t *testing.T) {
	now := time.Unix(1_000_000, 0)
	src := sessions{fresh: (&fakeEngine{}).NewSession, idle: time.Hour, now: func() time.Time { return now }}
	for _, u := range []string{
		`{"id":"changed","user":"alice","schema":"test","vars":{"x":"1"},"ver":10}`,
		`{"id":"newer-there","user":"alice","schema":"old","ver":5}`,
	} {
		if err := src.apply([]byte(u)); err != nil {
			t.Fatal(err)
		}
	}
	src.mu.Lock()
	src.createLocked("default", "alice", src.fresh()) // never changed: nothing to send
	src.mu.Unlock()
	now = now.Add(30 * time.Minute)
	src.apply([]byte(`{"id":"idle","user":"alice","schema":"test","ver":3}`))
	src.byID["idle"].lastUsed = now.Add(-2 * time.Hour)
	snap, err := json.Marshal(src.changedSessions())
	if err != nil {
		t.Fatal(err)
	}
	dst := sessions{fresh: (&fakeEngine{}).NewSession}
	if err := dst.apply([]byte(`{"id":"newer-there","user":"alice","schema":"new","ver":6}`)); err != nil {
		t.Fatal(err)
	}
	if err := dst.applyAll(snap); err != nil {
		t.Fatal(err)
	}
	if e := dst.byID["changed"]; e == nil || e.sess.CurrentSchema != "test" || e.sess.Vars["x"] != "1" || e.user != "alice" || e.ver != 10 {
		t.Errorf("synced session: %+v", e)
	}
	if e := dst.byID["newer-there"]; e.sess.CurrentSchema != "new" {
		t.Errorf("sync overwrote a newer state: %q", e.sess.CurrentSchema)
	}
	if dst.byID["default"] != nil || dst.byID["idle"] != nil {
		t.Errorf("sync sent an unchanged or idle session: %v", dst.byID)
	}
	if err := dst.applyAll([]byte("not json")); err == nil {
		t.Error("malformed sync reply accepted")
	}
}
