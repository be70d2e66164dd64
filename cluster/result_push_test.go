package cluster_test

import (
	"context"
	"fmt"
	"io"
	"sort"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/engine"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// finalStage returns the final stage's id and partition count of sql's plan.
func finalStage(t *testing.T, eng *engine.Engine, sql string) (id, parts int) {
	t.Helper()
	_, rows, err := query(t, eng, "EXPLAIN "+sql)
	if err != nil {
		t.Fatal(err)
	}
	id = -1
	for _, r := range rows {
		for _, line := range r {
			var s, p int
			if n, _ := fmt.Sscanf(line, "Stage %d partitions=%d", &s, &p); n == 2 && s > id {
				id, parts = s, p
			}
		}
	}
	if id < 0 {
		t.Fatalf("no stages in the plan of %s: %v", sql, rows)
	}
	return id, parts
}

// A final stage with several partitions runs on every node: the peers
// push their partitions' rows to the coordinator over DoPut, and the
// client gets the answer one node gives.
func TestDistributedFinalStagePushed(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{compression: "zstd"})
	const sql = `SELECT l_orderkey, SUM(l_extendedprice) AS s, COUNT(*) AS n FROM lineitem GROUP BY l_orderkey`
	coord := nodes[0]
	final, parts := finalStage(t, coord.eng, sql)
	if parts < 2 {
		t.Fatalf("final stage %d has %d partitions; the test needs several", final, parts)
	}
	_, got, err := query(t, coord.eng, sql)
	if err != nil {
		t.Fatal(err)
	}
	byNode := tasksByNode(t, coord.eng, fmt.Sprintf("AND stage = %d", final))
	peers := 0
	for node, n := range byNode {
		if node != coord.name && n > 0 {
			peers++
		}
	}
	if peers == 0 {
		t.Errorf("every final task ran on the coordinator: %v", byNode)
	}
	t.Logf("final stage %d (%d partitions) tasks per node: %v", final, parts, byNode)

	single, err := engine.New(context.Background(), engine.Config{DataDir: splitData(t), WorkDir: t.TempDir(), DefaultSchema: "tpch", Parallelism: 1}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	defer single.Close()
	_, want, err := query(t, single, sql)
	if err != nil {
		t.Fatal(err)
	}
	sortRows := func(rows [][]string) string {
		s := make([]string, len(rows))
		for i, r := range rows {
			s[i] = fmt.Sprint(r)
		}
		sort.Strings(s)
		return fmt.Sprint(s)
	}
	if len(want) == 0 || sortRows(got) != sortRows(want) {
		t.Errorf("3 nodes gave %d rows, 1 node %d (or different values)", len(got), len(want))
	}
	for _, n := range nodes {
		if m := n.eng.MemoryInUse(); m != 0 {
			t.Errorf("%s: engine holds %d bytes after the query", n.name, m)
		}
	}
}

// A push naming no running final task is refused, and so is one without
// the cluster secret.
func TestResultPushRefused(t *testing.T) {
	nodes := startCluster(t, 2, clusterOpts{})
	addr := nodes[0].ml.Local().InternalAddr
	push := func(sec cluster.Security, cmd string) error {
		c, err := cluster.Dial(context.Background(), cluster.Node{Name: "x", NodeMeta: cluster.NodeMeta{InternalAddr: addr}}, sec)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		st, err := c.DoPut(context.Background())
		if err != nil {
			return err
		}
		schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
		bld := array.NewInt64Builder(memory.DefaultAllocator)
		bld.AppendValues([]int64{1, 2, 3}, nil)
		col := bld.NewArray()
		defer col.Release()
		b := array.NewRecordBatch(schema, []arrow.Array{col}, 3)
		defer b.Release()
		w := flight.NewRecordWriter(st, ipc.WithSchema(schema))
		w.SetFlightDescriptor(&flight.FlightDescriptor{Type: flight.DescriptorCMD, Cmd: []byte(cmd)})
		w.Write(b) //nolint:errcheck // the outcome is the call's status
		w.Close()
		st.CloseSend()
		for {
			if _, err := st.Recv(); err != nil {
				if err == io.EOF {
					return nil
				}
				return err
			}
		}
	}
	good := cluster.Security{Secret: []byte("dscheduler-test-secret")}
	cmd := cluster.ResultPushPrefix + `{"Query":"node1/q1","Stage":1,"Partition":0,"Attempt":0}`
	if err := push(cluster.Security{Secret: []byte("wrong")}, cmd); status.Code(err) != codes.Unauthenticated {
		t.Errorf("push with a wrong secret: %v, want Unauthenticated", err)
	}
	if err := push(good, cmd); status.Code(err) != codes.NotFound {
		t.Errorf("push for a query not running there: %v, want NotFound", err)
	}
	if err := push(good, "not a push"); status.Code(err) != codes.InvalidArgument {
		t.Errorf("malformed push descriptor: %v, want InvalidArgument", err)
	}
}
