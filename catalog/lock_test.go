package catalog

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/qerr"
)

// TestLockExcludesOtherCatalogs: two catalogs on one data dir (as two
// nodes on a shared volume) exclude each other on a table's lock, even in
// one process (each acquisition holds its own open file), and a waiter
// gets in once the holder releases.
func TestLockExcludesOtherCatalogs(t *testing.T) {
	dir := t.TempDir()
	c1, c2 := open(t, dir), open(t, dir)
	unlock, err := c1.lock(ctx, "s", "t")
	if err != nil {
		t.Fatal(err)
	}
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	_, err = c2.lock(short, "s", "t")
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("second catalog took a held lock: %v", err)
	}
	// Another table's lock is independent.
	other, err := c2.lock(ctx, "s", "u")
	if err != nil {
		t.Fatal(err)
	}
	other()
	got := make(chan error, 1)
	go func() {
		u, err := c2.lock(ctx, "s", "t")
		if err == nil {
			u()
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("lock taken while held: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	unlock()
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	// Names SQL could give but no table can have stay inside .locks.
	if u, err := c1.lock(ctx, "../..", "../x"); err != nil {
		t.Fatal(err)
	} else {
		u()
	}
}

// TestAppendRewriteAcrossCatalogs: appends through one catalog race
// rewrites through another on the same folder. Every append must survive:
// a rewrite computed from a snapshot that misses an append is refused
// (ErrTableChanged), never committed over it.
func TestAppendRewriteAcrossCatalogs(t *testing.T) {
	dir := t.TempDir()
	c1, c2 := open(t, dir), open(t, dir)
	if err := c1.CreateSchema(ctx, "s", false); err != nil {
		t.Fatal(err)
	}
	if err := c2.CreateTable(ctx, "s", "t", testSchema, false); err != nil {
		t.Fatal(err)
	}
	const appends = 60
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := range appends {
			rec := testBatch(t, testSchema, i, 1)
			rdr, _ := array.NewRecordReader(testSchema, []arrow.RecordBatch{rec})
			if _, err := c1.Append(ctx, "s", "t", rdr); err != nil {
				t.Errorf("append %d: %v", i, err)
			}
			rdr.Release()
			rec.Release()
		}
	}()
	var rewrites, refused int
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for loop := true; loop; {
		select {
		case <-done:
			loop = false
		default:
		}
		// "Rewrite" the table to the same number of rows: the count
		// stays what the snapshot had.
		base, err := c2.Table(ctx, "s", "t")
		if err != nil {
			t.Fatal(err)
		}
		rec := testBatch(t, testSchema, 1000, int(base.Stats.RowCount))
		rdr, _ := array.NewRecordReader(testSchema, []arrow.RecordBatch{rec})
		_, err = c2.Rewrite(ctx, "s", "t", base, "UPDATE", rdr)
		rdr.Release()
		rec.Release()
		switch {
		case err == nil:
			rewrites++
		case errors.Is(err, ErrTableChanged):
			wantKind(t, err, qerr.InvalidArgument, "was changed by another statement")
			refused++
		default:
			t.Fatal(err)
		}
	}
	t.Logf("%d rewrites committed, %d refused", rewrites, refused)
	if rewrites == 0 {
		t.Fatal("no rewrite committed")
	}
	for _, c := range []*Catalog{c1, c2, open(t, dir)} {
		tb, err := c.Table(ctx, "s", "t")
		if err != nil || tb.Stats.RowCount != appends {
			t.Fatalf("after the race: %d rows, want %d (%v)", tb.Stats.RowCount, appends, err)
		}
	}
}
