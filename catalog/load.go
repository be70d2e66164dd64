package catalog

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// loadTable builds the snapshot of the table or view stored at path.
func (c *Catalog) loadTable(schema, name, path string, info os.FileInfo) (*Table, error) {
	if !info.IsDir() {
		if strings.HasSuffix(strings.ToLower(path), viewSuffix) {
			return loadView(schema, name, path)
		}
		return c.loadBaseTable(schema, name, []string{path}, nil)
	}
	names, _, err := liveFiles(path)
	if err != nil {
		return nil, err
	}
	files := make([]string, len(names))
	for i, n := range names {
		files[i] = filepath.Join(path, n)
	}
	var declared *arrow.Schema
	sp := filepath.Join(path, schemaFileName)
	if b, err := os.ReadFile(sp); err == nil {
		if declared, err = decodeSchema(b); err != nil {
			return nil, fmt.Errorf("read %s: %w", sp, err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", sp, err)
	}
	if len(files) == 0 && declared == nil {
		return nil, fmt.Errorf("table folder %s holds no .parquet or .csv files", path)
	}
	sort.Strings(files)
	return c.loadBaseTable(schema, name, files, declared)
}

// loadBaseTable reads the metadata of a table's data files. declared, when
// set, is the schema CREATE TABLE stored; every file must match it.
func (c *Catalog) loadBaseTable(schema, name string, paths []string, declared *arrow.Schema) (*Table, error) {
	t := &Table{Schema: schema, Name: name, Kind: BaseTable, Format: Parquet, Columns: declared,
		CSV: CSVOptions{Delimiter: ',', Header: true}}
	if len(paths) > 0 {
		t.Format = formatOf(paths[0])
	}
	for _, p := range paths {
		if f := formatOf(p); f != t.Format {
			return nil, fmt.Errorf("table %s.%s mixes %s and %s files (%s)", schema, name, t.Format, f, p)
		}
	}
	var err error
	if t.Format == CSV {
		err = c.loadCSVFiles(t, paths)
	} else {
		err = c.loadParquetFiles(t, paths)
	}
	if err != nil {
		return nil, err
	}
	t.Stats = Stats{RowCount: 0, Bytes: 0}
	for _, f := range t.Files {
		t.Stats.Bytes += f.Size
		if f.NumRows < 0 {
			t.Stats.RowCount = -1
		} else if t.Stats.RowCount >= 0 {
			t.Stats.RowCount += f.NumRows
		}
	}
	if t.Stats.RowCount < 0 && t.Format == CSV {
		t.Stats.RowCount = estimateCSVRows(t.Files)
	}
	return t, nil
}

func (c *Catalog) loadParquetFiles(t *Table, paths []string) error {
	declared := t.Columns // CREATE TABLE's schema keeps its NOT NULLs
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		fp := fingerprintOf(info)
		cf, ok := c.fileCache[p]
		if !ok || cf.fp != fp {
			f, sc, err := readParquetMeta(p, info)
			if err != nil {
				return err
			}
			cf = cachedFile{fp: fp, file: f, schema: sc}
			c.fileCache[p] = cf
		}
		if t.Columns == nil {
			t.Columns = cf.schema
		} else if err := compatible(t.Columns, cf.schema); err != nil {
			return fmt.Errorf("file %s does not match the schema of table %s.%s: %w", p, t.Schema, t.Name, err)
		}
		t.Files = append(t.Files, cf.file)
	}
	if declared == nil && t.Columns != nil {
		t.Columns = mergeNullability(t.Columns, paths, c.fileCache)
	}
	return nil
}

// mergeNullability makes a column nullable when any file allows NULLs.
func mergeNullability(sc *arrow.Schema, paths []string, cache map[string]cachedFile) *arrow.Schema {
	fields := append([]arrow.Field(nil), sc.Fields()...)
	for _, p := range paths {
		for i, f := range cache[p].schema.Fields() {
			if f.Nullable && i < len(fields) {
				fields[i].Nullable = true
			}
		}
	}
	return arrow.NewSchema(fields, nil)
}

// compatible checks that file columns match table columns by name
// (case-insensitive) and type.
func compatible(table, file *arrow.Schema) error {
	if table.NumFields() != file.NumFields() {
		return fmt.Errorf("has %d columns, the table has %d", file.NumFields(), table.NumFields())
	}
	for i, f := range file.Fields() {
		tf := table.Field(i)
		if !strings.EqualFold(tf.Name, f.Name) {
			return fmt.Errorf("column %d is %q, the table's is %q", i+1, f.Name, tf.Name)
		}
		if !arrow.TypeEqual(tf.Type, f.Type) {
			return fmt.Errorf("column %q has type %s, the table's is %s", f.Name, f.Type, tf.Type)
		}
	}
	return nil
}

func (c *Catalog) loadCSVFiles(t *Table, paths []string) error {
	var names []string
	var kinds []csvKind
	for _, p := range paths {
		info, err := os.Stat(p)
		if err != nil {
			return fmt.Errorf("stat %s: %w", p, err)
		}
		n, k, err := inferCSV(p, t.CSV.Delimiter)
		if err != nil {
			return err
		}
		if names == nil {
			names, kinds = n, k
		} else {
			if len(n) != len(names) {
				return fmt.Errorf("file %s has %d columns, the table %s.%s has %d", p, len(n), t.Schema, t.Name, len(names))
			}
			for i := range n {
				if !strings.EqualFold(n[i], names[i]) {
					return fmt.Errorf("file %s: column %d is %q, the table's is %q", p, i+1, n[i], names[i])
				}
				kinds[i] = widen(kinds[i], k[i])
			}
		}
		t.Files = append(t.Files, File{Path: p, Size: info.Size(), NumRows: -1})
	}
	if t.Columns != nil {
		// A declared schema (CREATE TABLE) wins over inference.
		if len(names) > 0 && len(names) != t.Columns.NumFields() {
			return fmt.Errorf("csv files of %s.%s have %d columns, the table has %d", t.Schema, t.Name, len(names), t.Columns.NumFields())
		}
		return nil
	}
	fields := make([]arrow.Field, len(names))
	for i, n := range names {
		fields[i] = arrow.Field{Name: n, Type: kinds[i].arrowType(), Nullable: true}
	}
	t.Columns = arrow.NewSchema(fields, nil)
	return nil
}

// estimateCSVRows guesses a row count from file sizes for the optimizer
// (about 100 bytes per row; exact counts would need a full read).
func estimateCSVRows(files []File) int64 {
	var n int64
	for _, f := range files {
		n += f.Size/100 + 1
	}
	return n
}

// viewFile is the stored form of a view.
type viewFile struct {
	SQL    string `json:"sql"`
	Schema []byte `json:"schema,omitempty"` // Arrow IPC schema message
}

func loadView(schema, name, path string) (*Table, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read view %s: %w", path, err)
	}
	var v viewFile
	if err := json.Unmarshal(b, &v); err != nil {
		return nil, fmt.Errorf("read view %s: %w", path, err)
	}
	t := &Table{Schema: schema, Name: name, Kind: View, ViewSQL: v.SQL, Stats: Stats{RowCount: -1, Bytes: -1}}
	if len(v.Schema) > 0 {
		if t.Columns, err = decodeSchema(v.Schema); err != nil {
			return nil, fmt.Errorf("read view %s: %w", path, err)
		}
	}
	return t, nil
}

// encodeSchema serializes a schema as an Arrow IPC stream without batches.
func encodeSchema(sc *arrow.Schema) ([]byte, error) {
	var buf bytes.Buffer
	w := ipc.NewWriter(&buf, ipc.WithSchema(sc))
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func decodeSchema(b []byte) (*arrow.Schema, error) {
	r, err := ipc.NewReader(bytes.NewReader(b), ipc.WithAllocator(memory.DefaultAllocator))
	if err != nil {
		return nil, err
	}
	defer r.Release()
	return r.Schema(), nil
}
