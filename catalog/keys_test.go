package catalog

import (
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

func keyedSchema(t *testing.T, keys ...Key) *arrow.Schema {
	t.Helper()
	sc, err := WithKeys(testSchema, keys)
	if err != nil {
		t.Fatal(err)
	}
	return sc
}

func appendRows(c *Catalog, sc *arrow.Schema, recs ...arrow.RecordBatch) (int64, error) {
	rdr, _ := array.NewRecordReader(sc, recs)
	defer rdr.Release()
	return c.Append(ctx, "s", "t", rdr)
}

// TestKeysSurviveReopen: keys declared at CREATE TABLE come back, in
// order, from another catalog on the same dir; CREATE ... AS (rows) drops
// keys its columns carried.
func TestKeysSurviveReopen(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	if err := c.CreateSchema(ctx, "s", false); err != nil {
		t.Fatal(err)
	}
	want := []Key{{Name: "PRIMARY", Primary: true, Columns: []string{"name", "id"}}, {Name: "d", Columns: []string{"day"}}}
	// Declared with the unique key first: Keys lists PRIMARY first.
	sc := keyedSchema(t, want[1], want[0])
	if err := c.CreateTable(ctx, "s", "t", sc, false); err != nil {
		t.Fatal(err)
	}
	tb, err := open(t, dir).Table(ctx, "s", "t")
	if err != nil {
		t.Fatal(err)
	}
	got := Keys(tb.Columns)
	if len(got) != 2 || got[0].Name != "PRIMARY" || !got[0].Primary || got[0].Columns[0] != "name" || got[0].Columns[1] != "id" ||
		got[1].Name != "d" || got[1].Primary || len(got[1].Columns) != 1 || got[1].Columns[0] != "day" {
		t.Fatalf("keys after reopen: %+v, want %+v", got, want)
	}
	rec := testBatch(t, sc, 0, 3)
	defer rec.Release()
	rdr, _ := array.NewRecordReader(sc, []arrow.RecordBatch{rec})
	defer rdr.Release()
	if _, err := c.CreateTableAs(ctx, "s", "copy", sc, rdr, false); err != nil {
		t.Fatal(err)
	}
	cp, err := c.Table(ctx, "s", "copy")
	if err != nil {
		t.Fatal(err)
	}
	if k := Keys(cp.Columns); len(k) != 0 {
		t.Fatalf("CREATE ... AS copied keys %+v", k)
	}
	if _, err := WithKeys(testSchema, []Key{{Name: "x", Columns: []string{"nope"}}}); qerr.KindOf(err) != qerr.InvalidArgument {
		t.Fatalf("key on a missing column: %v", err)
	}
}

// TestKeyEnforcement: duplicates of live rows, of earlier rows of the same
// write, and after a rewrite are refused with 1062 and nothing is written;
// NULLs in a UNIQUE key never collide.
func TestKeyEnforcement(t *testing.T) {
	dir := t.TempDir()
	c := open(t, dir)
	if err := c.CreateSchema(ctx, "s", false); err != nil {
		t.Fatal(err)
	}
	sc := keyedSchema(t, Key{Name: "PRIMARY", Primary: true, Columns: []string{"id"}}, Key{Name: "name", Columns: []string{"name"}})
	if err := c.CreateTable(ctx, "s", "t", sc, false); err != nil {
		t.Fatal(err)
	}
	// Rows 10 and 20 have NULL names: NULLs never collide.
	r1 := testBatch(t, sc, 10, 1)
	r2 := testBatch(t, sc, 20, 1)
	defer r1.Release()
	defer r2.Release()
	if _, err := appendRows(c, sc, r1, r2); err != nil {
		t.Fatalf("two NULL names: %v", err)
	}
	dup := testBatch(t, sc, 20, 1)
	defer dup.Release()
	_, err := appendRows(c, sc, dup)
	wantKind(t, err, qerr.InvalidArgument, "Duplicate entry '20' for key 't.PRIMARY'")
	// 11 and 37 share the name "nl" (i%26).
	a, b := testBatch(t, sc, 11, 1), testBatch(t, sc, 37, 1)
	defer a.Release()
	defer b.Release()
	_, err = appendRows(c, sc, a, b)
	wantKind(t, err, qerr.InvalidArgument, "Duplicate entry 'nl' for key 't.name'")
	if _, err := appendRows(c, sc, a); err != nil {
		t.Fatal(err)
	}
	_, err = appendRows(c, sc, b)
	wantKind(t, err, qerr.InvalidArgument, "Duplicate entry 'nl' for key 't.name'")
	tb, err := c.Table(ctx, "s", "t")
	if err != nil || tb.Stats.RowCount != 3 {
		t.Fatalf("after refused writes: %d rows, want 3 (%v)", tb.Stats.RowCount, err)
	}
	// A rewrite only checks its own rows; afterwards the old files are not
	// live and their keys may be used again.
	_, err = c.Rewrite(ctx, "s", "t", tb, "UPDATE", mustReader(sc, a, b))
	wantKind(t, err, qerr.InvalidArgument, "Duplicate entry 'nl' for key 't.name'")
	if _, err := c.Rewrite(ctx, "s", "t", tb, "UPDATE", mustReader(sc, b)); err != nil {
		t.Fatal(err)
	}
	if _, err := appendRows(c, sc, r1, r2); err != nil {
		t.Fatalf("keys of rows rewritten away: %v", err)
	}
	_, err = appendRows(c, sc, a)
	wantKind(t, err, qerr.InvalidArgument, "Duplicate entry 'nl' for key 't.name'")
	_, err = appendRows(c, sc, r1)
	wantKind(t, err, qerr.InvalidArgument, "Duplicate entry '10' for key 't.PRIMARY'")
}

func mustReader(sc *arrow.Schema, recs ...arrow.RecordBatch) array.RecordReader {
	rdr, _ := array.NewRecordReader(sc, recs)
	return rdr
}

// TestConcurrentDuplicateAcrossCatalogs: two catalogs on one dir (two
// nodes) insert the same keys at once: for each key exactly one insert
// commits.
func TestConcurrentDuplicateAcrossCatalogs(t *testing.T) {
	dir := t.TempDir()
	c1, c2 := open(t, dir), open(t, dir)
	if err := c1.CreateSchema(ctx, "s", false); err != nil {
		t.Fatal(err)
	}
	sc := keyedSchema(t, Key{Name: "PRIMARY", Primary: true, Columns: []string{"id"}})
	if err := c1.CreateTable(ctx, "s", "t", sc, false); err != nil {
		t.Fatal(err)
	}
	const keys = 20
	var mu sync.Mutex
	won := map[int]int{}
	var wg sync.WaitGroup
	for _, c := range []*Catalog{c1, c2} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range keys {
				rec := testBatch(t, sc, 100+i, 1)
				_, err := appendRows(c, sc, rec)
				rec.Release()
				switch {
				case err == nil:
					mu.Lock()
					won[i]++
					mu.Unlock()
				case qerr.KindOf(err) != qerr.InvalidArgument:
					t.Errorf("key %d: %v", i, err)
				}
			}
		}()
	}
	wg.Wait()
	for i := range keys {
		if won[i] != 1 {
			t.Errorf("key %d committed %d times", i, won[i])
		}
	}
	tb, err := open(t, dir).Table(ctx, "s", "t")
	if err != nil || tb.Stats.RowCount != keys {
		t.Fatalf("%d rows, want %d (%v)", tb.Stats.RowCount, keys, err)
	}
}

// BenchmarkKeyedAppend: one-row INSERTs into a keyed table of 1M rows,
// with the key sets of the live files cached (as at every commit) and
// with the cache dropped before each insert (every live file's key column
// read again), and without a key (the cost of the write itself).
func BenchmarkKeyedAppend(b *testing.B) {
	for _, mode := range []string{"cached", "uncached", "nokey"} {
		b.Run(mode, func(b *testing.B) {
			c, err := Open(ctx, Options{DataDir: b.TempDir(), DefaultSchema: "s"}, zap.NewNop())
			if err != nil {
				b.Fatal(err)
			}
			if err := c.CreateSchema(ctx, "s", true); err != nil {
				b.Fatal(err)
			}
			sc := testSchema
			if mode != "nokey" {
				sc, _ = WithKeys(testSchema, []Key{{Name: "PRIMARY", Primary: true, Columns: []string{"id"}}})
			}
			if err := c.CreateTable(ctx, "s", "t", sc, false); err != nil {
				b.Fatal(err)
			}
			const big = 1 << 20
			bt := &testing.T{}
			rec := testBatch(bt, sc, 0, big)
			if _, err := appendRows(c, sc, rec); err != nil {
				b.Fatal(err)
			}
			rec.Release()
			b.ResetTimer()
			for i := range b.N {
				if mode == "uncached" {
					c.keys.mu.Lock()
					c.keys.files, c.keys.n = nil, 0
					c.keys.mu.Unlock()
				}
				one := testBatch(bt, sc, big+i, 1)
				if _, err := appendRows(c, sc, one); err != nil {
					b.Fatal(err)
				}
				one.Release()
			}
		})
	}
}
