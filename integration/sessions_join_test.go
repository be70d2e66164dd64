package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/quiverdb/quiver/server"
	"google.golang.org/grpc/metadata"
)

// TestSessionsOnJoiningNode: a session changed on n1 (USE) before n3
// joined the cluster is in that state on n3: n3 pulled the sessions from
// its peers when it joined (session-sync). Without the pull n3 would
// serve the session in the default state (schema tpch), where the table
// made in the session's schema does not resolve.
func TestSessionsOnJoiningNode(t *testing.T) {
	bin := buildQuiver(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	copyTree(t, "../testdata/tpch-sf0.01", data)
	if err := os.MkdirAll(filepath.Join(data, "joinsess"), 0o755); err != nil {
		t.Fatal(err)
	}
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("sessions-join-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := func(name string, extra ...string) []string {
		return append([]string{"--data", data, "--default-schema", "tpch", "--cluster-secret-file", secret,
			"--parallelism", "2", "--work-dir", filepath.Join(dir, "work-"+name)}, extra...)
	}
	n1 := startClusterNode(t, bin, "n1", common("n1")...)
	n2 := startClusterNode(t, bin, "n2", common("n2", "--join", n1.gossip)...)
	var n3 *clusterProc
	defer func() {
		if t.Failed() {
			for _, n := range []*clusterProc{n1, n2, n3} {
				if n != nil {
					t.Logf("%s output:\n%s", n.name, n.stderr.String())
				}
			}
		}
	}()
	live := func(addr string, n int) func() bool {
		cl := dial(t, addr)
		return func() bool {
			got, err := queryCtx(context.Background(), cl, "SELECT COUNT(*) FROM system.nodes WHERE state = 'alive'")
			return err == nil && got == string(rune('0'+n))
		}
	}
	waitUntil(t, "n1 and n2 to form a cluster", 30*time.Second, live(n1.addr, 2))

	sess := metadata.AppendToOutgoingContext(context.Background(), server.SessionHeader, "join-test")
	c1 := dial(t, n1.addr)
	for _, sql := range []string{"USE joinsess", "CREATE TABLE marker AS SELECT 42 AS x"} {
		if _, err := queryCtx(sess, c1, sql); err != nil {
			t.Fatalf("%s on n1: %v", sql, err)
		}
	}
	if got, err := queryCtx(sess, dial(t, n2.addr), "SELECT x FROM marker"); err != nil || got != "42" {
		t.Fatalf("the session on n2 (pushed): %q %v", got, err)
	}

	n3 = startClusterNode(t, bin, "n3", common("n3", "--join", n1.gossip)...)
	waitUntil(t, "n3 to join", 30*time.Second, live(n3.addr, 3))
	got, err := queryCtx(sess, dial(t, n3.addr), "SELECT x FROM marker")
	if err != nil || got != "42" {
		t.Fatalf("the session on n3, which joined after its USE: %q %v, want 42 (table of schema joinsess)", got, err)
	}
	// A session nobody changed is in the default state on n3 too.
	other := metadata.AppendToOutgoingContext(context.Background(), server.SessionHeader, "untouched")
	if got, err := queryCtx(other, dial(t, n3.addr), "SELECT COUNT(*) FROM nation"); err != nil || got != "25" {
		t.Errorf("an unchanged session on n3: %q %v, want the default schema's nation", got, err)
	}
}
