package integration

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/quiverdb/quiver/integration/slt"
)

// TestSLT runs every .slt file of testdata/slt twice, in-process through
// the engine API and through Flight SQL, each run over a fresh data
// directory holding the TPC-H SF 0.01 schema "tpch" and an empty default
// schema "test".
func TestSLT(t *testing.T) {
	files, err := filepath.Glob("testdata/slt/*.slt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no .slt files: %v", err)
	}
	for _, mode := range []string{"inprocess", "flight"} {
		t.Run(mode, func(t *testing.T) {
			for _, f := range files {
				t.Run(filepath.Base(f), func(t *testing.T) {
					db := sltDB(t, mode)
					fails, err := slt.RunFile(context.Background(), db, f)
					if err != nil {
						t.Fatal(err)
					}
					for _, fl := range fails {
						t.Errorf("%s", fl)
					}
				})
			}
		})
	}
}

func sltDB(t *testing.T, mode string) slt.DB {
	dir := t.TempDir()
	copyTree(t, filepath.Join(sf001, "tpch"), filepath.Join(dir, "tpch"))
	if err := os.MkdirAll(filepath.Join(dir, "test"), 0o755); err != nil {
		t.Fatal(err)
	}
	eng := newEngine(t, dir, "test")
	if mode == "inprocess" {
		return &slt.EngineDB{Engine: eng, Session: eng.NewSession()}
	}
	return &slt.FlightDB{Client: serve(t, eng), Session: t.Name()}
}
