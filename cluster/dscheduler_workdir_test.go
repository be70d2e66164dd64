package cluster_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/engine"
)

func newWorkDirDist(t *testing.T, workDir string, remove bool) (*cluster.Dist, error) {
	t.Helper()
	eng, err := engine.New(context.Background(), engine.Config{DataDir: t.TempDir(), WorkDir: t.TempDir()}, testLog(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { eng.Close() })
	return cluster.NewDist(cluster.DistConfig{
		NodeName: "node/1", Members: func() []cluster.Node { return nil },
		Dial: func(context.Context, string) (flight.FlightServiceClient, error) {
			t.Error("unexpected dial")
			return nil, os.ErrInvalid
		},
		Catalog: eng.Catalog(), Local: eng.Scheduler(), WorkDir: workDir, RemoveWorkDir: remove, Log: testLog(t),
	})
}

// The shuffle directory of a node: a crashed run's files are removed at
// start, a second process cannot share it, and a clean Close removes it
// (with the whole work dir when it was the default temporary one).
func TestDistWorkDirLifecycle(t *testing.T) {
	root := t.TempDir()
	work := filepath.Join(root, "quiver-node1")
	stale := filepath.Join(work, "shuffle", "node_1", "q1", "0-0-0.arrow")
	if err := os.MkdirAll(filepath.Dir(stale), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(stale, []byte("left by a crash"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := newWorkDirDist(t, work, true)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("a crashed run's shuffle file survived the start: %v", err)
	}
	// Another process (here: another Dist) with the same node and work dir.
	if d2, err := newWorkDirDist(t, work, true); err == nil {
		d2.Close()
		t.Error("two nodes share one shuffle directory")
	} else if !strings.Contains(err.Error(), "in use") {
		t.Errorf("second node: %v", err)
	}
	d.Close()
	if _, err := os.Stat(work); !os.IsNotExist(err) {
		t.Errorf("default work dir left after a clean exit: %v", err)
	}

	// A work dir the user chose stays; only the node's shuffle dir goes.
	d, err = newWorkDirDist(t, work, false)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	ents, err := os.ReadDir(filepath.Join(work, "shuffle"))
	if err != nil {
		t.Fatalf("chosen work dir removed: %v", err)
	}
	if len(ents) != 0 {
		t.Errorf("left in the work dir: %v", ents)
	}
}
