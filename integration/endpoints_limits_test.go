package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/quiverdb/quiver/execution"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestEndpointsPollAndLimits: three real `quiver serve` processes with
// --advertise-endpoints, each with other limits (a ticket carries its
// coordinator's):
//   - n1 (no limits): PollFlightInfo of a query without ORDER BY polls
//     until complete, then its info has the per-partition endpoints on
//     several nodes, which merged give the single-stream answer;
//   - n2 (--max-concurrent-queries-per-user 1, --max-result-bytes 1MiB):
//     an unread held result is the client's one running query (another
//     is refused) while its fetches are not counted; the result's bytes
//     are summed over its partitions: fetches of partitions each far
//     below the limit fail once their sum passes it, and the query ends;
//   - n3 (--query-timeout 5s): once the deadline passed, the held result
//     is freed and its fetches fail with DeadlineExceeded.
func TestEndpointsPollAndLimits(t *testing.T) {
	bin := buildQuiver(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	splitRowGroups(t, data, 2000)
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("endpoints-limits-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	common := func(name string, extra ...string) []string {
		return append([]string{"--data", data, "--default-schema", "tpch", "--cluster-secret-file", secret,
			"--parallelism", "4", "--partition-rows", "1000", "--work-dir", filepath.Join(dir, "work", name),
			"--shuffle-memory", "1KiB", "--advertise-endpoints", "--result-ttl", "2m", "--log-level", "info"}, extra...)
	}
	n1 := startClusterNode(t, bin, "n1", common("n1")...)
	n2 := startClusterNode(t, bin, "n2", common("n2", "--join", n1.gossip,
		"--max-concurrent-queries-per-user", "1", "--max-result-bytes", "1MiB")...)
	n3 := startClusterNode(t, bin, "n3", common("n3", "--join", n1.gossip, "--query-timeout", "5s")...)
	defer func() {
		if t.Failed() {
			for _, n := range []*clusterProc{n1, n2, n3} {
				t.Logf("%s output:\n%s", n.name, n.stderr.String())
			}
		}
	}()
	ctx := context.Background()
	c1 := locationClient(t, "grpc+tcp://"+n1.addr, nil)
	waitUntil(t, "three live nodes", 30*time.Second, func() bool {
		info, err := c1.Execute(ctx, "SELECT COUNT(*) FROM system.nodes WHERE state = 'alive'")
		if err != nil {
			return false
		}
		_, rows, err := readEndpoint(ctx, c1, info.Endpoint[0])
		return err == nil && len(rows) == 1 && rows[0][0] == "3"
	})
	ordered, err := c1.Execute(ctx, endpointQuery+" ORDER BY l_orderkey, l_linenumber")
	if err != nil {
		t.Fatal(err)
	}
	_, ref, err := readEndpoint(ctx, c1, ordered.Endpoint[0])
	if err != nil {
		t.Fatal(err)
	}

	t.Run("poll", func(t *testing.T) {
		first, err := c1.ExecutePoll(ctx, endpointQuery, nil)
		if err != nil {
			t.Fatal(err)
		}
		final, progress := pollToEnd(t, c1, first)
		for _, p := range progress {
			if p < 0 || p > 1 {
				t.Errorf("progress %v out of [0, 1]", progress)
			}
		}
		if final.GetProgress() != 1 || final.GetExpirationTime() == nil {
			t.Errorf("completed poll: progress %v, expiration %v", final.GetProgress(), final.GetExpirationTime())
		}
		info := final.GetInfo()
		if len(info.Endpoint) < 2 {
			t.Fatalf("completed poll: %d endpoints, want one per partition", len(info.Endpoint))
		}
		locs := map[string]bool{}
		var got [][]string
		for i, ep := range info.Endpoint {
			uri := ep.Location[0].Uri
			locs[uri] = true
			_, rows, err := readEndpoint(ctx, locationClient(t, uri, nil), ep)
			if err != nil {
				t.Fatalf("endpoint %d at %s: %v", i, uri, err)
			}
			got = append(got, rows...)
		}
		if len(locs) < 2 {
			t.Errorf("endpoints at %v, want several nodes", locs)
		}
		if g, w := sortedRows(got), sortedRows(ref); strings.Join(g, "\n") != strings.Join(w, "\n") {
			t.Errorf("merged poll endpoints: %d rows, single stream %d rows (or different values)", len(g), len(w))
		}
		// A running partitioned poll is canceled by its (endpoint-less) info.
		first, err = c1.ExecutePoll(ctx, heldQuery, nil)
		if err != nil {
			t.Fatal(err)
		}
		if first.GetFlightDescriptor() != nil && len(first.GetInfo().GetEndpoint()) == 0 {
			t.Log("canceling a running partitioned poll")
			if _, err := c1.CancelFlightInfo(ctx, &flight.CancelFlightInfoRequest{Info: first.GetInfo()}); err != nil {
				t.Fatalf("CancelFlightInfo of a running poll: %v", err)
			}
			_, err := c1.Client.PollFlightInfo(ctx, first.GetFlightDescriptor())
			if code := status.Code(err); code != codes.NotFound && code != codes.Canceled {
				t.Errorf("polling a canceled query: %v, want NotFound or Canceled", err)
			}
		}
	})

	c2 := locationClient(t, "grpc+tcp://"+n2.addr, nil)
	t.Run("concurrency", func(t *testing.T) {
		held, err := c2.Execute(ctx, heldQuery)
		if err != nil {
			t.Fatal(err)
		}
		if len(held.Endpoint) < 2 {
			t.Fatalf("%d endpoints", len(held.Endpoint))
		}
		_, err = c2.Execute(ctx, heldQuery)
		wantCode(t, "a second query while a held result is unread", err, codes.ResourceExhausted, "--max-concurrent-queries-per-user")
		// Its fetches (several on n2 itself) are part of it.
		groups := 0
		for i, ep := range held.Endpoint {
			_, rows, err := readEndpoint(ctx, locationClient(t, ep.Location[0].Uri, nil), ep)
			if err != nil {
				t.Fatalf("fetch %d of the held result: %v", i, err)
			}
			groups += len(rows)
		}
		if groups != 100 {
			t.Errorf("%d groups, want 100", groups)
		}
		waitUntil(t, "the fully fetched result to free its slot", 20*time.Second, func() bool {
			_, err := c2.Execute(ctx, "SELECT 1")
			return err == nil
		})
	})

	t.Run("result bytes", func(t *testing.T) {
		// The same query on n1 (no limit): every partition is below 1MiB,
		// all of them above.
		free, err := c1.Execute(ctx, endpointQuery)
		if err != nil {
			t.Fatal(err)
		}
		var largest, total int64
		for i, ep := range free.Endpoint {
			n, err := endpointBytes(ctx, locationClient(t, ep.Location[0].Uri, nil), ep)
			if err != nil {
				t.Fatalf("partition %d on n1: %v", i, err)
			}
			largest, total = max(largest, n), total+n
		}
		if largest >= 1<<20 || total <= 1<<20 {
			t.Fatalf("partitions up to %d bytes, %d in all: the test needs each below 1MiB and more in all", largest, total)
		}
		info, err := c2.Execute(ctx, endpointQuery)
		if err != nil {
			t.Fatal(err)
		}
		if len(info.Endpoint) < 4 {
			t.Fatalf("%d endpoints, want several", len(info.Endpoint))
		}
		read, failed := 0, -1
		var failure error
		for i, ep := range info.Endpoint {
			_, _, err := readEndpoint(ctx, locationClient(t, ep.Location[0].Uri, nil), ep)
			if err != nil {
				failed, failure = i, err
				break
			}
			read++
		}
		if failed < 0 {
			t.Fatalf("all %d partitions (%d rows in all) were read under --max-result-bytes 1MiB", len(info.Endpoint), len(ref))
		}
		if read == 0 {
			t.Fatalf("the first partition alone exceeds the limit (%v): the test needs smaller partitions", failure)
		}
		wantCode(t, "the fetch passing the limit", failure, codes.ResourceExhausted, "over all its partitions")
		if failed+1 < len(info.Endpoint) {
			ep := info.Endpoint[failed+1]
			_, _, err := readEndpoint(ctx, locationClient(t, ep.Location[0].Uri, nil), ep)
			if code := status.Code(err); code != codes.NotFound && code != codes.ResourceExhausted {
				t.Errorf("a fetch after the query ended: %v, want NotFound", err)
			}
		}
		t.Logf("%d of %d partitions read before the limit", read, len(info.Endpoint))
	})

	c3 := locationClient(t, "grpc+tcp://"+n3.addr, nil)
	t.Run("timeout", func(t *testing.T) {
		start := time.Now()
		held, err := c3.Execute(ctx, heldQuery)
		if err != nil {
			t.Fatal(err)
		}
		if len(held.Endpoint) < 2 {
			t.Fatalf("%d endpoints", len(held.Endpoint))
		}
		if _, _, err := readEndpoint(ctx, locationClient(t, held.Endpoint[0].Location[0].Uri, nil), held.Endpoint[0]); err != nil && time.Since(start) < 4*time.Second {
			t.Fatalf("a fetch before the deadline: %v", err)
		}
		if exp := held.Endpoint[0].GetExpirationTime().AsTime(); exp.After(start.Add(6 * time.Second)) {
			t.Errorf("endpoint expires at %v, after the query's deadline", exp)
		}
		q := ticketBodyQuery(t, held.Endpoint[0])
		time.Sleep(time.Until(start.Add(5500 * time.Millisecond)))
		for _, ep := range held.Endpoint[1:] {
			_, _, err := readEndpoint(ctx, locationClient(t, ep.Location[0].Uri, nil), ep)
			wantCode(t, "a fetch after the query timeout", err, codes.DeadlineExceeded, "--query-timeout")
		}
		waitUntil(t, "the timed-out held query to end", 20*time.Second, func() bool {
			st := queryRowsCtx(t, c3, ctx, "SELECT state FROM system.queries WHERE query_id = '"+q+"'")
			return len(st) == 1 && st[0][0] != "running"
		})
		waitUntil(t, "shuffle files freed after the timeout", 20*time.Second, func() bool { return shuffleFiles(t, filepath.Join(dir, "work")) == 0 })
	})
}

// endpointBytes reads an endpoint and sums its batches' sizes.
func endpointBytes(ctx context.Context, cl *flightsql.Client, ep *flight.FlightEndpoint) (int64, error) {
	rdr, err := cl.DoGet(ctx, ep.Ticket)
	if err != nil {
		return 0, err
	}
	defer rdr.Release()
	var n int64
	for rdr.Next() {
		n += execution.BatchBytes(rdr.RecordBatch())
	}
	return n, rdr.Err()
}
