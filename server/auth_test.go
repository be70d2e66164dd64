package server

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	_ "github.com/apache/arrow-go/v18/arrow/flight/flightsql/driver"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// testServer runs a Server over the fake engine with cfg (Engine, Catalog
// and Alloc filled in) and returns it with its address.
type testServer struct {
	*Server
	f    *fakeEngine
	addr string
}

func startWith(t *testing.T, cfg Config) *testServer {
	t.Helper()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	f := &fakeEngine{mem: mem}
	cfg.Engine, cfg.Alloc = f, mem
	if cfg.Catalog == nil {
		cfg.Catalog = fakeCatalog{}
	}
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, lis, time.Second) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		mem.AssertSize(t, 0)
	})
	return &testServer{Server: s, f: f, addr: lis.Addr().String()}
}

func dial(t *testing.T, addr string, opts ...grpc.DialOption) *flightsql.Client {
	t.Helper()
	if len(opts) == 0 {
		opts = []grpc.DialOption{grpc.WithTransportCredentials(insecure.NewCredentials())}
	}
	cl, err := flightsql.NewClient(addr, nil, nil, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

func writeUsers(t *testing.T) (string, *Users) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users")
	if err := AddUser(path, "alice", "s3cret", false); err != nil {
		t.Fatal(err)
	}
	if err := AddUser(path, "bob", "hunter2", true); err != nil {
		t.Fatal(err)
	}
	u, err := LoadUsers(path)
	if err != nil {
		t.Fatal(err)
	}
	return path, u
}

func wantCode(t *testing.T, err error, want codes.Code, msg string) {
	t.Helper()
	if status.Code(err) != want {
		t.Fatalf("%s: got %v, want %v", msg, err, want)
	}
}

func TestUsersFile(t *testing.T) {
	path, u := writeUsers(t)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("users file mode %v, %v; want 0600", fi.Mode(), err)
	}
	b, _ := os.ReadFile(path)
	if strings.Contains(string(b), "s3cret") || !strings.Contains(string(b), "bob:$2") || !strings.Contains(string(b), ":read-only") {
		t.Fatalf("users file:\n%s", b)
	}
	if usr, ok := u.lookup("bob"); !ok || !usr.ReadOnly {
		t.Fatalf("bob = %+v %v", usr, ok)
	}
	if err := RemoveUser(path, "bob"); err != nil {
		t.Fatal(err)
	}
	if err := RemoveUser(path, "nobody"); err == nil {
		t.Fatal("removing an unknown user must fail")
	}
	for _, bad := range []string{"", "a:b", " x", "#c"} {
		if err := AddUser(path, bad, "pw", false); err == nil {
			t.Errorf("user name %q accepted", bad)
		}
	}
	if err := AddUser(path, "carol", "", false); err == nil {
		t.Error("empty password accepted")
	}
	if _, err := parseUsers([]byte("x:plain\n")); err == nil {
		t.Error("non-bcrypt hash accepted")
	}
	if _, err := parseUsers([]byte("x:$2a$10$abc:admin\n")); err == nil {
		t.Error("unknown role accepted")
	}
}

func TestAuth(t *testing.T) {
	path, users := writeUsers(t)
	ts := startWith(t, Config{Users: users})
	cl := dial(t, ts.addr)
	bg := context.Background()

	_, err := cl.Execute(bg, "select 3")
	wantCode(t, err, codes.Unauthenticated, "no credentials")
	_, err = cl.Client.AuthenticateBasicToken(bg, "alice", "wrong")
	wantCode(t, err, codes.Unauthenticated, "wrong password")
	_, err = cl.Client.AuthenticateBasicToken(bg, "mallory", "s3cret")
	wantCode(t, err, codes.Unauthenticated, "unknown user")
	bad := metadataCtx("authorization", "Bearer not-a-token")
	_, err = cl.Execute(bad, "select 3")
	wantCode(t, err, codes.Unauthenticated, "made-up token")

	actx, err := cl.Client.AuthenticateBasicToken(bg, "alice", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	info, err := cl.Execute(actx, "select 3")
	if err != nil {
		t.Fatal(err)
	}
	if n, err := fetchErr(cl, info, actx); err != nil || n != 3 {
		t.Fatalf("alice select 3: %d rows, %v", n, err)
	}
	if _, err := cl.Prepare(actx, "insert into t values (?)"); err != nil {
		t.Fatalf("alice may write: %v", err)
	}

	// Read-only bob may query but not write, through any path.
	bctx, err := cl.Client.AuthenticateBasicToken(bg, "bob", "hunter2")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := cl.Execute(bctx, "select 3"); err != nil {
		t.Fatalf("bob query: %v", err)
	}
	_, err = cl.Prepare(bctx, "insert into t values (?)")
	wantCode(t, err, codes.PermissionDenied, "read-only prepare insert")
	_, err = cl.ExecuteUpdate(bctx, "insert into t values (1)")
	wantCode(t, err, codes.PermissionDenied, "read-only update")
	_, err = cl.ExecuteUpdate(bctx, "select 1 into outfile '/tmp/x'")
	wantCode(t, err, codes.PermissionDenied, "read-only INTO OUTFILE")
	info, err = cl.Execute(bctx, "create table t (a int)")
	if err == nil {
		_, err = fetchErr(cl, info, bctx)
	}
	wantCode(t, err, codes.PermissionDenied, "read-only DDL through a query")

	// Expired token.
	ts.auth.now = func() time.Time { return time.Now().Add(13 * time.Hour) }
	_, err = cl.Execute(actx, "select 3")
	wantCode(t, err, codes.Unauthenticated, "expired token")
	if !strings.Contains(status.Convert(err).Message(), "expired") {
		t.Errorf("expired token message: %v", err)
	}
	ts.auth.now = time.Now

	// Changing a password revokes the tokens issued before.
	actx, _ = cl.Client.AuthenticateBasicToken(bg, "alice", "s3cret")
	if err := AddUser(path, "alice", "new-password", false); err != nil {
		t.Fatal(err)
	}
	users.mu.Lock()
	users.checked = time.Time{}
	users.modTime = time.Time{}
	users.mu.Unlock()
	_, err = cl.Execute(actx, "select 3")
	wantCode(t, err, codes.Unauthenticated, "token after password change")
	if _, err := cl.Client.AuthenticateBasicToken(bg, "alice", "new-password"); err != nil {
		t.Fatalf("new password: %v", err)
	}
}

func TestAuthDatabaseSQL(t *testing.T) {
	_, users := writeUsers(t)
	ts := startWith(t, Config{Users: users})
	db, err := sql.Open("flightsql", fmt.Sprintf("flightsql://alice:s3cret@%s?timeout=10s", ts.addr))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	rows, err := db.Query("select 5")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		n++
	}
	rows.Close()
	if n != 5 {
		t.Fatalf("database/sql with user/password: %d rows", n)
	}
	bad, _ := sql.Open("flightsql", fmt.Sprintf("flightsql://alice:nope@%s?timeout=10s", ts.addr))
	defer bad.Close()
	if _, err := bad.Query("select 1"); err == nil || !strings.Contains(err.Error(), "Unauthenticated") {
		t.Fatalf("wrong password via database/sql: %v", err)
	}
}

func TestReadOnlyStatements(t *testing.T) {
	ro := context.WithValue(context.Background(), identityKey{}, &Identity{User: "bob", ReadOnly: true})
	for sql, ok := range map[string]bool{
		"SELECT 1":                                      true,
		"select * from a union select * from b":         true,
		"WITH x AS (SELECT 1) SELECT * FROM x":          true,
		"SHOW TABLES":                                   true,
		"DESCRIBE t":                                    true,
		"EXPLAIN SELECT 1":                              true,
		"EXPLAIN ANALYZE SELECT 1":                      true,
		"USE tpch":                                      true,
		"SET @a = 1":                                    true,
		"INSERT INTO t VALUES (1)":                      false,
		"EXPLAIN ANALYZE INSERT INTO t VALUES (1)":      false,
		"select 1 union select 2 into outfile '/tmp/x'": false,
		"CREATE TABLE t (a INT)":                        false,
		"DROP TABLE t":                                  false,
		"SELECT 1; DELETE FROM t":                       false,
		"CREATE DATABASE d":                             false,
	} {
		err := checkWrite(ro, sql)
		if (err == nil) != ok {
			t.Errorf("%s: read-only check = %v, want allowed=%v", sql, err, ok)
		}
	}
}

func metadataCtx(kv ...string) context.Context {
	return metadata.AppendToOutgoingContext(context.Background(), kv...)
}

// fetchErr reads every endpoint of info with ctx and returns the row count.
func fetchErr(cl *flightsql.Client, info *flight.FlightInfo, ctx context.Context) (int64, error) {
	var n int64
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(ctx, ep.Ticket)
		if err != nil {
			return n, err
		}
		for rdr.Next() {
			n += rdr.RecordBatch().NumRows()
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

func metadataIncoming(kv ...string) context.Context {
	return metadata.NewIncomingContext(context.Background(), metadata.Pairs(kv...))
}

// TestTokenAcrossNodes: a token one node issued is good on every node with
// the same key (cluster secret) and nowhere else; an altered token, or one
// whose user is gone, is refused.
func TestTokenAcrossNodes(t *testing.T) {
	path, users := writeUsers(t)
	a := startWith(t, Config{Users: users, HandleKey: []byte("cluster secret")})
	b := startWith(t, Config{Users: users, HandleKey: []byte("cluster secret")})
	other := startWith(t, Config{Users: users, HandleKey: []byte("another cluster")})
	bg := context.Background()
	actx, err := dial(t, a.addr).Client.AuthenticateBasicToken(bg, "alice", "s3cret")
	if err != nil {
		t.Fatal(err)
	}
	cb := dial(t, b.addr)
	info, err := cb.Execute(actx, "select 2")
	if err != nil {
		t.Fatalf("node a's token on node b: %v", err)
	}
	if n, err := fetchErr(cb, info, actx); err != nil || n != 2 {
		t.Fatalf("node a's token on node b: %d rows, %v", n, err)
	}
	_, err = dial(t, other.addr).Execute(actx, "select 2")
	wantCode(t, err, codes.Unauthenticated, "token of another cluster")
	if !strings.Contains(status.Convert(err).Message(), "invalid or revoked bearer token") {
		t.Errorf("foreign token message: %v", err)
	}

	md, _ := metadata.FromOutgoingContext(actx)
	tok := strings.TrimPrefix(md.Get("authorization")[0], "Bearer ")
	for _, bad := range []string{tok[:len(tok)-2] + "AA", tok[:20], "Zm9v", tok + tok} {
		if bad == tok {
			continue
		}
		_, err = cb.Execute(metadataCtx("authorization", "Bearer "+bad), "select 2")
		wantCode(t, err, codes.Unauthenticated, "altered token")
	}

	// Removing the user revokes the token on every node.
	if err := RemoveUser(path, "alice"); err != nil {
		t.Fatal(err)
	}
	users.mu.Lock()
	users.checked, users.modTime = time.Time{}, time.Time{}
	users.mu.Unlock()
	_, err = cb.Execute(actx, "select 2")
	wantCode(t, err, codes.Unauthenticated, "token of a removed user")
	if !strings.Contains(status.Convert(err).Message(), "user removed or password changed") {
		t.Errorf("removed user message: %v", err)
	}
}
