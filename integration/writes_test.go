package integration

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestSharedDataWrites runs `quiver serve` processes on one --data
// directory (as the nodes of a cluster on a shared volume) and races
// writes between them: no committed row may be lost, DDL races have one
// winner and a clear error for the loser, and a process killed in the
// middle of a write leaves the old or the new table.
func TestSharedDataWrites(t *testing.T) {
	bin := buildQuiver(t)
	dir := t.TempDir()
	data := filepath.Join(dir, "data")
	copyTree(t, filepath.Join(sf001, "tpch"), filepath.Join(data, "tpch"))
	secret := filepath.Join(dir, "secret")
	if err := os.WriteFile(secret, []byte("shared-data-writes-secret\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := func(name string) []string {
		return []string{"--data", data, "--default-schema", "tpch", "--cluster-secret-file", secret,
			"--work-dir", filepath.Join(dir, "work-"+name)}
	}
	// Two separate processes: nothing but the directory is shared.
	a := startClusterNode(t, bin, "a", args("a")...)
	b := startClusterNode(t, bin, "b", args("b")...)
	execUpdate(t, a.process, "CREATE DATABASE w")

	t.Run("InsertsRaceUpdates", func(t *testing.T) { insertsRaceUpdates(t, a, b, "w.t") })
	t.Run("CreateRace", func(t *testing.T) { createRace(t, a, b) })
	t.Run("DropRacesInserts", func(t *testing.T) { dropRacesInserts(t, a, b, data) })
	t.Run("KilledWrites", func(t *testing.T) { killedWrites(t, bin, data, a, b, args("a")) })

	// A real cluster (gossip, distributed execution) on the same data.
	c1 := startClusterNode(t, bin, "c1", args("c1")...)
	c2 := startClusterNode(t, bin, "c2", append(args("c2"), "--join", c1.gossip)...)
	deadline := time.Now().Add(30 * time.Second)
	for _, n := range []*clusterProc{c1, c2} {
		for got := ""; got != "c1|alive\nc2|alive"; {
			if time.Now().After(deadline) {
				t.Fatalf("system.nodes on %s: %q\n%s", n.name, got, n.stderr.String())
			}
			time.Sleep(100 * time.Millisecond)
			got = joinRows(queryRows(t, n.process, "SELECT node_name, state FROM system.nodes ORDER BY node_name"))
		}
	}
	t.Run("ClusterInsertsRaceUpdates", func(t *testing.T) { insertsRaceUpdates(t, c1, c2, "w.ct") })
}

// isRetry reports whether err is the catalog's refusal of a rewrite whose
// snapshot another statement changed (after the engine's own retries).
func isRetry(err error) bool {
	return status.Code(err) == codes.InvalidArgument && strings.Contains(err.Error(), "was changed by another statement")
}

// insertsRaceUpdates: node a INSERTs rows with unique ids one after the
// other while node b runs UPDATE t SET v = v + 1 and a DELETE that matches
// nothing (it still rewrites the table) in a loop. Commits are serialized,
// so afterwards: every committed INSERT's row is there exactly once; the
// seed rows, present before any UPDATE, were incremented by every
// committed UPDATE; and a later row never has a larger v than an earlier
// one (it existed at fewer UPDATEs' snapshots).
func insertsRaceUpdates(t *testing.T, a, b *clusterProc, table string) {
	const seeds, inserts = 5, 150
	execUpdate(t, a.process, "CREATE TABLE "+table+" (id BIGINT NOT NULL, v BIGINT NOT NULL)")
	execUpdate(t, b.process, "INSERT INTO "+table+" VALUES (1, 0), (2, 0), (3, 0), (4, 0), (5, 0)")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	ca, cb := dial(t, a.addr), dial(t, b.addr)
	defer ca.Close()
	defer cb.Close()
	var committed []int64
	insertsDone := make(chan struct{})
	go func() {
		defer close(insertsDone)
		for i := range inserts {
			id := int64(1000 + i)
			n, err := ca.ExecuteUpdate(ctx, fmt.Sprintf("INSERT INTO %s VALUES (%d, 0)", table, id))
			if err != nil || n != 1 {
				t.Errorf("INSERT %d: %d rows, %v", id, n, err)
				continue
			}
			committed = append(committed, id)
		}
	}()
	var updates, deletes, refused int64
	for loop := true; loop; {
		select {
		case <-insertsDone:
			loop = false
		default:
		}
		n, err := cb.ExecuteUpdate(ctx, "UPDATE "+table+" SET v = v + 1")
		switch {
		case err == nil:
			if n < seeds {
				t.Errorf("UPDATE changed %d rows, fewer than the %d seed rows", n, seeds)
			}
			updates++
		case isRetry(err):
			refused++
		default:
			t.Fatalf("UPDATE: %v", err)
		}
		if _, err := cb.ExecuteUpdate(ctx, "DELETE FROM "+table+" WHERE id < 0"); err == nil {
			deletes++
		} else if isRetry(err) {
			refused++
		} else {
			t.Fatalf("DELETE: %v", err)
		}
	}
	t.Logf("%d inserts, %d updates and %d deletes committed, %d rewrites refused after retries", len(committed), updates, deletes, refused)
	if updates == 0 {
		t.Fatal("no UPDATE committed: the race proves nothing")
	}
	// The engine retries a refused rewrite, the last time holding the
	// table's lock: none should reach the client.
	if refused > 0 {
		t.Errorf("%d UPDATE/DELETE failed with the retry error", refused)
	}
	// Both nodes see the same, right, table.
	for _, n := range []*clusterProc{a, b} {
		rows := queryRows(t, n.process, "SELECT id, v FROM "+table+" ORDER BY id")
		var ids []int64
		prev := int64(-1)
		for _, r := range rows {
			id, _ := strconv.ParseInt(r[0], 10, 64)
			v, _ := strconv.ParseInt(r[1], 10, 64)
			if id <= seeds {
				if v != updates {
					t.Errorf("on %s: seed row %d has v=%d, want %d (one per committed UPDATE)", n.name, id, v, updates)
				}
				continue
			}
			ids = append(ids, id)
			if prev >= 0 && v > prev {
				t.Errorf("on %s: row %d has v=%d > %d of an earlier row", n.name, id, v, prev)
			}
			if v > updates {
				t.Errorf("on %s: row %d has v=%d > %d committed UPDATEs", n.name, id, v, updates)
			}
			prev = v
		}
		if !slices.Equal(ids, committed) {
			t.Errorf("on %s: inserted ids %v\nwant (each committed INSERT once) %v", n.name, ids, committed)
		}
	}
}

// createRace: the same CREATE TABLE (plain and AS SELECT) on two nodes at
// once: exactly one succeeds, the other gets AlreadyExists, and a CREATE
// TABLE AS SELECT's table holds the winner's rows only.
func createRace(t *testing.T, a, b *clusterProc) {
	ca, cb := dial(t, a.addr), dial(t, b.addr)
	defer ca.Close()
	defer cb.Close()
	race := func(sqlA, sqlB string) (winner int) {
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, c := range []struct {
			cl  *flightsql.Client
			sql string
		}{{ca, sqlA}, {cb, sqlB}} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = c.cl.ExecuteUpdate(context.Background(), c.sql)
			}()
		}
		wg.Wait()
		winner = -1
		for i, err := range errs {
			switch {
			case err == nil && winner < 0:
				winner = i
			case err == nil:
				t.Errorf("%s: both CREATEs succeeded", sqlA)
			case status.Code(err) != codes.AlreadyExists || !strings.Contains(err.Error(), "already exists"):
				t.Errorf("%s: losing CREATE: %v, want AlreadyExists", sqlA, err)
			}
		}
		if winner < 0 {
			t.Errorf("%s: no CREATE succeeded", sqlA)
		}
		return winner
	}
	for k := range 5 {
		race(fmt.Sprintf("CREATE TABLE w.c%d (id INT)", k), fmt.Sprintf("CREATE TABLE w.c%d (id INT)", k))
		// The nodes' SELECTs give different rows: the table must hold
		// one of them whole.
		name := fmt.Sprintf("w.x%d", k)
		w := race("CREATE TABLE "+name+" AS SELECT 'a' AS who, n_nationkey FROM nation",
			"CREATE TABLE "+name+" AS SELECT 'b' AS who, l_orderkey FROM lineitem WHERE l_linenumber = 1")
		want := [][]string{{"a", "25"}, {"b", "15000"}}
		for _, n := range []*clusterProc{a, b} {
			got := queryRows(t, n.process, "SELECT who, count(*) FROM "+name+" GROUP BY who")
			if w >= 0 && joinRows(got) != joinRows(want[w:w+1]) {
				t.Errorf("on %s: %s holds %v, want the winner's %v", n.name, name, got, want[w])
			}
		}
	}
}

// dropRacesInserts: node a INSERTs in a loop while node b drops the table.
// Each INSERT either committed before the DROP or fails with "doesn't
// exist"; none starting after the DROP succeeds, and no table folder comes
// back.
func dropRacesInserts(t *testing.T, a, b *clusterProc, data string) {
	execUpdate(t, a.process, "CREATE TABLE w.d (id BIGINT)")
	ca := dial(t, a.addr)
	defer ca.Close()
	var mu sync.Mutex
	var dropped time.Time // when the DROP returned
	ok, gone := 0, 0
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; ; i++ {
			start := time.Now()
			_, err := ca.ExecuteUpdate(context.Background(), fmt.Sprintf("INSERT INTO w.d VALUES (%d)", i))
			mu.Lock()
			after := !dropped.IsZero() && start.After(dropped)
			mu.Unlock()
			switch {
			case err == nil && after:
				t.Errorf("INSERT %d started after the DROP returned and succeeded", i)
				return
			case err == nil:
				ok++
			case status.Code(err) == codes.NotFound && strings.Contains(err.Error(), "doesn't exist"):
				gone++
				if after && gone > 3 {
					return
				}
			default:
				t.Errorf("INSERT %d: %v, want success or doesn't exist", i, err)
				return
			}
		}
	}()
	time.Sleep(300 * time.Millisecond)
	execUpdate(t, b.process, "DROP TABLE w.d")
	mu.Lock()
	dropped = time.Now()
	mu.Unlock()
	<-done
	t.Logf("%d INSERTs committed before the DROP, %d refused", ok, gone)
	if ok == 0 {
		t.Error("no INSERT committed before the DROP: the race proves nothing")
	}
	if _, err := os.Stat(filepath.Join(data, "w", "d")); !os.IsNotExist(err) {
		t.Errorf("table folder after DROP: %v", err)
	}
	for _, n := range []*clusterProc{a, b} {
		if got := joinRows(queryRows(t, n.process, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'w' AND table_name = 'd'")); got != "0" {
			t.Errorf("on %s: dropped table still listed", n.name)
		}
	}
}

// killedWrites SIGKILLs node a in the middle of a big INSERT ... SELECT and
// of a big UPDATE: afterwards the table is the old or the new version on
// both nodes, and node b writes at once (the kernel released the dead
// node's locks).
func killedWrites(t *testing.T, bin, data string, a, b *clusterProc, args []string) {
	const triple = "(SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3) x"
	execUpdate(t, b.process, "CREATE TABLE w.k (k BIGINT, c VARCHAR(44))")
	execUpdate(t, b.process, "INSERT INTO w.k SELECT l_orderkey, l_comment FROM lineitem, "+triple)
	state := func(p *process) (count, sum int64) {
		r := queryRows(t, p, "SELECT count(*), sum(k) FROM w.k")
		count, _ = strconv.ParseInt(r[0][0], 10, 64)
		sum, _ = strconv.ParseInt(r[0][1], 10, 64)
		return count, sum
	}
	// kill runs sql on a and kills a once the statement is writing its
	// new part (a hidden temporary in the table folder), before it commits.
	folder := filepath.Join(data, "w", "k")
	temps := func() (names []string) {
		ents, _ := os.ReadDir(folder)
		for _, e := range ents {
			if strings.HasPrefix(e.Name(), ".tmp-part-") {
				names = append(names, e.Name())
			}
		}
		return names
	}
	kill := func(sql string) {
		left := len(temps()) // a killed statement's temporary stays (swept much later)
		writing := func() bool { return len(temps()) > left }
		cl := dial(t, a.addr)
		go func() {
			defer cl.Close()
			cl.ExecuteUpdate(context.Background(), sql)
		}()
		for deadline := time.Now().Add(30 * time.Second); !writing(); time.Sleep(time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%s: no part being written after 30s", sql)
			}
		}
		a.stop(t, syscall.SIGKILL)
	}
	writeNow := func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		cl := dial(t, b.addr)
		defer cl.Close()
		if _, err := cl.ExecuteUpdate(ctx, "INSERT INTO w.k VALUES (0, 'after the kill')"); err != nil {
			t.Fatalf("INSERT on b after a was killed: %v", err)
		}
	}

	n0, _ := state(b.process)
	kill("INSERT INTO w.k SELECT l_orderkey, l_comment FROM lineitem, " + triple)
	writeNow()
	switch n, _ := state(b.process); n {
	case n0 + 1:
		t.Log("killed INSERT: old version")
	case 2*n0 + 1:
		t.Log("killed INSERT: new version")
	default:
		t.Errorf("killed INSERT left %d rows, want %d or %d", n, n0+1, 2*n0+1)
	}

	a = startClusterNode(t, bin, "a", args...)
	n1, s1 := state(b.process)
	kill("UPDATE w.k SET k = k + 1")
	writeNow()
	n, sum := state(b.process)
	switch {
	case n != n1+1:
		t.Errorf("killed UPDATE: %d rows, want %d", n, n1+1)
	case sum == s1:
		t.Log("killed UPDATE: old version")
	case sum == s1+n1:
		t.Log("killed UPDATE: new version")
	default:
		t.Errorf("killed UPDATE: sum(k) = %d, want %d (old) or %d (new)", sum, s1, s1+n1)
	}
	a = startClusterNode(t, bin, "a", args...)
	if na, sa := state(a.process); na != n || sa != sum {
		t.Errorf("restarted node sees %d rows, sum %d; the other %d, %d", na, sa, n, sum)
	}
}
