package integration

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/integration/tpch"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
)

// Per-partition result endpoints (`--advertise-endpoints`).

// endpointQuery has no ORDER BY/LIMIT: its final stage is the lineitem
// scan, one partition per group of row groups, so it has one endpoint per
// partition. Its boolean column must come back as BIGINT as on the
// single-stream path.
const endpointQuery = "SELECT l_orderkey, l_linenumber, l_quantity, l_shipmode, l_comment, l_quantity > 25 AS big FROM lineitem"

// heldQuery has a shuffle (the aggregate's exchange) whose output stays
// held while its result is not fetched.
const heldQuery = "SELECT l_suppkey, COUNT(*), SUM(l_quantity) FROM lineitem GROUP BY l_suppkey"

// locationClient dials an endpoint location (grpc+tcp:// or grpc+tls://).
func locationClient(t *testing.T, uri string, roots *x509.CertPool) *flightsql.Client {
	t.Helper()
	creds := insecure.NewCredentials()
	addr, ok := strings.CutPrefix(uri, "grpc+tcp://")
	if !ok {
		if addr, ok = strings.CutPrefix(uri, "grpc+tls://"); !ok {
			t.Fatalf("endpoint location %q: unknown scheme", uri)
		}
		creds = credentials.NewTLS(&tls.Config{RootCAs: roots})
	}
	cl, err := flightsql.NewClient(addr, nil, nil, grpc.WithTransportCredentials(creds))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cl.Close() })
	return cl
}

// readEndpoint reads one endpoint's stream.
func readEndpoint(ctx context.Context, cl *flightsql.Client, ep *flight.FlightEndpoint) (*arrow.Schema, [][]string, error) {
	rdr, err := cl.DoGet(ctx, ep.Ticket)
	if err != nil {
		return nil, nil, err
	}
	defer rdr.Release()
	var rows [][]string
	for rdr.Next() {
		rows = append(rows, tpch.Rows([]arrow.RecordBatch{rdr.RecordBatch()})...)
	}
	return rdr.Schema(), rows, rdr.Err()
}

func sortedRows(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "|")
	}
	sort.Strings(out)
	return out
}

// ticketBody is the JSON inside a partition ticket (QVP1: JSON MAC).
func ticketBody(t *testing.T, ep *flight.FlightEndpoint) (handle []byte, body map[string]any) {
	t.Helper()
	tq, err := flightsql.GetStatementQueryTicket(ep.Ticket)
	if err != nil {
		t.Fatal(err)
	}
	handle = tq.GetStatementHandle()
	js, ok := bytes.CutPrefix(handle[:len(handle)-32], []byte("QVP1:"))
	if !ok {
		t.Fatalf("not a partition ticket: %q", handle)
	}
	if err := json.Unmarshal(js, &body); err != nil {
		t.Fatal(err)
	}
	return handle, body
}

func forgedTicket(t *testing.T, handle []byte, edit func([]byte) []byte) *flight.Ticket {
	t.Helper()
	b, err := flightsql.CreateStatementQueryTicket(edit(append([]byte{}, handle...)))
	if err != nil {
		t.Fatal(err)
	}
	return &flight.Ticket{Ticket: b}
}

// shuffleFiles counts the spill files under the nodes' work dirs.
func shuffleFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.Contains(p, string(filepath.Separator)+"shuffle"+string(filepath.Separator)) && !strings.HasSuffix(p, ".lock") {
			n++
		}
		return nil
	})
	return n
}

func waitUntil(t *testing.T, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func wantCode(t *testing.T, what string, err error, code codes.Code, msg string) {
	t.Helper()
	if status.Code(err) != code || !strings.Contains(status.Convert(err).Message(), msg) {
		t.Errorf("%s: got %v, want %v containing %q", what, err, code, msg)
	}
}

// TestAdvertisedEndpointsCluster: three real `quiver serve` processes with
// --advertise-endpoints and users. A query without ORDER BY returns one
// endpoint per final partition on several nodes (grpc+tcp); each read at
// its location with its own client gives, merged, the single-stream
// answer; ORDER BY gives one endpoint; forged, other users' and expired
// tickets are refused; unfetched results are freed after --result-ttl and
// at once by CancelFlightInfo or CloseSession (their shuffle files go).
func TestAdvertisedEndpointsCluster(t *testing.T) {
	bin := buildQuiver(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	splitRowGroups(t, data, 2000)
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("endpoints-cluster-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	users := filepath.Join(dir, "users")
	for _, u := range []string{"alice", "bob"} {
		cmd := exec.Command(bin, "user", "add", "--users", users, u)
		cmd.Stdin = strings.NewReader(u + "-pw\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("user add: %v\n%s", err, out)
		}
	}
	common := func(name, ttl string) []string {
		return []string{"--data", data, "--default-schema", "tpch", "--cluster-secret-file", secret, "--users", users,
			"--parallelism", "4", "--partition-rows", "1000", "--work-dir", filepath.Join(dir, "work", name),
			"--shuffle-memory", "1KiB", "--advertise-endpoints", "--result-ttl", ttl, "--log-level", "info"}
	}
	n1 := startClusterNode(t, bin, "n1", common("n1", "2m")...)
	n2 := startClusterNode(t, bin, "n2", append(common("n2", "2m"), "--join", n1.gossip)...)
	n3 := startClusterNode(t, bin, "n3", append(common("n3", "3s"), "--join", n1.gossip)...)
	defer func() {
		if t.Failed() {
			for _, n := range []*clusterProc{n1, n2, n3} {
				t.Logf("%s output:\n%s", n.name, n.stderr.String())
			}
		}
	}()
	login := func(addr, user string) (*flightsql.Client, context.Context) {
		cl := locationClient(t, "grpc+tcp://"+addr, nil)
		ctx, err := cl.Client.AuthenticateBasicToken(context.Background(), user, user+"-pw")
		if err != nil {
			t.Fatalf("login %s: %v", user, err)
		}
		return cl, ctx
	}
	c1, alice := login(n1.addr, "alice")
	waitUntil(t, "three live nodes", 30*time.Second, func() bool {
		info, err := c1.Execute(alice, "SELECT COUNT(*) FROM system.nodes WHERE state = 'alive'")
		if err != nil {
			return false
		}
		_, rows, err := readEndpoint(alice, c1, info.Endpoint[0])
		return err == nil && len(rows) == 1 && rows[0][0] == "3"
	})

	// The single-stream answer (ORDER BY: one endpoint, read over the
	// connection or at its location alike).
	ordered, err := c1.Execute(alice, endpointQuery+" ORDER BY l_orderkey, l_linenumber")
	if err != nil {
		t.Fatal(err)
	}
	if len(ordered.Endpoint) != 1 {
		t.Fatalf("ORDER BY query: %d endpoints, want 1", len(ordered.Endpoint))
	}
	refSchema, ref, err := readEndpoint(alice, c1, ordered.Endpoint[0])
	if err != nil {
		t.Fatal(err)
	}

	info, err := c1.Execute(alice, endpointQuery)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Endpoint) < 2 {
		t.Fatalf("query without ORDER BY: %d endpoints, want several", len(info.Endpoint))
	}
	infoSchema, err := flight.DeserializeSchema(info.Schema, memory.DefaultAllocator)
	if err != nil {
		t.Fatal(err)
	}
	if !infoSchema.Equal(refSchema) || infoSchema.Field(5).Type.ID() != arrow.INT64 {
		t.Errorf("FlightInfo schema %v, single-stream schema %v", infoSchema, refSchema)
	}
	locs := map[string]int{}
	var got [][]string
	for i, ep := range info.Endpoint {
		if len(ep.Location) != 1 || !strings.HasPrefix(ep.Location[0].Uri, "grpc+tcp://127.0.0.1:") {
			t.Fatalf("endpoint %d location %v", i, ep.Location)
		}
		uri := ep.Location[0].Uri
		locs[uri]++
		schema, rows, err := readEndpoint(alice, locationClient(t, uri, nil), ep)
		if err != nil {
			t.Fatalf("endpoint %d at %s: %v", i, uri, err)
		}
		if !schema.Equal(refSchema) {
			t.Errorf("endpoint %d schema %v, want %v", i, schema, refSchema)
		}
		got = append(got, rows...)
	}
	if len(locs) < 2 {
		t.Errorf("endpoints on %d node(s), want several: %v", len(locs), locs)
	}
	if g, w := sortedRows(got), sortedRows(ref); strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("merged endpoints: %d rows, single stream %d rows (or different values)", len(g), len(w))
	}
	_, body := ticketBody(t, info.Endpoint[0])
	t.Logf("%d endpoints at %v", len(info.Endpoint), locs)
	// The coordinator recorded each partition's fetch with the node that
	// served it.
	served := queryRowsCtx(t, c1, alice, "SELECT node, COUNT(*) FROM system.tasks WHERE query_id = '"+body["q"].(string)+"' AND state = 'succeeded' GROUP BY node ORDER BY node")
	if len(served) < 2 {
		t.Errorf("partitions served by %v, want several nodes", served)
	}
	t.Logf("partitions served per node: %v", served)
	// Fully fetched: the query ended (the peers' reports arrive shortly).
	waitUntil(t, "the fully fetched query to end", 10*time.Second, func() bool {
		st := queryRowsCtx(t, c1, alice, "SELECT state FROM system.queries WHERE query_id = '"+body["q"].(string)+"'")
		return len(st) == 1 && st[0][0] == "succeeded"
	})
	if _, _, err := readEndpoint(alice, c1, info.Endpoint[0]); status.Code(err) != codes.NotFound {
		t.Errorf("fetching a partition of a fully fetched result: %v, want NotFound", err)
	}

	// Tickets: forged, another user's, a partition read again after a
	// dropped stream.
	held, err := c1.Execute(alice, heldQuery)
	if err != nil {
		t.Fatal(err)
	}
	if len(held.Endpoint) < 2 {
		t.Fatalf("GROUP BY query: %d endpoints", len(held.Endpoint))
	}
	handle, _ := ticketBody(t, held.Endpoint[0])
	forged := forgedTicket(t, handle, func(b []byte) []byte { return bytes.Replace(b, []byte(`"p":0`), []byte(`"p":1`), 1) })
	_, err = c1.DoGet(alice, forged)
	wantCode(t, "altered ticket", err, codes.InvalidArgument, "altered")
	_, err = c1.DoGet(alice, forgedTicket(t, handle, func(b []byte) []byte { return b[:len(b)-5] }))
	wantCode(t, "truncated ticket", err, codes.InvalidArgument, "invalid")
	c2, bob := login(n2.addr, "bob")
	_, err = c2.DoGet(bob, held.Endpoint[0].Ticket)
	wantCode(t, "bob reads alice's ticket", err, codes.PermissionDenied, "another user")
	// A stream dropped after its first batch: the partition can be read
	// again (any node redeems a ticket: read it on n2).
	c2a, aliceOn2 := login(n2.addr, "alice")
	dctx, cancel := context.WithCancel(aliceOn2)
	if rdr, err := c2a.DoGet(dctx, held.Endpoint[0].Ticket); err == nil {
		rdr.Next()
		cancel()
		rdr.Release()
	}
	cancel()
	if files := shuffleFiles(t, filepath.Join(dir, "work")); files == 0 {
		t.Errorf("no shuffle files while the GROUP BY result is held")
	}
	var groups int
	for i, ep := range held.Endpoint {
		_, rows, err := readEndpoint(aliceOn2, c2a, ep)
		if err != nil {
			t.Fatalf("held endpoint %d (read on n2): %v", i, err)
		}
		groups += len(rows)
	}
	if groups != 100 { // SF0.01 has 100 suppliers
		t.Errorf("GROUP BY l_suppkey over the endpoints: %d groups, want 100", groups)
	}
	waitUntil(t, "shuffle files freed once every partition was read", 10*time.Second, func() bool { return shuffleFiles(t, filepath.Join(dir, "work")) == 0 })

	// CancelFlightInfo frees an unread result at once.
	cancelled, err := c1.Execute(alice, heldQuery)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "shuffle files of the held result", 10*time.Second, func() bool { return shuffleFiles(t, filepath.Join(dir, "work")) > 0 })
	if _, err := c1.CancelFlightInfo(alice, &flight.CancelFlightInfoRequest{Info: cancelled}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "shuffle files freed after CancelFlightInfo", 10*time.Second, func() bool { return shuffleFiles(t, filepath.Join(dir, "work")) == 0 })
	// The first read of a canceled ticket says so; then it is gone.
	if _, _, err = readEndpoint(alice, c1, cancelled.Endpoint[0]); status.Code(err) == codes.Canceled {
		_, _, err = readEndpoint(alice, c1, cancelled.Endpoint[0])
	}
	wantCode(t, "reading a canceled result", err, codes.NotFound, "no longer held")

	// Closing the session frees its unread results.
	unread, err := c1.Execute(alice, heldQuery)
	if err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "shuffle files of the held result", 10*time.Second, func() bool { return shuffleFiles(t, filepath.Join(dir, "work")) > 0 })
	if _, err := c1.CloseSession(alice, &flight.CloseSessionRequest{}); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, "shuffle files freed after CloseSession", 10*time.Second, func() bool { return shuffleFiles(t, filepath.Join(dir, "work")) == 0 })
	_, _, err = readEndpoint(alice, c1, unread.Endpoint[0])
	wantCode(t, "reading a result of a closed session", err, codes.NotFound, "no longer held")

	// n3 keeps unread results 3s (--result-ttl).
	c3, aliceOn3 := login(n3.addr, "alice")
	expiring, err := c3.Execute(aliceOn3, heldQuery)
	if err != nil {
		t.Fatal(err)
	}
	if files := shuffleFiles(t, filepath.Join(dir, "work")); files == 0 {
		t.Errorf("no shuffle files while n3's result is held")
	}
	waitUntil(t, "shuffle files freed after the result TTL", 20*time.Second, func() bool { return shuffleFiles(t, filepath.Join(dir, "work")) == 0 })
	time.Sleep(2 * time.Second) // tickets expire a second after the result
	_, _, err = readEndpoint(aliceOn3, c3, expiring.Endpoint[0])
	wantCode(t, "expired ticket", err, codes.InvalidArgument, "expired")
	if st := queryRowsCtx(t, c3, aliceOn3, "SELECT state, error FROM system.queries WHERE query_id = '"+ticketBodyQuery(t, expiring.Endpoint[0])+"'"); len(st) != 1 || st[0][0] != "canceled" || !strings.Contains(st[0][1], "TTL") {
		t.Errorf("system.queries for the expired result: %v", st)
	}
}

func ticketBodyQuery(t *testing.T, ep *flight.FlightEndpoint) string {
	_, body := ticketBody(t, ep)
	return body["q"].(string)
}

// queryRowsCtx runs sql with ctx's credentials and reads its endpoints
// over the same connection.
func queryRowsCtx(t *testing.T, cl *flightsql.Client, ctx context.Context, sql string) [][]string {
	t.Helper()
	info, err := cl.Execute(ctx, sql)
	if err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
	var rows [][]string
	for _, ep := range info.Endpoint {
		_, r, err := readEndpoint(ctx, cl, ep)
		if err != nil {
			t.Fatalf("%s: %v", sql, err)
		}
		rows = append(rows, r...)
	}
	return rows
}

// TestAdvertisedEndpointsTLS: a single node (a cluster of one, no
// distribution) with TLS and --advertise-endpoints gives grpc+tls://
// locations, one per partition, which a TLS client reads in parallel to
// the single-stream answer.
func TestAdvertisedEndpointsTLS(t *testing.T) {
	bin := buildQuiver(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	splitRowGroups(t, data, 2000)
	cert, key := selfSigned(t, dir)
	p := startQuiver(t, bin, "--data", data, "--default-schema", "tpch", "--tls-cert", cert, "--tls-key", key,
		"--parallelism", "4", "--partition-rows", "1000", "--advertise-endpoints")
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	cl := locationClient(t, "grpc+tls://"+p.addr, roots)
	ctx := context.Background()
	ordered, err := cl.Execute(ctx, endpointQuery+" ORDER BY l_orderkey, l_linenumber")
	if err != nil {
		t.Fatal(err)
	}
	_, ref, err := readEndpoint(ctx, cl, ordered.Endpoint[0])
	if err != nil {
		t.Fatal(err)
	}
	info, err := cl.Execute(ctx, endpointQuery)
	if err != nil {
		t.Fatal(err)
	}
	if len(info.Endpoint) < 2 {
		t.Fatalf("%d endpoints, want one per partition", len(info.Endpoint))
	}
	type result struct {
		rows [][]string
		err  error
	}
	results := make(chan result, len(info.Endpoint))
	for _, ep := range info.Endpoint {
		if len(ep.Location) != 1 || ep.Location[0].Uri != "grpc+tls://"+p.addr {
			t.Fatalf("location %v, want grpc+tls://%s", ep.Location, p.addr)
		}
		lc := locationClient(t, ep.Location[0].Uri, roots)
		go func() {
			_, rows, err := readEndpoint(ctx, lc, ep)
			results <- result{rows, err}
		}()
	}
	var got [][]string
	for range info.Endpoint {
		r := <-results
		if r.err != nil {
			t.Fatal(r.err)
		}
		got = append(got, r.rows...)
	}
	if g, w := sortedRows(got), sortedRows(ref); strings.Join(g, "\n") != strings.Join(w, "\n") {
		t.Errorf("merged endpoints: %d rows, single stream %d rows (or different values)", len(g), len(w))
	}
}
