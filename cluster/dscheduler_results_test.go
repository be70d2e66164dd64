package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/integration/tpch"
)

// fetchPartition reads one partition of a held result on eng.
func fetchPartition(eng *engine.Engine, ref engine.PartitionRef) ([][]string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	res, err := eng.OpenPartition(ctx, ref)
	if err != nil {
		return nil, err
	}
	defer res.Stream.Close()
	var batches []arrow.RecordBatch
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	for {
		b, err := res.Stream.Next(ctx)
		if errors.Is(err, execution.EOF) {
			return tpch.Rows(batches), nil
		}
		if err != nil {
			return nil, err
		}
		batches = append(batches, b)
	}
}

func joined(rows [][]string) string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "|")
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// A held result's partitions are fetched on every node (not only the
// coordinator): merged they give the streamed answer. One node lost its
// shuffle output meanwhile: the fetch that needed it fails, and fetching
// that partition again recomputes the output (lineage) and succeeds. The
// query ends when every partition was fetched, its shuffle files go, and
// the coordinator recorded each fetch with the node that served it.
func TestHeldResultFetchedOnEveryNode(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{shuffleMemory: 1})
	coord := nodes[0]
	const sql = "SELECT l_suppkey, COUNT(*), SUM(l_quantity) FROM lineitem GROUP BY l_suppkey"
	_, want, err := query(t, coord.eng, sql)
	if err != nil {
		t.Fatal(err)
	}
	waitNoShuffleFiles(t, nodes)
	res, ok, err := coord.eng.ExecutePartitioned(context.Background(), coord.eng.NewSession(), sql, nil, time.Minute)
	if err != nil || !ok {
		t.Fatalf("ExecutePartitioned: ok=%v %v", ok, err)
	}
	h := res.Held
	if h.Coordinator != coord.name || len(h.Places) < 2 {
		t.Fatalf("held %+v", h)
	}
	if shuffleFiles(t, nodes) == 0 {
		t.Fatal("no shuffle output while the result is held")
	}
	lost := len(nodes[1].dist.Store().Queries()) > 0
	nodes[1].dist.Store().DropOutputs(h.Query)
	var got [][]string
	failed := 0
	for p := range h.Places {
		n := nodes[p%len(nodes)]
		ref := engine.PartitionRef{Query: h.Query, Coordinator: h.Coordinator, CoordinatorAddr: h.CoordinatorAddr, Partition: p}
		rows, err := fetchPartition(n.eng, ref)
		for try := 0; err != nil && try < 3; try++ {
			failed++
			t.Logf("partition %d on %s: %v (fetching again)", p, n.name, err)
			rows, err = fetchPartition(n.eng, ref)
		}
		if err != nil {
			t.Fatalf("partition %d on %s: %v", p, n.name, err)
		}
		got = append(got, rows...)
	}
	if joined(got) != joined(want) {
		t.Errorf("held result: %d rows, streamed %d (or other values)", len(got), len(want))
	}
	if lost && failed == 0 {
		t.Errorf("%s's output was dropped but no fetch failed", nodes[1].name)
	}
	select {
	case <-h.Done:
	case <-time.After(10 * time.Second):
		t.Fatal("the query did not end once every partition was fetched")
	}
	waitNoShuffleFiles(t, nodes)
	served := tasksByNode(t, coord.eng, fmt.Sprintf("AND query_id = '%s' AND stage = (SELECT MAX(stage) FROM system.tasks WHERE query_id = '%s')", h.Query, h.Query))
	if len(served) != len(nodes) {
		t.Errorf("partitions served by %v, want every node", served)
	}
	if _, err := fetchPartition(nodes[2].eng, engine.PartitionRef{Query: h.Query, Coordinator: h.Coordinator, CoordinatorAddr: h.CoordinatorAddr}); err == nil || !strings.Contains(err.Error(), "no longer held") {
		t.Errorf("fetching an ended result: %v", err)
	}
}
