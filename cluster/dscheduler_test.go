package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/hashicorp/memberlist"
	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/engine"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/integration/tpch"
	"go.uber.org/zap"
)

type testNode struct {
	name string
	eng  *engine.Engine
	ml   *cluster.Membership
	dist *cluster.Dist
	srv  *cluster.InternalServer
	work string
	once sync.Once
}

// kill stops the node abruptly: its services close, gossip stops without
// leaving, its tasks end.
func (n *testNode) kill() {
	n.once.Do(func() {
		n.srv.Stop(0)
		n.ml.Close()
		n.dist.Close()
		n.eng.Close()
	})
}

var (
	splitOnce sync.Once
	splitDir  string
	splitErr  error
)

// splitData is the TPC-H SF0.01 data rewritten with row groups of 2000
// rows, so scans have several partitions (one row group per file makes
// every plan a single stage) and the plans have exchanges to distribute.
func splitData(t *testing.T) string {
	t.Helper()
	splitOnce.Do(func() {
		splitDir, splitErr = os.MkdirTemp("", "quiver-dsched-")
		if splitErr != nil {
			return
		}
		splitErr = tpch.SplitRowGroups(filepath.Join(sf001Dir, "tpch"), filepath.Join(splitDir, "tpch"), 2000)
	})
	if splitErr != nil {
		t.Fatal(splitErr)
	}
	return splitDir
}

type clusterOpts struct {
	shuffleMemory int64
	compression   string
	// advertise, if set, is the internal address node i (0-based)
	// advertises instead of its listener's (a proxy in front of it).
	advertise func(i int, addr string) string
	// tune, if set, adjusts gossip after the tests' fast timings.
	tune func(*memberlist.Config)
}

var testSecurity = cluster.Security{Secret: []byte("dscheduler-test-secret")}

func startCluster(t *testing.T, size int, o clusterOpts) []*testNode {
	t.Helper()
	var nodes []*testNode
	var seed string
	for i := 0; i < size; i++ {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		internal := lis.Addr().String()
		if o.advertise != nil {
			internal = o.advertise(i, internal)
		}
		var join []string
		if seed != "" {
			join = []string{seed}
		}
		n := startTestNode(t, fmt.Sprintf("node%d", i+1), lis, internal, "127.0.0.1:0", join, o)
		if seed == "" {
			seed = n.ml.Local().GossipAddr
		}
		nodes = append(nodes, n)
	}
	deadline := time.Now().Add(10 * time.Second)
	for _, n := range nodes {
		for len(n.ml.Members()) < size {
			if time.Now().After(deadline) {
				t.Fatalf("%s sees %d members, want %d", n.name, len(n.ml.Members()), size)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	return nodes
}

// startTestNode starts one node: engine, gossip on gossipBind, the
// distributed scheduler, and the internal service on lis (advertised as
// internal).
func startTestNode(t *testing.T, name string, lis net.Listener, internal, gossipBind string, join []string, o clusterOpts) *testNode {
	t.Helper()
	eng, err := engine.New(context.Background(), engine.Config{DataDir: splitData(t), WorkDir: t.TempDir(), DefaultSchema: "tpch", Parallelism: partitions}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	n := &testNode{name: name, eng: eng, work: t.TempDir()}
	n.ml, err = cluster.NewMembership(cluster.MembershipConfig{
		NodeName: name, BindAddr: gossipBind, Join: join,
		Meta: cluster.NodeMeta{InternalAddr: internal, Cores: 2},
		Tune: func(c *memberlist.Config) {
			c.ProbeInterval = 200 * time.Millisecond
			c.ProbeTimeout = 200 * time.Millisecond
			c.GossipInterval = 50 * time.Millisecond
			c.SuspicionMult = 2
			if o.tune != nil {
				o.tune(c)
			}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	local := n.ml.Local()
	n.dist, err = cluster.NewDist(cluster.DistConfig{
		NodeName: name, Instance: local.Instance, Started: local.Started, Members: n.ml.Members, Subscribe: n.ml.Subscribe,
		Dial:    cluster.InternalDialer(testSecurity),
		Catalog: eng.Catalog(), Local: eng.Scheduler(), WorkDir: n.work,
		ShuffleMemory: o.shuffleMemory, ShuffleCompression: o.compression, Log: testLog(t),
	})
	if err != nil {
		t.Fatal(err)
	}
	eng.Scheduler().SetDistributor(n.dist)
	n.srv = cluster.NewInternalServer(cluster.InternalConfig{NodeName: name, Security: testSecurity})
	n.dist.Serve(n.srv)
	go n.srv.Serve(lis)
	t.Cleanup(n.kill)
	return n
}

func query(t *testing.T, eng *engine.Engine, sql string) ([]string, [][]string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	res, err := eng.Execute(ctx, eng.NewSession(), sql, nil)
	if err != nil {
		return nil, nil, err
	}
	defer res.Stream.Close()
	var header []string
	for _, f := range res.Schema.Fields() {
		header = append(header, f.Name)
	}
	var batches []arrow.RecordBatch
	defer func() {
		for _, b := range batches {
			b.Release()
		}
	}()
	for {
		b, err := res.Stream.Next(ctx)
		if errors.Is(err, execution.EOF) {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		batches = append(batches, b)
	}
	return header, tpch.Rows(batches), nil
}

// nodesOf returns the nodes that ran tasks of the coordinator's last query.
func tasksByNode(t *testing.T, eng *engine.Engine, where string) map[string]int {
	t.Helper()
	_, rows, err := query(t, eng, "SELECT node, COUNT(*) FROM system.tasks WHERE state = 'succeeded' "+where+" GROUP BY node")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]int{}
	for _, r := range rows {
		var n int
		fmt.Sscan(r[1], &n)
		out[r[0]] = n
	}
	return out
}

func tpchQueries(t *testing.T) []string {
	ents, err := os.ReadDir(filepath.Join(tpchDir, "queries"))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".sql") {
			names = append(names, strings.TrimSuffix(e.Name(), ".sql"))
		}
	}
	return names
}

func TestDistributedTPCH(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{compression: "lz4"})
	for i, name := range tpchQueries(t) {
		coord := nodes[i%len(nodes)]
		t.Run(name, func(t *testing.T) {
			sql, err := tpch.ReadQuery(tpchDir, name)
			if err != nil {
				t.Fatal(err)
			}
			header, rows, err := query(t, coord.eng, sql)
			if err != nil {
				t.Fatalf("on %s: %v", coord.name, err)
			}
			msg, err := tpch.Check(sf001Answers, name, header, rows)
			if err != nil {
				t.Fatal(err)
			}
			if msg != "" {
				t.Fatalf("3 nodes, coordinator %s: %s", coord.name, msg)
			}
		})
	}
	// Every node ran tasks of the queries each coordinated.
	total := map[string]int{}
	for _, n := range nodes {
		for node, c := range tasksByNode(t, n.eng, "") {
			total[node] += c
		}
	}
	for _, n := range nodes {
		if total[n.name] == 0 {
			t.Errorf("no task ran on %s: %v", n.name, total)
		}
	}
	t.Logf("tasks per node: %v", total)
	for _, n := range nodes {
		// Peers free a query's output when its coordinator tells them
		// (asynchronously, as the query ends).
		deadline := time.Now().Add(5 * time.Second)
		for n.dist.Store().MemoryInUse() != 0 && time.Now().Before(deadline) {
			time.Sleep(20 * time.Millisecond)
		}
		if used := n.dist.Store().MemoryInUse(); used != 0 {
			t.Errorf("%s: shuffle store holds %d bytes after the queries", n.name, used)
		}
		if m := n.eng.MemoryInUse(); m != 0 {
			t.Errorf("%s: engine holds %d bytes after the queries", n.name, m)
		}
	}
}

func testLog(t *testing.T) *zap.Logger {
	if os.Getenv("QUIVER_TEST_LOG") != "" {
		l, _ := zap.NewDevelopment()
		return l
	}
	return zap.NewNop()
}

func checkAnswer(t *testing.T, eng *engine.Engine, name string) {
	t.Helper()
	sql, err := tpch.ReadQuery(tpchDir, name)
	if err != nil {
		t.Fatal(err)
	}
	header, rows, err := query(t, eng, sql)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	msg, err := tpch.Check(sf001Answers, name, header, rows)
	if err != nil {
		t.Fatal(err)
	}
	if msg != "" {
		t.Fatalf("%s: %s", name, msg)
	}
}

// reruns counts succeeded task attempts > 0 of producer stage `stage`.
func reruns(t *testing.T, eng *engine.Engine, stage int) int {
	t.Helper()
	_, rows, err := query(t, eng, fmt.Sprintf("SELECT COUNT(*) FROM system.tasks WHERE stage = %d AND attempt > 0 AND state = 'succeeded'", stage))
	if err != nil {
		t.Fatal(err)
	}
	var n int
	fmt.Sscan(rows[0][0], &n)
	return n
}

// A worker dies once a stage finished with part of its output there and
// before that stage's consumers run: the lost output is recomputed on
// the others, tasks sent to the dead node are retried elsewhere, and the
// answer is right.
func TestDistributedWorkerKilled(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	victim := nodes[2]
	var once sync.Once
	killedAfter := -1
	cluster.SetAfterStage(nodes[0].dist, func(q string, stage int) {
		// Stages run as a DAG: kill the victim once a stage that just
		// finished (its consumers not started yet) has output there.
		if !victim.dist.Store().HeldStages(q)[stage] {
			return
		}
		once.Do(func() {
			killedAfter = stage
			victim.kill()
		})
	})
	checkAnswer(t, nodes[0].eng, "q09")
	if killedAfter < 0 {
		t.Fatalf("%s never held a finished stage's shuffle output", victim.name)
	}
	if recomputed := reruns(t, nodes[0].eng, killedAfter); recomputed == 0 {
		t.Errorf("no producer was recomputed after %s died (after stage %d)", victim.name, killedAfter)
	}
	_, rows, err := query(t, nodes[0].eng, "SELECT state FROM system.queries")
	if err != nil || len(rows) != 1 || rows[0][0] != "succeeded" {
		t.Errorf("system.queries: %v %v", rows, err)
	}
	// The survivors keep working as a cluster of two.
	cluster.SetAfterStage(nodes[0].dist, nil)
	checkAnswer(t, nodes[1].eng, "q05")
}

// A consumer cannot fetch a producer's output (the node dropped it): the
// fetch failure makes the coordinator re-run exactly those producers.
func TestDistributedFetchFailureRecomputes(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	var once sync.Once
	dropped := -1
	cluster.SetAfterStage(nodes[0].dist, func(q string, stage int) {
		if len(nodes[1].dist.Store().Queries()) == 0 {
			return
		}
		once.Do(func() {
			dropped = stage
			nodes[1].dist.Store().DropOutputs(q)
		})
	})
	checkAnswer(t, nodes[0].eng, "q03")
	if dropped < 0 {
		t.Fatalf("%s never held shuffle output", nodes[1].name)
	}
	recomputed := 0
	for s := 0; s <= dropped; s++ {
		recomputed += reruns(t, nodes[0].eng, s)
	}
	if recomputed == 0 {
		t.Error("no producer was recomputed after its output vanished")
	}
}

func shuffleFiles(t *testing.T, nodes []*testNode) int {
	t.Helper()
	n := 0
	for _, nd := range nodes {
		filepath.WalkDir(nd.work, func(path string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() && !strings.HasSuffix(path, ".lock") { // the node's lock on its shuffle dir
				n++
			}
			return nil
		})
	}
	return n
}

func waitNoShuffleFiles(t *testing.T, nodes []*testNode) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for shuffleFiles(t, nodes) != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d shuffle files left after the query", shuffleFiles(t, nodes))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// With a tiny memory budget every shuffle batch spills to (zstd) IPC files
// in the work dirs, the answers stay right, and the files are gone when the
// query ends — succeeded or cancelled.
func TestDistributedSpillAndCleanup(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{shuffleMemory: 1, compression: "zstd"})
	var mu sync.Mutex
	maxFiles := 0
	cluster.SetAfterStage(nodes[0].dist, func(q string, stage int) {
		mu.Lock()
		maxFiles = max(maxFiles, shuffleFiles(t, nodes))
		mu.Unlock()
	})
	for _, q := range []string{"q01", "q10", "q18"} {
		checkAnswer(t, nodes[0].eng, q)
		waitNoShuffleFiles(t, nodes)
	}
	if maxFiles == 0 {
		t.Fatal("nothing spilled with a 1-byte budget")
	}
	for _, n := range nodes {
		if m := n.dist.Store().MemoryInUse(); m != 0 {
			t.Errorf("%s: %d bytes in the shuffle store", n.name, m)
		}
	}

	// Cancel a query between stages: its tasks stop and its files go.
	sql, _ := tpch.ReadQuery(tpchDir, "q09")
	ctx, cancel := context.WithCancel(context.Background())
	cluster.SetAfterStage(nodes[0].dist, func(q string, stage int) {
		if shuffleFiles(t, nodes) == 0 {
			t.Error("no spill files before the cancel")
		}
		cancel()
	})
	res, err := nodes[0].eng.Execute(ctx, nodes[0].eng.NewSession(), sql, nil)
	if err == nil {
		for {
			b, err2 := res.Stream.Next(ctx)
			if err2 != nil {
				err = err2
				break
			}
			b.Release()
		}
		res.Stream.Close()
	}
	if err == nil || errors.Is(err, execution.EOF) {
		t.Fatalf("cancelled query ended with %v", err)
	}
	waitNoShuffleFiles(t, nodes)
	cluster.SetAfterStage(nodes[0].dist, nil)
	_, rows, err := query(t, nodes[0].eng, "SELECT state FROM system.queries ORDER BY started DESC LIMIT 1")
	if err != nil || len(rows) != 1 || (rows[0][0] != "canceled" && rows[0][0] != "failed") {
		t.Errorf("last query state: %v %v", rows, err)
	}
}
