package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quiverdb/quiver/integration/tpch"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// clusterProc is one `quiver serve` of a multi-process cluster.
type clusterProc struct {
	*process
	name, internal, gossip string
}

func startClusterNode(t *testing.T, bin, name string, args ...string) *clusterProc {
	t.Helper()
	n := &clusterProc{name: name, internal: freeAddr(t), gossip: freeAddr(t)}
	n.process = startQuiver(t, bin, append([]string{"--node-name", name, "--cluster-listen", n.internal,
		"--gossip-listen", n.gossip}, args...)...)
	return n
}

// authQuery logs in with basic auth and runs sql; it returns the rows and
// the authenticated context (carrying the client's bearer token).
func authQuery(addr, user, pw, sql string) ([][]string, context.Context, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cl, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		return nil, nil, err
	}
	defer cl.Close()
	actx, err := cl.Client.AuthenticateBasicToken(ctx, user, pw)
	if err != nil {
		return nil, nil, err
	}
	info, err := cl.Execute(actx, sql)
	if err != nil {
		return nil, nil, err
	}
	var rows [][]string
	for _, ep := range info.Endpoint {
		rdr, err := cl.DoGet(actx, ep.Ticket)
		if err != nil {
			return nil, nil, err
		}
		for rdr.Next() {
			rows = append(rows, tpch.Rows([]arrow.RecordBatch{rdr.RecordBatch()})...)
		}
		err = rdr.Err()
		rdr.Release()
		if err != nil {
			return nil, nil, err
		}
	}
	md, _ := metadata.FromOutgoingContext(actx)
	return rows, metadata.NewOutgoingContext(context.Background(), md), nil
}

// TestClusterMembershipProcesses: three real `quiver serve` processes on
// loopback form a cluster; system.nodes on every node lists all three
// alive with their addresses; the internal service refuses a client's
// Flight SQL token; SIGTERM makes a node leave (the others show "left");
// a node of another cluster name never joins; a clustered node without a
// cluster secret refuses to start.
func TestClusterMembershipProcesses(t *testing.T) {
	bin := buildQuiver(t)
	dir := t.TempDir()
	users := filepath.Join(dir, "users")
	cmd := exec.Command(bin, "user", "add", "--users", users, "alice")
	cmd.Stdin = strings.NewReader("pw\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("user add: %v\n%s", err, out)
	}
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("cluster-secret-for-tests\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	common := []string{"--data", data, "--users", users, "--cluster-secret-file", secret, "--log-level", "info"}

	// No secret, no --insecure: refused at startup.
	out, err := exec.Command(bin, "serve", "--listen", freeAddr(t), "--data", data, "--join", "127.0.0.1:1").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "refusing to start a cluster node") {
		t.Fatalf("clustered node without a secret: %v\n%s", err, out)
	}

	n1 := startClusterNode(t, bin, "n1", common...)
	n2 := startClusterNode(t, bin, "n2", append(common, "--join", n1.gossip)...)
	n3 := startClusterNode(t, bin, "n3", append(common, "--join", "localhost:"+strings.Split(n1.gossip, ":")[1])...)
	nodes := []*clusterProc{n1, n2, n3}

	const q = "SELECT node_name, state, flight_address, internal_address, is_local, running_tasks FROM system.nodes ORDER BY node_name"
	waitRows := func(n *clusterProc, want string) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			rows, _, err := authQuery(n.addr, "alice", "pw", q)
			got := ""
			if err == nil {
				var parts []string
				for _, r := range rows {
					parts = append(parts, r[0]+"="+r[1])
				}
				got = strings.Join(parts, ",")
				if got == want {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("system.nodes on %s: got %q (err %v), want %q\n%s", n.name, got, err, want, n.stderr.String())
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	for _, n := range nodes {
		waitRows(n, "n1=alive,n2=alive,n3=alive")
	}
	rows, clientCtx, err := authQuery(n2.addr, "alice", "pw", q)
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range rows {
		n := nodes[i]
		local := "0"
		if n == n2 {
			local = "1"
		}
		if r[2] != n.addr || r[3] != n.internal || r[4] != local {
			t.Errorf("row %v, want flight %s internal %s is_local %s", r, n.addr, n.internal, local)
		}
		// Every live node reports its load, the local one included.
		if r[5] != "0" {
			t.Errorf("row %v: running_tasks %q, want 0 on an idle cluster", r, r[5])
		}
	}

	// The internal service: a client's bearer token (valid on the Flight
	// SQL port) is refused, as is a call with nothing.
	if md, _ := metadata.FromOutgoingContext(clientCtx); len(md.Get("authorization")) == 0 {
		t.Fatal("no bearer token after login")
	}
	conn, err := grpc.NewClient(n2.internal, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ic := flight.NewFlightServiceClient(conn)
	for what, ctx := range map[string]context.Context{"bearer token": clientCtx, "no credentials": context.Background()} {
		cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		st, err := ic.DoAction(cctx, &flight.Action{Type: "ping"})
		if err == nil {
			_, err = st.Recv()
		}
		cancel()
		if status.Code(err) != codes.Unauthenticated {
			t.Errorf("internal ping with %s: want Unauthenticated, got %v", what, err)
		}
	}

	// A node of another cluster joining n1 never shows up.
	other := startClusterNode(t, bin, "x1", append(common, "--cluster-name", "other", "--join", n1.gossip)...)

	// SIGTERM: n3 leaves gracefully.
	n3.stop(t, syscall.SIGTERM)
	if !strings.Contains(n3.stderr.String(), "left the cluster") {
		t.Errorf("n3 did not log its leave:\n%s", n3.stderr.String())
	}
	waitRows(n1, "n1=alive,n2=alive,n3=left")
	waitRows(n2, "n1=alive,n2=alive,n3=left")
	waitRows(other, "x1=alive")
}
