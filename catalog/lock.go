package catalog

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/quiverdb/quiver/internal/flock"
	"github.com/quiverdb/quiver/qerr"
)

// Writes are serialized across every process sharing the data dir (the
// nodes of a cluster on one volume) by flock(2) on files under
// <data>/.locks, held only around commit points, never while a
// statement computes its rows:
//
//	.locks/_root             CREATE/DROP DATABASE
//	.locks/<schema>/_schema  CREATE/DROP TABLE/VIEW in the schema (and DROP DATABASE)
//	.locks/<schema>/<table>  a table's commits: part rename-in, manifest
//	                         read-check-write, single-file → folder; DROP TABLE
//
// Order: root, then schema, then table. Names starting with '_' are never
// schemas or tables (hidden), so "_root"/"_schema" cannot clash with one.
// The lock files stay (empty, one per name ever written): removing one
// while another process waits on it would let two holders in.
const lockDirName = ".locks"

// lock takes the cross-process lock of a schema (table == "") or of a
// table; schema == "" is the root lock. It waits while another process
// holds it (until ctx ends).
func (c *Catalog) lock(ctx context.Context, schema, table string) (func(), error) {
	if table != "" && ctx.Value(heldKey{c, schema, table}) != nil {
		return func() {}, nil // HoldTable took it for this statement
	}
	dir := filepath.Join(c.dataDir, lockDirName)
	name := "_root"
	if schema != "" {
		dir, name = filepath.Join(dir, lockName(schema)), "_schema"
		if table != "" {
			name = lockName(table)
		}
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("catalog lock: %w", err)
	}
	unlock, err := flock.Acquire(ctx, filepath.Join(dir, name))
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		return nil, qerr.Wrap(qerr.Internal, err,
			"cannot lock the data directory for this write (table writes need a filesystem with flock(2) support: a local disk, or NFS with locking)")
	}
	return unlock, nil
}

// lockName is name as a lock file name: names SQL can never create (with
// '/', "..", ...) are hex-encoded, so no name leads out of .locks.
func lockName(name string) string {
	if validName("", name) != nil {
		if len(name) > maxNameChars {
			// Hex of a long name would pass the file name limit.
			sum := sha256.Sum256([]byte(name))
			return "~~" + hex.EncodeToString(sum[:])
		}
		return "~" + hex.EncodeToString([]byte(name))
	}
	return name
}

// lockAll takes the locks in order and returns one release for them all.
func (c *Catalog) lockAll(ctx context.Context, keys ...[2]string) (func(), error) {
	var held []func()
	release := func() {
		for i := len(held) - 1; i >= 0; i-- {
			held[i]()
		}
	}
	for _, k := range keys {
		u, err := c.lock(ctx, k[0], k[1])
		if err != nil {
			release()
			return nil, err
		}
		held = append(held, u)
	}
	return release, nil
}

type heldKey struct {
	c             *Catalog
	schema, table string
}

// HoldTable takes a table's cross-process lock for a whole statement, for
// a rewrite that kept losing to commits of other nodes: computed under the
// lock, it cannot conflict (it waits for their commits, and they for it).
// The catalog's writes to the table with the returned context do not take
// the lock again.
func (c *Catalog) HoldTable(ctx context.Context, schema, name string) (context.Context, func(), error) {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	unlock, err := c.lock(ctx, schema, name)
	if err != nil {
		return nil, nil, err
	}
	return context.WithValue(ctx, heldKey{c, schema, name}, true), unlock, nil
}
