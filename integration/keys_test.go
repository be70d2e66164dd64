package integration

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestKeysAcrossNodes: two `quiver serve` processes on one data directory
// (nodes on a shared volume). A key declared through one node is reported
// and enforced by the other; both insert the same keys at once and each
// key is committed exactly once, the loser getting MySQL's 1062 as
// InvalidArgument.
func TestKeysAcrossNodes(t *testing.T) {
	bin := buildQuiver(t)
	data := filepath.Join(t.TempDir(), "data")
	a := startQuiver(t, bin, "--data", data, "--default-schema", "k")
	b := startQuiver(t, bin, "--data", data, "--default-schema", "k")
	execUpdate(t, a, "CREATE TABLE k.t (id BIGINT PRIMARY KEY, node VARCHAR(1))")

	cb := dial(t, b.addr)
	defer cb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	schema := "k"
	info, err := cb.GetPrimaryKeys(ctx, flightsql.TableRef{DBSchema: &schema, Table: "t"})
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := cb.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	var pk []string
	for rdr.Next() {
		r := rdr.RecordBatch()
		for i := 0; i < int(r.NumRows()); i++ {
			pk = append(pk, r.Column(3).ValueStr(i)+" "+r.Column(5).ValueStr(i))
		}
	}
	rdr.Release()
	if strings.Join(pk, ",") != "id PRIMARY" {
		t.Fatalf("GetPrimaryKeys on the other node: %q", pk)
	}

	const keys = 40
	ca := dial(t, a.addr)
	defer ca.Close()
	won := map[int]string{}
	count := map[string]int{}
	for i := range keys {
		// Both nodes send key i at the same moment.
		var wg sync.WaitGroup
		errs := map[string]error{}
		var mu sync.Mutex
		for name, cl := range map[string]*flightsql.Client{"a": ca, "b": cb} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := cl.ExecuteUpdate(ctx, fmt.Sprintf("INSERT INTO k.t VALUES (%d, '%s')", i, name))
				mu.Lock()
				errs[name] = err
				mu.Unlock()
			}()
		}
		wg.Wait()
		for name, err := range errs {
			if err == nil {
				if w, ok := won[i]; ok {
					t.Errorf("key %d committed by %s and %s", i, w, name)
				}
				won[i] = name
				count[name]++
			} else if status.Code(err) != codes.InvalidArgument || !strings.Contains(err.Error(), fmt.Sprintf("Duplicate entry '%d' for key 't.PRIMARY'", i)) {
				t.Errorf("INSERT %d on %s: %v", i, name, err)
			}
		}
	}
	t.Logf("keys won by a: %d, by b: %d", count["a"], count["b"])
	if len(won) != keys {
		t.Errorf("%d keys committed, want %d", len(won), keys)
	}
	for _, p := range []*process{a, b} {
		if got := joinRows(queryRows(t, p, "SELECT COUNT(*), COUNT(DISTINCT id) FROM k.t")); got != fmt.Sprintf("%d|%d", keys, keys) {
			t.Errorf("count, distinct ids: %s, want %d|%d", got, keys, keys)
		}
	}
}
