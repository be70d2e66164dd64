package catalog

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// Options configure a catalog.
type Options struct {
	DataDir       string   // root of <schema>/<table> files; created tables go here
	DefaultSchema string   // schema for unqualified names
	AllowedDirs   []string // extra directories SQL may read/write files in (INTO OUTFILE)
}

// InformationSchema is the name of the built-in metadata schema.
const InformationSchema = "information_schema"

// File name conventions inside the data dir.
const (
	schemaFileName = "_schema.arrow" // column schema of a table created by SQL
	viewSuffix     = ".view.json"    // a view: {"sql": ..., "schema": ...}
)

// Catalog is the set of schemas, tables and views of a node. All methods are
// safe for concurrent use; Table returns an immutable snapshot.
//
// The data dir is the source of truth: the catalog caches what it read and
// re-reads a table when its file or folder changed (mtime), so files added
// by other processes (other nodes on a shared volume) become visible.
type Catalog struct {
	opts    Options
	log     *zap.Logger
	dataDir string   // absolute, symlinks resolved
	allowed []string // absolute, symlinks resolved (dataDir included)

	mu      sync.RWMutex
	schemas map[string]*schemaState // lower-case name → state
	// fileCache keeps parsed Parquet footers so reloading a table after an
	// append reads only the new file.
	fileCache map[string]cachedFile

	sysOnce sync.Once
	sys     []*Table // information_schema tables

	// registered holds system tables other packages add (system.nodes):
	// schema → name → table. Guarded by mu.
	registered map[string]map[string]*Table

	// writeLocks serializes the statements that change one table's rows on
	// this node: "schema.table" → *sync.Mutex.
	writeLocks sync.Map

	// sweepGrace: see sweep (a field so tests can shorten it).
	sweepGrace time.Duration

	keys keyCache // key sets of live files, for PRIMARY KEY/UNIQUE checks
}

type schemaState struct {
	name   string
	dir    string
	ver    version // of dir when tables was last synced
	synced bool
	tables map[string]*tableState
}

type tableState struct {
	path  string // folder, single data file, or view file
	ver   version
	table *Table // nil when the table failed to load (logged once)
}

// version is what the catalog saw of a table's (or schema's) file or
// folder when it last read it. Writers replace files by rename and add
// parts to folders, which changes the entry's mtime, or for a file its
// identity; but mtimes tick coarsely (a jiffy on Linux, up to seconds on
// some filesystems), so a change made just after a read may leave the mtime
// equal. A read taken within racyWindow of the mtime is therefore not
// trusted: the entry is re-read until a read happens later than that (as
// git does for racily clean index entries). Nodes sharing the volume must
// have clocks within racyWindow of the file server's.
type version struct {
	info os.FileInfo // nil: never read
	seen time.Time   // when info was taken
}

const racyWindow = 2 * time.Second

func versionOf(info os.FileInfo, seen time.Time) version { return version{info: info, seen: seen} }

// current reports whether info (a fresh stat) shows the entry unchanged.
func (v version) current(info os.FileInfo) bool {
	return v.info != nil && os.SameFile(v.info, info) && v.info.ModTime().Equal(info.ModTime()) &&
		v.info.Size() == info.Size() && v.seen.Sub(v.info.ModTime()) >= racyWindow
}

// fingerprint identifies an immutable data file's contents (footer cache).
type fingerprint struct {
	mod  time.Time
	size int64
}

func fingerprintOf(info os.FileInfo) fingerprint {
	return fingerprint{mod: info.ModTime(), size: info.Size()}
}

type cachedFile struct {
	fp     fingerprint
	file   File
	schema *arrow.Schema
}

// Open scans opts.DataDir and builds the catalog. The data dir (and the
// default schema's folder) are created when missing.
func Open(ctx context.Context, opts Options, log *zap.Logger) (*Catalog, error) {
	if log == nil {
		log = zap.NewNop()
	}
	if opts.DataDir == "" {
		return nil, fmt.Errorf("catalog: no data directory configured")
	}
	if err := os.MkdirAll(opts.DataDir, 0o755); err != nil {
		return nil, fmt.Errorf("catalog: create data dir: %w", err)
	}
	dataDir, err := realDir(opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("catalog: data dir: %w", err)
	}
	c := &Catalog{
		opts:       opts,
		log:        log,
		dataDir:    dataDir,
		allowed:    []string{dataDir},
		schemas:    map[string]*schemaState{},
		fileCache:  map[string]cachedFile{},
		sweepGrace: sweepGrace,
	}
	for _, d := range opts.AllowedDirs {
		rd, err := realDir(d)
		if err != nil {
			return nil, fmt.Errorf("catalog: allowed dir: %w", err)
		}
		c.allowed = append(c.allowed, rd)
	}
	c.opts.DefaultSchema = strings.ToLower(opts.DefaultSchema)
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.syncRootLocked(); err != nil {
		return nil, err
	}
	if ds := c.opts.DefaultSchema; ds != "" && ds != InformationSchema && c.schemas[ds] == nil {
		if err := os.Mkdir(filepath.Join(dataDir, ds), 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("catalog: create default schema: %w", err)
		}
		if err := c.syncRootLocked(); err != nil {
			return nil, err
		}
	}
	for _, s := range c.schemas {
		c.syncSchemaLocked(s)
		c.sweepSchema(s.dir, c.sweepGrace)
		for _, ts := range s.tables {
			c.sweep(ts.path, c.sweepGrace) // leftovers of rewrites, crashed ones included
		}
	}
	return c, nil
}

func realDir(d string) (string, error) {
	abs, err := filepath.Abs(d)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

func hidden(name string) bool { return strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") }

// DefaultSchema is the schema used for unqualified names when the session has none.
func (c *Catalog) DefaultSchema() string { return c.opts.DefaultSchema }

// DataDir returns the resolved data directory.
func (c *Catalog) DataDir() string { return c.dataDir }

// syncRootLocked re-reads the list of schema folders.
func (c *Catalog) syncRootLocked() error {
	ents, err := os.ReadDir(c.dataDir)
	if err != nil {
		return fmt.Errorf("catalog: list data dir: %w", err)
	}
	seen := map[string]bool{}
	for _, e := range ents {
		if hidden(e.Name()) || !isDir(c.dataDir, e) {
			continue
		}
		name := strings.ToLower(e.Name())
		if name == InformationSchema || seen[name] {
			continue
		}
		seen[name] = true
		if s := c.schemas[name]; s == nil || s.dir != filepath.Join(c.dataDir, e.Name()) {
			c.schemas[name] = &schemaState{name: name, dir: filepath.Join(c.dataDir, e.Name()), tables: map[string]*tableState{}}
		}
	}
	for name := range c.schemas {
		if !seen[name] {
			delete(c.schemas, name)
		}
	}
	return nil
}

// isDir follows symlinks (a schema or table folder may be a link).
func isDir(parent string, e os.DirEntry) bool {
	if e.IsDir() {
		return true
	}
	if e.Type()&os.ModeSymlink == 0 {
		return false
	}
	info, err := os.Stat(filepath.Join(parent, e.Name()))
	return err == nil && info.IsDir()
}

// syncSchemaLocked re-reads a schema folder when it changed: new, changed
// and removed tables. Tables whose files are unchanged keep their snapshot.
func (c *Catalog) syncSchemaLocked(s *schemaState) {
	seen := time.Now()
	info, err := os.Stat(s.dir)
	if err != nil {
		s.tables = map[string]*tableState{}
		return
	}
	if s.synced && s.ver.current(info) {
		// Still re-check each table: files added inside a table folder do
		// not change the schema folder's mtime.
		for name, ts := range s.tables {
			c.refreshTableLocked(s, name, ts)
		}
		return
	}
	ents, err := os.ReadDir(s.dir)
	if err != nil {
		c.log.Warn("catalog: cannot list schema folder", zap.String("dir", s.dir), zap.Error(err))
		return
	}
	found := map[string]string{} // table name → path
	for _, e := range ents {
		n := e.Name()
		if hidden(n) {
			continue
		}
		var name string
		switch {
		case isDir(s.dir, e):
			name = n
		case strings.HasSuffix(strings.ToLower(n), viewSuffix):
			name = n[:len(n)-len(viewSuffix)]
		case formatOf(n) != "":
			name = n[:len(n)-len(filepath.Ext(n))]
		default:
			continue
		}
		name = strings.ToLower(name)
		p := filepath.Join(s.dir, n)
		if prev, dup := found[name]; dup {
			// A folder wins over a single file of the same name unless it
			// holds nothing (a single-file table being turned into a folder).
			if isEmptyTableDir(prev) || (!isDirPath(prev) && isDirPath(p) && !isEmptyTableDir(p)) {
				found[name] = p
			}
			continue
		}
		found[name] = p
	}
	for name, p := range found {
		ts := s.tables[name]
		if ts == nil || ts.path != p {
			ts = &tableState{path: p}
			s.tables[name] = ts
		}
		c.refreshTableLocked(s, name, ts)
	}
	for name := range s.tables {
		if _, ok := found[name]; !ok {
			delete(s.tables, name)
		}
	}
	s.ver, s.synced = versionOf(info, seen), true
}

func isDirPath(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.IsDir()
}

func isEmptyTableDir(p string) bool {
	if !isDirPath(p) {
		return false
	}
	ents, err := os.ReadDir(p)
	if err != nil {
		return true
	}
	for _, e := range ents {
		if e.Name() == schemaFileName || (!hidden(e.Name()) && formatOf(e.Name()) != "") {
			return false
		}
	}
	return true
}

func formatOf(name string) Format {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".parquet":
		return Parquet
	case ".csv":
		return CSV
	}
	return ""
}

// refreshTableLocked reloads a table when its path changed (see version).
func (c *Catalog) refreshTableLocked(s *schemaState, name string, ts *tableState) {
	seen := time.Now()
	info, err := os.Stat(ts.path)
	if err != nil {
		delete(s.tables, name)
		return
	}
	if ts.ver.current(info) { // unchanged (a table that failed to load is logged once)
		return
	}
	ts.ver = versionOf(info, seen)
	t, err := c.loadTable(s.name, name, ts.path, info)
	if err != nil {
		ts.table = nil
		c.log.Warn("catalog: skipping table", zap.String("schema", s.name), zap.String("table", name), zap.Error(err))
		return
	}
	ts.table = t
}

// changed reports (cheaply: one stat) whether a table's path changed since
// its snapshot was taken.
func (ts *tableState) changed() bool {
	info, err := os.Stat(ts.path)
	return err != nil || !ts.ver.current(info)
}

// Schemas lists schema names (including information_schema), sorted.
func (c *Catalog) Schemas() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.syncRootLocked(); err != nil {
		c.log.Warn("catalog: list schemas", zap.Error(err))
	}
	out := []string{InformationSchema}
	out = append(out, c.registeredSchemaNamesLocked()...)
	for name := range c.schemas {
		if c.registered[name] == nil {
			out = append(out, name)
		}
	}
	sort.Strings(out)
	return out
}

// SchemaExists reports whether a schema exists (case-insensitive).
func (c *Catalog) SchemaExists(name string) bool {
	name = strings.ToLower(name)
	if name == InformationSchema {
		return true
	}
	if _, ok := c.registeredSchema(name); ok {
		return true
	}
	c.mu.RLock()
	s := c.schemas[name]
	c.mu.RUnlock()
	if s != nil {
		if _, err := os.Stat(s.dir); err == nil {
			return true
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.syncRootLocked(); err != nil {
		return false
	}
	return c.schemas[name] != nil
}

// schemaLocked finds a schema, re-reading the data dir on a miss.
func (c *Catalog) schemaLocked(name string) (*schemaState, error) {
	s := c.schemas[name]
	if s == nil {
		if err := c.syncRootLocked(); err != nil {
			return nil, err
		}
		s = c.schemas[name]
	}
	if s == nil {
		return nil, qerr.New(qerr.NotFound, "Unknown database '%s'", name)
	}
	return s, nil
}

// Tables lists the tables and views of a schema, sorted by name.
func (c *Catalog) Tables(ctx context.Context, schema string) ([]*Table, error) {
	schema = strings.ToLower(schema)
	if schema == InformationSchema {
		return c.systemTables(), nil
	}
	if ts, ok := c.registeredSchema(schema); ok {
		return ts, nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.schemaLocked(schema)
	if err != nil {
		return nil, err
	}
	c.syncSchemaLocked(s)
	out := make([]*Table, 0, len(s.tables))
	for _, ts := range s.tables {
		if ts.table != nil {
			out = append(out, ts.table)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Table returns one table or view (NotFound: "Table 'schema.name' doesn't exist").
func (c *Catalog) Table(ctx context.Context, schema, name string) (*Table, error) {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	if schema == InformationSchema {
		for _, t := range c.systemTables() {
			if t.Name == name {
				return t, nil
			}
		}
		return nil, qerr.New(qerr.NotFound, "Table '%s.%s' doesn't exist", schema, name)
	}
	if ts, ok := c.registeredSchema(schema); ok {
		for _, t := range ts {
			if t.Name == name {
				return t, nil
			}
		}
		return nil, qerr.New(qerr.NotFound, "Table '%s.%s' doesn't exist", schema, name)
	}
	// Fast path: a cached snapshot whose file/folder is unchanged.
	c.mu.RLock()
	if s := c.schemas[schema]; s != nil {
		if ts := s.tables[name]; ts != nil && ts.table != nil && !ts.changed() {
			t := ts.table
			c.mu.RUnlock()
			return t, nil
		}
	}
	c.mu.RUnlock()

	c.mu.Lock()
	defer c.mu.Unlock()
	s, err := c.schemaLocked(schema)
	if err != nil {
		return nil, err
	}
	if ts := s.tables[name]; ts != nil {
		c.refreshTableLocked(s, name, ts)
	}
	if ts := s.tables[name]; ts == nil || ts.table == nil {
		s.synced = false // force a re-list: the table may be new
		c.syncSchemaLocked(s)
	}
	if ts := s.tables[name]; ts != nil && ts.table != nil {
		return ts.table, nil
	}
	return nil, qerr.New(qerr.NotFound, "Table '%s.%s' doesn't exist", schema, name)
}
