package catalog

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quiverdb/quiver/qerr"
)

// RowGroupRows is the number of rows per Parquet row group the catalog
// writes (and so the granularity of scan splits and pruning).
const RowGroupRows = 128 * 1024

// validName rejects names that cannot be a plain folder/file name under the
// data dir, or that the loader would treat as hidden.
func validName(kind, name string) error {
	if name == "" || name == "." || name == ".." || hidden(name) || strings.ContainsAny(name, "/\\\x00") ||
		strings.HasSuffix(name, viewSuffix) || formatOf(name) != "" {
		return qerr.New(qerr.InvalidArgument, "Incorrect %s name '%s'", kind, name)
	}
	// MySQL's limits: 64 characters (longer names also overflow file name
	// limits), no trailing space.
	if utf8.RuneCountInString(name) > maxNameChars {
		return qerr.New(qerr.InvalidArgument, "Identifier name '%.20s...' is too long (%d characters, at most %d)",
			name, utf8.RuneCountInString(name), maxNameChars)
	}
	if strings.HasSuffix(name, " ") {
		return qerr.New(qerr.InvalidArgument, "Incorrect %s name '%s' (ends with a space)", kind, name)
	}
	return nil
}

const maxNameChars = 64

func denyInformationSchema(schema string) error {
	if strings.EqualFold(schema, InformationSchema) {
		return qerr.New(qerr.PermissionDenied, "Access denied to database '%s'", InformationSchema)
	}
	return nil
}

func randomSuffix() string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// removeInside renames p to a hidden name in its folder (so readers see it
// disappear at once) and then deletes it. p is always a direct entry of a
// folder under the data dir; a symlinked entry removes only the link.
func removeInside(p string) error {
	tmp := filepath.Join(filepath.Dir(p), ".dropped-"+randomSuffix())
	if err := os.Rename(p, tmp); err != nil {
		return err
	}
	return os.RemoveAll(tmp)
}

func (c *Catalog) CreateSchema(ctx context.Context, name string, ifNotExists bool) error {
	name = strings.ToLower(name)
	if _, sys := c.registeredSchema(name); name == InformationSchema || sys {
		if ifNotExists {
			return nil
		}
		return qerr.New(qerr.AlreadyExists, "Can't create database '%s'; database exists", name)
	}
	if err := validName("database", name); err != nil {
		return err
	}
	unlock, err := c.lock(ctx, "", "")
	if err != nil {
		return err
	}
	defer unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.syncRootLocked(); err != nil {
		return err
	}
	if c.schemas[name] != nil {
		if ifNotExists {
			return nil
		}
		return qerr.New(qerr.AlreadyExists, "Can't create database '%s'; database exists", name)
	}
	if err := os.Mkdir(filepath.Join(c.dataDir, name), 0o755); err != nil {
		if errors.Is(err, os.ErrExist) && ifNotExists {
			return nil
		}
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return c.syncRootLocked()
}

// DropSchema removes a schema folder with all its tables and views (MySQL
// semantics); only folders inside the data dir are ever removed.
func (c *Catalog) DropSchema(ctx context.Context, name string, ifExists bool) error {
	name = strings.ToLower(name)
	if err := c.denyReadOnlySchema(name); err != nil {
		return err
	}
	unlock, err := c.lockAll(ctx, [2]string{"", ""}, [2]string{name, ""})
	if err != nil {
		return err
	}
	defer unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.syncRootLocked(); err != nil {
		return err
	}
	s := c.schemas[name]
	if s == nil {
		if ifExists {
			return nil
		}
		return qerr.New(qerr.NotFound, "Can't drop database '%s'; database doesn't exist", name)
	}
	if err := removeInside(s.dir); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	for p := range c.fileCache {
		if strings.HasPrefix(p, s.dir+string(filepath.Separator)) {
			delete(c.fileCache, p)
		}
	}
	return c.syncRootLocked()
}

// lookupLocked finds a table or view, refreshed from disk.
func (c *Catalog) lookupLocked(schema, name string) (*schemaState, *tableState, error) {
	s, err := c.schemaLocked(schema)
	if err != nil {
		return nil, nil, err
	}
	s.synced = false
	c.syncSchemaLocked(s)
	return s, s.tables[name], nil
}

// CreateTable creates an empty base table stored as Parquet: a folder
// holding the column schema, to which Append adds Parquet files.
func (c *Catalog) CreateTable(ctx context.Context, schema, name string, cols *arrow.Schema, ifNotExists bool) error {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	if err := c.denyReadOnlySchema(schema); err != nil {
		return err
	}
	if err := validName("table", name); err != nil {
		return err
	}
	if cols == nil || cols.NumFields() == 0 {
		return qerr.New(qerr.InvalidArgument, "A table must have at least 1 column")
	}
	_, err := c.CreateTableAs(ctx, schema, name, cols, nil, ifNotExists)
	return err
}

// CreateTableAs creates a Parquet base table holding r's rows (none when r
// is nil; CREATE TABLE ... AS SELECT, bulk ingest) and returns the rows
// written. The folder is built whole under a hidden name and renamed in
// under the schema lock, so every node sees either no table or the table
// with all its rows; of two creators of one name, the second gets
// AlreadyExists (nothing when ifNotExists) and its rows are discarded.
func (c *Catalog) CreateTableAs(ctx context.Context, schema, name string, cols *arrow.Schema, r array.RecordReader, ifNotExists bool) (int64, error) {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	if err := c.denyReadOnlySchema(schema); err != nil {
		return 0, err
	}
	if err := validName("table", name); err != nil {
		return 0, err
	}
	exists := func() (int64, error) {
		if ifNotExists {
			return 0, nil
		}
		return 0, qerr.New(qerr.AlreadyExists, "Table '%s' already exists", name)
	}
	fail := func(err error) (int64, error) {
		if _, ok := errors.AsType[*qerr.Error](err); ok || ctx.Err() != nil {
			return 0, err
		}
		return 0, fmt.Errorf("create table %s.%s: %w", schema, name, err)
	}
	// Fail early (before computing rows) when the name is taken.
	c.mu.Lock()
	s, ts, err := c.lookupLocked(schema, name)
	c.mu.Unlock()
	if err != nil {
		return 0, err
	}
	if ts != nil {
		return exists()
	}
	if r != nil {
		cols = withoutKeys(cols) // rows come unchecked: AS SELECT and ingest declare no keys
	}
	b, err := encodeSchema(arrow.NewSchema(cols.Fields(), nil))
	if err != nil {
		return fail(err)
	}
	tmp := filepath.Join(s.dir, ".tmp-"+name+"-"+randomSuffix())
	if err := os.Mkdir(tmp, 0o755); err != nil {
		return fail(err)
	}
	done := false
	defer func() {
		if !done {
			os.RemoveAll(tmp)
		}
	}()
	if err := writeFileAtomic(filepath.Join(tmp, schemaFileName), b); err != nil {
		return fail(err)
	}
	var n int64
	if r != nil {
		var part string
		if n, part, err = writeParquetPart(ctx, tmp, cols, r); err != nil {
			return 0, err
		}
		if n > 0 {
			if err := os.Rename(partTemp(tmp, part), filepath.Join(tmp, part)); err != nil {
				return fail(err)
			}
		}
	}
	unlock, err := c.lock(ctx, schema, "")
	if err != nil {
		return 0, err
	}
	defer unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ts, err = c.lookupLocked(schema, name)
	if err != nil {
		return 0, err
	}
	if ts != nil {
		return exists()
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, name)); err != nil {
		return fail(err)
	}
	done = true
	s.synced = false
	c.syncSchemaLocked(s)
	return n, nil
}

func (c *Catalog) DropTable(ctx context.Context, schema, name string, ifExists bool) error {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	if err := c.denyReadOnlySchema(schema); err != nil {
		return err
	}
	unlock, err := c.lockAll(ctx, [2]string{schema, ""}, [2]string{schema, name})
	if err != nil {
		return err
	}
	defer unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ts, err := c.lookupLocked(schema, name)
	if err != nil && qerr.KindOf(err) != qerr.NotFound {
		return err
	}
	if ts == nil || ts.table == nil || ts.table.Kind != BaseTable {
		if ifExists {
			return nil
		}
		return qerr.New(qerr.NotFound, "Unknown table '%s.%s'", schema, name)
	}
	if err := removeInside(ts.path); err != nil {
		return fmt.Errorf("drop table %s.%s: %w", schema, name, err)
	}
	for _, f := range ts.table.Files {
		delete(c.fileCache, f.Path)
	}
	c.keys.forget(ts.path, nil)
	s.synced = false
	c.syncSchemaLocked(s)
	return nil
}

// Append writes all batches of r (schema equal to the table's) as a new
// Parquet file of the table, atomically, and returns the rows written.
func (c *Catalog) Append(ctx context.Context, schema, name string, r array.RecordReader) (int64, error) {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	if err := c.denyReadOnlySchema(schema); err != nil {
		return 0, err
	}
	t, err := c.appendTarget(ctx, schema, name, "INSERT")
	if err != nil {
		return 0, err
	}
	var kc *keyCollector
	if keys := Keys(t.cols); len(keys) > 0 {
		kc = newKeyCollector(r, name, t.cols, keys)
		r = kc
	}
	n, part, err := writeParquetPart(ctx, t.dir, t.cols, r)
	if err != nil || n == 0 {
		return n, err
	}
	err = c.commit(ctx, t, func() error {
		if kc != nil {
			if err := c.checkExisting(ctx, t.dir, kc, part); err != nil {
				return err
			}
		}
		// Without a manifest the rename is the commit; with one (a table
		// rewritten by UPDATE/DELETE) the part becomes live when listed.
		if err := os.Rename(partTemp(t.dir, part), filepath.Join(t.dir, part)); err != nil {
			return err
		}
		live, listed, err := liveFiles(t.dir)
		if err == nil && listed {
			err = writeManifest(t.dir, append(live, part))
		}
		if err != nil {
			os.Remove(filepath.Join(t.dir, part))
		}
		return err
	})
	if err != nil {
		os.Remove(partTemp(t.dir, part))
		return 0, err
	}
	if kc != nil {
		c.keys.remember(filepath.Join(t.dir, part), kc)
	}
	return n, nil
}

// target is the folder a write goes to, as found when the statement began.
type target struct {
	schema, name, stmt string
	dir                string
	cols               *arrow.Schema
	info               os.FileInfo // of dir
}

// commit runs fn, the commit point of a write to t, under the table's
// cross-process lock, after checking that t.dir is still the table the
// statement began on (not dropped, nor dropped and created again with
// other columns), then refreshes the cached snapshot. Errors that are not
// classified name the statement.
func (c *Catalog) commit(ctx context.Context, t *target, fn func() error) error {
	unlock, err := c.lock(ctx, t.schema, t.name)
	if err != nil {
		return err
	}
	defer unlock()
	if err = t.stillThere(); err == nil {
		err = fn()
	}
	c.mu.Lock()
	if s := c.schemas[t.schema]; s != nil {
		if ts := s.tables[t.name]; ts != nil {
			ts.ver = version{} // reload even if the folder's mtime did not tick
			c.refreshTableLocked(s, t.name, ts)
		}
	}
	c.mu.Unlock()
	if _, ok := errors.AsType[*qerr.Error](err); err == nil || ok || ctx.Err() != nil {
		return err
	}
	return fmt.Errorf("%s %s.%s: %w", strings.ToLower(t.stmt), t.schema, t.name, err)
}

func (t *target) stillThere() error {
	gone := qerr.New(qerr.NotFound, "Table '%s.%s' doesn't exist (it was dropped during the %s)", t.schema, t.name, t.stmt)
	info, err := os.Stat(t.dir)
	if err != nil || !os.SameFile(info, t.info) {
		return gone
	}
	// A folder number can be reused by a table created after a drop.
	b, err := os.ReadFile(filepath.Join(t.dir, schemaFileName))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if cols, err := decodeSchema(b); err != nil || !cols.Equal(t.cols) {
		return gone
	}
	return nil
}

// appendTarget returns the folder new files of a table go to, turning a
// single-file Parquet table into a folder table first. stmt names the
// statement in errors (INSERT, UPDATE, DELETE).
func (c *Catalog) appendTarget(ctx context.Context, schema, name, stmt string) (*target, error) {
	unlock, err := c.lock(ctx, schema, name)
	if err != nil {
		return nil, err
	}
	defer unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ts, err := c.lookupLocked(schema, name)
	if err != nil {
		return nil, err
	}
	if ts == nil || ts.table == nil {
		return nil, qerr.New(qerr.NotFound, "Table '%s.%s' doesn't exist", schema, name)
	}
	t := ts.table
	if t.Kind != BaseTable {
		return nil, qerr.New(qerr.InvalidArgument, "The target table %s of the %s is not insertable-into", name, stmt)
	}
	if t.Format != Parquet {
		return nil, qerr.New(qerr.Unimplemented, "%s on the CSV table '%s.%s' is not supported", stmt, schema, name)
	}
	dir := ts.path
	if !isDirPath(dir) {
		dir = filepath.Join(s.dir, name)
		if err := os.Mkdir(dir, 0o755); err != nil && !errors.Is(err, os.ErrExist) {
			return nil, fmt.Errorf("%s %s.%s: %w", strings.ToLower(stmt), schema, name, err)
		}
		if err := os.Rename(ts.path, filepath.Join(dir, filepath.Base(ts.path))); err != nil {
			return nil, fmt.Errorf("%s %s.%s: %w", strings.ToLower(stmt), schema, name, err)
		}
		s.synced = false
		c.syncSchemaLocked(s)
	}
	info, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("%s %s.%s: %w", strings.ToLower(stmt), schema, name, err)
	}
	return &target{schema: schema, name: name, stmt: stmt, dir: dir, cols: t.Columns, info: info}, nil
}

// ParquetWriterProperties are the properties of every Parquet file Quiver
// writes: snappy, RowGroupRows-row groups, statistics on.
func ParquetWriterProperties() *parquet.WriterProperties {
	return parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(RowGroupRows),
		parquet.WithStats(true),
		// DECIMAL(p<=18) as INT32/INT64: read back far cheaper than
		// big-endian fixed-size bytes.
		parquet.WithStoreDecimalAsInteger(true),
	)
}

// unstorable names the first column whose type Parquet cannot store (a bulk
// ingest may bring any Arrow type) as a client error; other errors pass.
func unstorable(cols *arrow.Schema, err error) error {
	for _, f := range cols.Fields() {
		one := arrow.NewSchema([]arrow.Field{f}, nil)
		if _, perr := pqarrow.ToParquet(one, ParquetWriterProperties(), pqarrow.DefaultWriterProps()); perr != nil {
			return qerr.New(qerr.InvalidArgument, "column `%s` has type %s, which a table cannot store (%v)", f.Name, f.Type, perr)
		}
	}
	return fmt.Errorf("insert: %w", err)
}

// writeParquetPart writes r to a hidden temporary file in dir (synced) and
// returns the rows and the name it is to be renamed to,
// part-<time>-<rand>.parquet; the caller commits it by renaming
// partTemp(dir, name). Nothing is left behind on error or when r has no rows.
func writeParquetPart(ctx context.Context, dir string, cols *arrow.Schema, r array.RecordReader) (int64, string, error) {
	fields := make([]arrow.Field, cols.NumFields())
	for i, f := range cols.Fields() {
		fields[i] = arrow.Field{Name: f.Name, Type: f.Type, Nullable: true}
	}
	ws := arrow.NewSchema(fields, nil)
	base := "part-" + time.Now().UTC().Format("20060102T150405.000000000") + "-" + randomSuffix() + ".parquet"
	tmp := partTemp(dir, base)
	f, err := os.Create(tmp)
	if err != nil {
		return 0, "", fmt.Errorf("insert: %w", err)
	}
	fail := func(err error) (int64, string, error) {
		f.Close()
		os.Remove(tmp)
		return 0, "", err
	}
	// The writer must not close f: it is synced before the rename.
	fw, err := pqarrow.NewFileWriter(ws, struct{ io.Writer }{f}, ParquetWriterProperties(), pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		return fail(unstorable(ws, err))
	}
	var rows int64
	for r.Next() {
		if err := ctx.Err(); err != nil {
			fw.Close()
			return fail(err)
		}
		b := r.RecordBatch()
		if err := checkColumns(ws, b); err != nil {
			fw.Close()
			return fail(err)
		}
		rb := array.NewRecordBatch(ws, b.Columns(), b.NumRows())
		err := fw.WriteBuffered(rb)
		rb.Release()
		if err != nil {
			fw.Close()
			return fail(fmt.Errorf("insert: write parquet: %w", err))
		}
		rows += b.NumRows()
	}
	if err := r.Err(); err != nil {
		fw.Close()
		return fail(err)
	}
	if rows == 0 {
		fw.Close()
		return fail(nil)
	}
	if err := fw.Close(); err != nil {
		return fail(fmt.Errorf("insert: write parquet: %w", err))
	}
	if err := f.Sync(); err != nil {
		return fail(fmt.Errorf("insert: %w", err))
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return 0, "", fmt.Errorf("insert: %w", err)
	}
	return rows, base, nil
}

// partTemp is where writeParquetPart leaves the part named base.
func partTemp(dir, base string) string { return filepath.Join(dir, ".tmp-"+base) }

func checkColumns(want *arrow.Schema, b arrow.RecordBatch) error {
	if int(b.NumCols()) != want.NumFields() {
		return qerr.New(qerr.InvalidArgument, "Column count doesn't match value count: table has %d columns, got %d", want.NumFields(), b.NumCols())
	}
	for i, col := range b.Columns() {
		if !arrow.TypeEqual(col.DataType(), want.Field(i).Type) {
			return qerr.New(qerr.Internal, "insert: column %q has type %s, the table's is %s", want.Field(i).Name, col.DataType(), want.Field(i).Type)
		}
	}
	return nil
}

func (c *Catalog) CreateView(ctx context.Context, schema, name, sql string, cols *arrow.Schema, orReplace bool) error {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	if err := c.denyReadOnlySchema(schema); err != nil {
		return err
	}
	if err := validName("table", name); err != nil {
		return err
	}
	unlock, err := c.lock(ctx, schema, "")
	if err != nil {
		return err
	}
	defer unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ts, err := c.lookupLocked(schema, name)
	if err != nil {
		return err
	}
	if ts != nil && (!orReplace || ts.table == nil || ts.table.Kind != View) {
		return qerr.New(qerr.AlreadyExists, "Table '%s' already exists", name)
	}
	v := viewFile{SQL: sql}
	if cols != nil {
		if v.Schema, err = encodeSchema(arrow.NewSchema(cols.Fields(), nil)); err != nil {
			return fmt.Errorf("create view %s.%s: %w", schema, name, err)
		}
	}
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("create view %s.%s: %w", schema, name, err)
	}
	tmp := filepath.Join(s.dir, ".tmp-"+name+"-"+randomSuffix())
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("create view %s.%s: %w", schema, name, err)
	}
	if err := os.Rename(tmp, filepath.Join(s.dir, name+viewSuffix)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("create view %s.%s: %w", schema, name, err)
	}
	s.synced = false
	c.syncSchemaLocked(s)
	return nil
}

func (c *Catalog) DropView(ctx context.Context, schema, name string, ifExists bool) error {
	schema, name = strings.ToLower(schema), strings.ToLower(name)
	unlock, err := c.lock(ctx, schema, "")
	if err != nil {
		return err
	}
	defer unlock()
	c.mu.Lock()
	defer c.mu.Unlock()
	s, ts, err := c.lookupLocked(schema, name)
	if err != nil && qerr.KindOf(err) != qerr.NotFound {
		return err
	}
	if ts != nil && ts.table != nil && ts.table.Kind != View {
		return qerr.New(qerr.InvalidArgument, "'%s.%s' is not VIEW", schema, name)
	}
	if ts == nil || ts.table == nil {
		if ifExists {
			return nil
		}
		return qerr.New(qerr.NotFound, "Unknown table '%s.%s'", schema, name)
	}
	if err := os.Remove(ts.path); err != nil {
		return fmt.Errorf("drop view %s.%s: %w", schema, name, err)
	}
	s.synced = false
	c.syncSchemaLocked(s)
	return nil
}
