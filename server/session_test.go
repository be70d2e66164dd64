package server

import (
	"context"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
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
