package integration

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	_ "github.com/apache/arrow-go/v18/arrow/flight/flightsql/driver"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/integration/lbproxy"
	"github.com/quiverdb/quiver/server"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// anyNodeCluster is three `quiver serve` processes (users file, cluster
// secret, one shared data directory) behind the per-call round-robin
// proxy.
type anyNodeCluster struct {
	bin, dir, users string
	nodes           []*clusterProc
	proxy           *lbproxy.Proxy
}

func startAnyNodeCluster(t *testing.T) *anyNodeCluster {
	t.Helper()
	c := &anyNodeCluster{bin: buildQuiver(t), dir: t.TempDir()}
	c.users = filepath.Join(c.dir, "users")
	for _, u := range []string{"alice", "bob"} {
		c.addUser(t, u, "pw-"+u)
	}
	secret := filepath.Join(c.dir, "secret")
	if err := os.WriteFile(secret, []byte("anynode-cluster-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(c.dir, "data")
	copyTree(t, "../testdata/tpch-sf0.01", data)
	if err := os.MkdirAll(filepath.Join(data, "test"), 0o755); err != nil {
		t.Fatal(err)
	}
	common := func(name string) []string {
		return []string{"--data", data, "--default-schema", "tpch", "--users", c.users,
			"--cluster-secret-file", secret, "--parallelism", "2", "--log-level", "warn",
			"--work-dir", filepath.Join(c.dir, "work-"+name)}
	}
	n1 := startClusterNode(t, c.bin, "n1", common("n1")...)
	n2 := startClusterNode(t, c.bin, "n2", append(common("n2"), "--join", n1.gossip)...)
	n3 := startClusterNode(t, c.bin, "n3", append(common("n3"), "--join", n1.gossip)...)
	c.nodes = []*clusterProc{n1, n2, n3}
	// Session changes go to the members a node knows: wait until each
	// knows all three.
	deadline := time.Now().Add(40 * time.Second)
	for _, n := range c.nodes {
		for {
			rows, _, err := authQuery(n.addr, "alice", "pw-alice", "SELECT node_name FROM system.nodes WHERE state = 'alive' ORDER BY node_name")
			if err == nil && joinRows(rows) == "n1\nn2\nn3" {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("cluster did not form on %s: %v %v\n%s", n.name, rows, err, n.stderr.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	var addrs []string
	for _, n := range c.nodes {
		addrs = append(addrs, n.addr)
	}
	p, err := lbproxy.New("127.0.0.1:0", addrs, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	c.proxy = p
	return c
}

func (c *anyNodeCluster) addUser(t *testing.T, name, pw string) {
	t.Helper()
	cmd := exec.Command(c.bin, "user", "add", "--users", c.users, name)
	cmd.Stdin = strings.NewReader(pw + "\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
}

func queryCtx(ctx context.Context, cl *flightsql.Client, sql string) (string, error) {
	info, err := cl.Execute(ctx, sql)
	if err != nil {
		return "", err
	}
	rows, err := fetchInfo(ctx, cl, info)
	return joinRows(rows), err
}

// backendsOf returns the backends of the calls made since call index from.
func backendsOf(calls []lbproxy.Call) []int {
	var out []int
	for _, c := range calls {
		if !slices.Contains(out, c.Backend) {
			out = append(out, c.Backend)
		}
	}
	slices.Sort(out)
	return out
}

// TestAnyNodeBehindLoadBalancer: a Go Flight SQL client and database/sql
// reach a three-node cluster through a proxy that sends each RPC to the
// next node. Log in on one node, the token works on the others; a
// prepared statement made on one node is bound (DoPut), described
// (GetFlightInfo) and read (DoGet) on the others; SetSessionOptions and
// USE hold on every node; ingest and a prepared update with parameters
// land; another user cannot reach alice's session; a password change
// revokes the token on every node.
func TestAnyNodeBehindLoadBalancer(t *testing.T) {
	c := startAnyNodeCluster(t)
	direct := dial(t, c.nodes[0].addr)
	defer direct.Close()
	bg := context.Background()
	dctx, err := direct.Client.AuthenticateBasicToken(bg, "alice", "pw-alice")
	if err != nil {
		t.Fatal(err)
	}
	want := func(sql string) string {
		t.Helper()
		got, err := queryCtx(dctx, direct, sql)
		if err != nil {
			t.Fatalf("%s on n1: %v", sql, err)
		}
		return got
	}

	cl := dial(t, c.proxy.Addr())
	defer cl.Close()
	actx, err := cl.Client.AuthenticateBasicToken(bg, "alice", "pw-alice")
	if err != nil {
		t.Fatal(err)
	}
	// The token one node issued is good on all three.
	start := len(c.proxy.Calls())
	for i := range 3 {
		got, err := queryCtx(actx, cl, fmt.Sprintf("SELECT %d + 1 AS x", i))
		if err != nil || got != fmt.Sprint(i+1) {
			t.Fatalf("query %d with the token through the proxy: %q %v", i, got, err)
		}
	}
	if b := backendsOf(c.proxy.Calls()[start:]); len(b) != 3 {
		t.Fatalf("6 calls reached backends %v, want all three", b)
	}

	t.Run("prepared", func(t *testing.T) {
		stmt, err := cl.Prepare(actx, "SELECT n_name, n_regionkey FROM nation WHERE n_nationkey = ?")
		if err != nil {
			t.Fatal(err)
		}
		defer stmt.Close(actx)
		schema := arrow.NewSchema([]arrow.Field{{Name: "p", Type: arrow.PrimitiveTypes.Int64}}, nil)
		for key := int64(0); key < 6; key++ {
			b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
			b.Field(0).(*array.Int64Builder).Append(key)
			rec := b.NewRecordBatch()
			b.Release()
			stmt.SetParameters(rec)
			rec.Release()
			from := len(c.proxy.Calls())
			info, err := stmt.Execute(actx)
			if err != nil {
				t.Fatalf("key %d: execute: %v", key, err)
			}
			rows, err := fetchInfo(actx, cl, info)
			if err != nil {
				t.Fatalf("key %d: fetch: %v", key, err)
			}
			exp := want(fmt.Sprintf("SELECT n_name, n_regionkey FROM nation WHERE n_nationkey = %d", key))
			if got := joinRows(rows); got != exp || exp == "" {
				t.Fatalf("key %d: got %q, want %q", key, got, exp)
			}
			// DoPut (bind), GetFlightInfo, DoGet: each on another node.
			calls := c.proxy.Calls()[from:]
			var methods []string
			for _, call := range calls {
				methods = append(methods, call.Method[strings.LastIndex(call.Method, "/")+1:])
			}
			if len(calls) != 3 || len(backendsOf(calls)) != 3 {
				t.Fatalf("key %d: calls %v on backends %v, want DoPut, GetFlightInfo, DoGet on three nodes", key, methods, backendsOf(calls))
			}
		}
	})

	t.Run("session", func(t *testing.T) {
		if _, err := cl.ExecuteUpdate(actx, "CREATE TABLE test.anynode (a BIGINT)"); err != nil {
			t.Fatal(err)
		}
		if _, err := cl.ExecuteUpdate(actx, "INSERT INTO test.anynode VALUES (1), (2), (3)"); err != nil {
			t.Fatal(err)
		}
		vals, err := flight.NewSessionOptionValues(map[string]any{"schema": "test"})
		if err != nil {
			t.Fatal(err)
		}
		res, err := cl.SetSessionOptions(actx, &flight.SetSessionOptionsRequest{SessionOptions: vals})
		if err != nil || len(res.GetErrors()) > 0 {
			t.Fatalf("SetSessionOptions: %v %v", res, err)
		}
		// Unqualified names resolve in test on every node.
		from := len(c.proxy.Calls())
		for range 3 {
			got, err := queryCtx(actx, cl, "SELECT count(*), sum(a) FROM anynode")
			if err != nil || got != "3|6" {
				t.Fatalf("unqualified query after SetSessionOptions: %q %v", got, err)
			}
			opts, err := cl.GetSessionOptions(actx, &flight.GetSessionOptionsRequest{})
			if err != nil || opts.GetSessionOptions()["schema"].GetStringValue() != "test" {
				t.Fatalf("GetSessionOptions: %v %v", opts, err)
			}
		}
		if b := backendsOf(c.proxy.Calls()[from:]); len(b) != 3 {
			t.Fatalf("session checks reached backends %v", b)
		}
		// USE (run by DoGet wherever it lands) moves the session back.
		if _, err := queryCtx(actx, cl, "USE tpch"); err != nil {
			t.Fatal(err)
		}
		n := want("SELECT count(*) FROM tpch.nation")
		for range 3 {
			got, err := queryCtx(actx, cl, "SELECT count(*) FROM nation")
			if err != nil || got != n {
				t.Fatalf("unqualified query after USE: %q %v, want %q", got, err, n)
			}
		}
		// USE as a prepared statement (what JDBC and ADBC send) made on
		// one node and run (DoPut) on another changes the caller's session.
		use, err := cl.Prepare(actx, "USE test")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := use.ExecuteUpdate(actx); err != nil {
			t.Fatal(err)
		}
		use.Close(actx)
		for range 3 {
			got, err := queryCtx(actx, cl, "SELECT count(*) FROM anynode")
			if err != nil || got != "3" {
				t.Fatalf("unqualified query after a prepared USE: %q %v", got, err)
			}
		}

		// Bob naming the same header session as alice gets his own.
		hdr := metadata.AppendToOutgoingContext(actx, server.SessionHeader, "shared")
		if _, err := cl.SetSessionOptions(hdr, &flight.SetSessionOptionsRequest{SessionOptions: vals}); err != nil {
			t.Fatal(err)
		}
		bctx, err := cl.Client.AuthenticateBasicToken(metadata.AppendToOutgoingContext(bg, server.SessionHeader, "shared"), "bob", "pw-bob")
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			opts, err := cl.GetSessionOptions(bctx, &flight.GetSessionOptionsRequest{})
			if err != nil || opts.GetSessionOptions()["schema"].GetStringValue() != "tpch" {
				t.Fatalf("bob's header session: %v %v", opts, err)
			}
			opts, err = cl.GetSessionOptions(hdr, &flight.GetSessionOptionsRequest{})
			if err != nil || opts.GetSessionOptions()["schema"].GetStringValue() != "test" {
				t.Fatalf("alice's header session: %v %v", opts, err)
			}
		}
		// CloseSession ends it on every node.
		if _, err := cl.CloseSession(hdr, &flight.CloseSessionRequest{}); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			opts, err := cl.GetSessionOptions(hdr, &flight.GetSessionOptionsRequest{})
			if err != nil || opts.GetSessionOptions()["schema"].GetStringValue() != "tpch" {
				t.Fatalf("closed header session: %v %v", opts, err)
			}
		}
	})

	t.Run("ingest and prepared update", func(t *testing.T) {
		schema := arrow.NewSchema([]arrow.Field{{Name: "k", Type: arrow.PrimitiveTypes.Int64, Nullable: true}}, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		b.Field(0).(*array.Int64Builder).AppendValues([]int64{10, 20, 30, 40}, nil)
		rec := b.NewRecordBatch()
		b.Release()
		rdr, _ := array.NewRecordReader(schema, []arrow.RecordBatch{rec})
		rec.Release()
		n, err := cl.ExecuteIngest(actx, rdr, &flightsql.ExecuteIngestOpts{
			Table: "ingested", Schema: ptr("test"),
			TableDefinitionOptions: &flightsql.TableDefinitionOptions{
				IfNotExist: flightsql.TableDefinitionOptionsTableNotExistOptionCreate,
				IfExists:   flightsql.TableDefinitionOptionsTableExistsOptionFail,
			}})
		rdr.Release()
		if err != nil || n != 4 {
			t.Fatalf("ingest: %d %v", n, err)
		}
		stmt, err := cl.Prepare(actx, "INSERT INTO test.ingested VALUES (?)")
		if err != nil {
			t.Fatal(err)
		}
		defer stmt.Close(actx)
		for _, v := range []int64{1, 2} {
			pb := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{{Name: "p", Type: arrow.PrimitiveTypes.Int64}}, nil))
			pb.Field(0).(*array.Int64Builder).Append(v)
			prec := pb.NewRecordBatch()
			pb.Release()
			stmt.SetParameters(prec)
			prec.Release()
			if n, err := stmt.ExecuteUpdate(actx); err != nil || n != 1 {
				t.Fatalf("prepared insert %d: %d %v", v, n, err)
			}
		}
		for range 3 {
			got, err := queryCtx(actx, cl, "SELECT count(*), sum(k) FROM test.ingested")
			if err != nil || got != "6|103" {
				t.Fatalf("after ingest and prepared inserts: %q %v", got, err)
			}
		}
	})

	t.Run("database/sql", func(t *testing.T) {
		db, err := sql.Open("flightsql", fmt.Sprintf("flightsql://alice:pw-alice@%s?timeout=20s", c.proxy.Addr()))
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		from := len(c.proxy.Calls())
		for key := 0; key < 4; key++ {
			var name string
			if err := db.QueryRow("SELECT n_name FROM nation WHERE n_nationkey = ?", key).Scan(&name); err != nil {
				t.Fatalf("database/sql key %d: %v", key, err)
			}
			if exp := want(fmt.Sprintf("SELECT n_name FROM nation WHERE n_nationkey = %d", key)); name != exp {
				t.Fatalf("database/sql key %d: %q, want %q", key, name, exp)
			}
		}
		if _, err := db.Exec("INSERT INTO test.ingested VALUES (?)", 1000); err != nil {
			t.Fatal(err)
		}
		var sum int64
		if err := db.QueryRow("SELECT sum(k) FROM test.ingested").Scan(&sum); err != nil || sum != 1103 {
			t.Fatalf("sum after database/sql insert: %d %v", sum, err)
		}
		if b := backendsOf(c.proxy.Calls()[from:]); len(b) != 3 {
			t.Fatalf("database/sql calls reached backends %v", b)
		}
	})

	t.Run("revocation", func(t *testing.T) {
		// A token signed by another cluster's key is refused.
		other := startClusterNode(t, c.bin, "other", "--data", filepath.Join(c.dir, "data"), "--users", c.users,
			"--cluster-secret", "another-secret", "--cluster-name", "other", "--work-dir", filepath.Join(c.dir, "work-other"))
		ocl := dial(t, other.addr)
		defer ocl.Close()
		octx, err := ocl.Client.AuthenticateBasicToken(bg, "alice", "pw-alice")
		if err != nil {
			t.Fatal(err)
		}
		_, err = queryCtx(octx, cl, "SELECT 1")
		if status.Code(err) != codes.Unauthenticated || !strings.Contains(err.Error(), "invalid or revoked bearer token") {
			t.Fatalf("foreign token: %v", err)
		}
		// A password change revokes alice's token on every node (each
		// reloads the shared users file within a second or so).
		c.addUser(t, "alice", "new-pw")
		deadline := time.Now().Add(20 * time.Second)
		for refused := 0; refused < 3; {
			_, err := queryCtx(actx, cl, "SELECT 1")
			switch {
			case status.Code(err) == codes.Unauthenticated && strings.Contains(err.Error(), "password changed"):
				refused++
			case time.Now().After(deadline):
				t.Fatalf("old token after a password change: %v", err)
			default:
				refused = 0
				time.Sleep(200 * time.Millisecond)
			}
		}
		// The new password works on every node once each has reloaded
		// (a refusal above may have come from a DoGet on a node that had
		// reloaded while the GetFlightInfo node had not yet).
		for ok := 0; ok < 3; {
			_, err := cl.Client.AuthenticateBasicToken(bg, "alice", "new-pw")
			switch {
			case err == nil:
				ok++
			case time.Now().After(deadline):
				t.Fatalf("new password: %v", err)
			default:
				ok = 0
				time.Sleep(200 * time.Millisecond)
			}
		}
	})

	counts := c.proxy.Counts()
	t.Logf("calls per node through the proxy: %v", counts)
	for i, n := range counts {
		if n < 10 {
			t.Errorf("node %s got %d calls of %v", c.nodes[i].name, n, counts)
		}
	}
}

func ptr[T any](v T) *T { return &v }
