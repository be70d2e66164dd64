package catalog

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// manifestFileName lists the live data files of a table folder. Tables
// rewritten by UPDATE/DELETE have one; without it every data file in the
// folder is live.
//
// Rewrite (copy-on-write) keeps readers from ever seeing a mix of old and
// new rows:
//  1. pin the current files in the manifest (and the columns in
//     _schema.arrow, so a table emptied by DELETE keeps its schema);
//  2. write the new contents as a new part file (hidden name, renamed in:
//     not yet live, the manifest does not list it);
//  3. replace the manifest by one listing only the new part (write to a
//     hidden name, fsync, rename: the commit point);
//  4. leave the old files: a query that took the old snapshot may still
//     be scanning them. sweep removes them later.
//
// A crash before 3 leaves the old version, after it the new one; files
// not listed in the manifest are ignored (a crash may leave such orphans)
// until sweep removes them too.
const manifestFileName = "_files.json"

// sweepGrace is how long files stay after they stopped being live: longer
// than any query reading the old snapshot runs, and than any rewrite or
// insert (on this node or another sharing the folder) takes between writing
// its part and listing it.
const sweepGrace = 30 * time.Minute

// sweep removes what a table folder no longer needs: temporaries older
// than grace (a crashed or failed write's), and, in a manifest-listed
// folder, data files it does not list once both they and the manifest are
// older than grace (the manifest's time bounds when a file was dropped
// from it). Called at each rewrite and when the catalog opens.
func (c *Catalog) sweep(dir string, grace time.Duration) {
	live, listed, err := liveFiles(dir)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-grace)
	dropped := false
	if listed {
		mi, err := os.Stat(filepath.Join(dir, manifestFileName))
		dropped = err == nil && !mi.ModTime().After(cutoff)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	for _, e := range ents {
		n := e.Name()
		dead := strings.HasPrefix(n, ".tmp-") || dropped && !hidden(n) && formatOf(n) != "" && !slices.Contains(live, n)
		if !dead || e.IsDir() {
			continue
		}
		if info, err := e.Info(); err != nil || info.ModTime().After(cutoff) {
			continue
		}
		p := filepath.Join(dir, n)
		if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
			c.log.Warn("catalog: removing a file no longer live", zap.String("path", p), zap.Error(err))
		}
		delete(c.fileCache, p)
	}
}

// sweepSchema removes what crashed DDL left in a schema folder, once older
// than grace: tables or views being built (.tmp-*) and dropped folders not
// yet deleted (.dropped-*).
func (c *Catalog) sweepSchema(dir string, grace time.Duration) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return
	}
	cutoff := time.Now().Add(-grace)
	for _, e := range ents {
		n := e.Name()
		if !strings.HasPrefix(n, ".tmp-") && !strings.HasPrefix(n, ".dropped-") {
			continue
		}
		p := filepath.Join(dir, n)
		if newest(p).After(cutoff) {
			continue
		}
		if err := os.RemoveAll(p); err != nil {
			c.log.Warn("catalog: removing a leftover of a crashed statement", zap.String("path", p), zap.Error(err))
		}
	}
}

// newest is the latest mtime of p and, for a folder, of its entries (a
// table being built gets its files written inside; the folder's own
// mtime changes only when they are created).
func newest(p string) time.Time {
	info, err := os.Stat(p)
	if err != nil {
		return time.Now()
	}
	t := info.ModTime()
	if !info.IsDir() {
		return t
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return time.Now()
	}
	for _, e := range ents {
		if i, err := e.Info(); err == nil && i.ModTime().After(t) {
			t = i.ModTime()
		} else if err != nil {
			return time.Now()
		}
	}
	return t
}

type manifest struct {
	Files []string `json:"files"`
}

// liveFiles returns the names of the live data files of a table folder,
// sorted, and whether a manifest lists them.
func liveFiles(dir string) ([]string, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestFileName))
	if err == nil {
		var m manifest
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, true, fmt.Errorf("read %s: %w", filepath.Join(dir, manifestFileName), err)
		}
		for _, n := range m.Files {
			if n != filepath.Base(n) || hidden(n) || formatOf(n) == "" {
				return nil, true, fmt.Errorf("read %s: bad file name %q", filepath.Join(dir, manifestFileName), n)
			}
		}
		sort.Strings(m.Files)
		return m.Files, true, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, false, fmt.Errorf("read %s: %w", filepath.Join(dir, manifestFileName), err)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, false, fmt.Errorf("list table folder %s: %w", dir, err)
	}
	var files []string
	for _, e := range ents {
		if n := e.Name(); !hidden(n) && !e.IsDir() && formatOf(n) != "" {
			files = append(files, n)
		}
	}
	sort.Strings(files)
	return files, false, nil
}

// writeManifest atomically replaces dir's manifest.
func writeManifest(dir string, files []string) error {
	b, err := json.Marshal(manifest{Files: append([]string{}, files...)})
	if err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(dir, manifestFileName), b)
}

// writeFileAtomic writes p through a hidden temporary name, synced, then
// renamed over p.
func writeFileAtomic(p string, b []byte) error {
	tmp := filepath.Join(filepath.Dir(p), ".tmp-"+filepath.Base(p)+"-"+randomSuffix())
	f, err := os.Create(tmp)
	if err != nil {
		return err
	}
	_, err = f.Write(b)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, p)
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

// LockTable serializes statements that change a table's rows on this node
// (INSERT, UPDATE, DELETE) and returns the unlock function.
func (c *Catalog) LockTable(schema, name string) func() {
	m, _ := c.writeLocks.LoadOrStore(strings.ToLower(schema)+"."+strings.ToLower(name), &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}

// ErrTableChanged is the cause of Rewrite's refusal when the table's files
// changed since the snapshot its rows were computed from (errors.Is).
var ErrTableChanged = errors.New("table changed since the statement's snapshot")

// Rewrite replaces all rows of a Parquet base table by r's rows (copy-on-
// write, see manifestFileName) and returns the rows written. base is the
// snapshot r was computed from: when the table's live files differ from
// base's at the commit (another statement, on any node, committed
// meanwhile), the rewrite is refused with ErrTableChanged and nothing
// changes. The check and the manifest write are one critical section under
// the table's cross-process lock.
func (c *Catalog) Rewrite(ctx context.Context, schema, name string, base *Table, stmt string, r array.RecordReader) (int64, error) {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	if err := c.denyReadOnlySchema(schema); err != nil {
		return 0, err
	}
	t, err := c.appendTarget(ctx, schema, name, stmt)
	if err != nil {
		return 0, err
	}
	want := make([]string, len(base.Files))
	for i, f := range base.Files {
		want[i] = filepath.Base(f.Path)
	}
	sort.Strings(want)
	var kc *keyCollector
	if keys := Keys(t.cols); len(keys) > 0 {
		// The new rows replace every row: only they must not collide.
		kc = newKeyCollector(r, name, t.cols, keys)
		r = kc
	}
	n, part, err := writeParquetPart(ctx, t.dir, t.cols, r)
	if err != nil {
		return 0, err
	}
	err = c.commit(ctx, t, func() error {
		old, listed, err := liveFiles(t.dir)
		if err != nil {
			return err
		}
		if !slices.Equal(old, want) {
			return &qerr.Error{Kind: qerr.InvalidArgument, Err: ErrTableChanged,
				Msg: fmt.Sprintf("Table '%s.%s' was changed by another statement during the %s; retry", schema, name, stmt)}
		}
		// Pin the old files first: once the new part is renamed in, a
		// crash must not make it live next to them.
		if !listed {
			if err := writeManifest(t.dir, old); err != nil {
				return err
			}
		}
		// Keep the columns of a table that had none declared (emptied by
		// DELETE, it would have no file to take them from).
		if _, err := os.Stat(filepath.Join(t.dir, schemaFileName)); errors.Is(err, os.ErrNotExist) {
			b, err := encodeSchema(t.cols)
			if err == nil {
				err = writeFileAtomic(filepath.Join(t.dir, schemaFileName), b)
			}
			if err != nil {
				return err
			}
		}
		var next []string
		if n > 0 {
			if err := os.Rename(partTemp(t.dir, part), filepath.Join(t.dir, part)); err != nil {
				return err
			}
			next = []string{part}
		}
		if err := writeManifest(t.dir, next); err != nil {
			if n > 0 {
				os.Remove(filepath.Join(t.dir, part))
			}
			return err
		}
		c.mu.Lock()
		c.sweep(t.dir, c.sweepGrace)
		c.mu.Unlock()
		return nil
	})
	if err != nil {
		if n > 0 {
			os.Remove(partTemp(t.dir, part))
		}
		return 0, err
	}
	if kc != nil && n > 0 {
		c.keys.remember(filepath.Join(t.dir, part), kc)
	}
	return n, nil
}
