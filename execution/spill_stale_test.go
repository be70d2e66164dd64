package execution

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// spillSome makes a spiller under work and writes one file with it.
func spillSome(t *testing.T, work string) *Spiller {
	t.Helper()
	s := NewSpiller(&TaskContext{QueryID: "q1", SpillDir: work, Alloc: NewQueryAllocator(memory.NewGoAllocator(), 0)}, "join")
	schema := arrow.NewSchema([]arrow.Field{{Name: "x", Type: arrow.PrimitiveTypes.Int64}}, nil)
	b := array.NewInt64Builder(memory.NewGoAllocator())
	b.AppendValues([]int64{1, 2, 3}, nil)
	a := b.NewArray()
	rec := array.NewRecordBatch(schema, []arrow.Array{a}, 3)
	defer rec.Release()
	a.Release()
	w, err := s.Create(schema)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Write(rec); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Finish(); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestSpillCrashHelper is the process TestRemoveStaleSpill crashes: it
// spills and exits without closing.
func TestSpillCrashHelper(t *testing.T) {
	work := os.Getenv("QUIVER_SPILL_CRASH_DIR")
	if work == "" {
		t.Skip("run by TestRemoveStaleSpill")
	}
	spillSome(t, work)
	os.Exit(0)
}

// TestRemoveStaleSpill: the spill directory of a process that died
// (a real one, exiting without cleanup) and one without an owner file are
// removed at start; a live spiller's (this process's) stays, as do files
// that are not spill directories.
func TestRemoveStaleSpill(t *testing.T) {
	work := t.TempDir()
	cmd := exec.Command(os.Args[0], "-test.run=^TestSpillCrashHelper$")
	cmd.Env = append(os.Environ(), "QUIVER_SPILL_CRASH_DIR="+work)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("crash helper: %v\n%s", err, out)
	}
	dead, _ := filepath.Glob(filepath.Join(work, "spill", "q1-*"))
	if len(dead) != 1 {
		t.Fatalf("crashed process left %v, want one directory", dead)
	}
	if err := os.Mkdir(filepath.Join(work, "spill", "ownerless"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(work, "spill", "note.txt"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	live := spillSome(t, work)
	defer live.Close()

	n, err := RemoveStaleSpill(work)
	if err != nil || n != 2 {
		t.Fatalf("removed %d, %v; want 2", n, err)
	}
	for _, p := range []string{dead[0], filepath.Join(work, "spill", "ownerless")} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s still there (%v)", p, err)
		}
	}
	for _, p := range []string{live.dir, filepath.Join(work, "spill", "note.txt")} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
	}
	if n, err := RemoveStaleSpill(work); err != nil || n != 0 {
		t.Fatalf("second pass removed %d, %v", n, err)
	}
	live.Close()
	if ents, _ := os.ReadDir(filepath.Join(work, "spill")); len(ents) != 1 {
		t.Fatalf("after Close: %v", ents)
	}
	if n, err := RemoveStaleSpill(t.TempDir()); err != nil || n != 0 {
		t.Fatalf("no spill dir: %d, %v", n, err)
	}
}
