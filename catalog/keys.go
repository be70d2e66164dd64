package catalog

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/file"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// Key is a PRIMARY KEY (Name "PRIMARY") or UNIQUE key of a table: no two
// live rows have equal values in Columns (rows with a NULL in them never
// collide). Keys are kept in the field metadata of the table's columns
// (keysKey), so they live in _schema.arrow with the rest of the columns.
type Key struct {
	Name    string
	Primary bool
	Columns []string // in key order
}

// keysKey holds, on each key column, the keys it belongs to as JSON.
const keysKey = "quiver.keys"

// PrimaryKeyName is the name MySQL gives every primary key.
const PrimaryKeyName = "PRIMARY"

type keyPart struct {
	Key string `json:"key"`
	Ord int    `json:"ord"` // key's position among the table's keys
	Seq int    `json:"seq"` // column's position in the key, from 1
}

// WithKeys returns cols with keys recorded in its fields' metadata. Every
// key column must be one of cols (by case-insensitive name).
func WithKeys(cols *arrow.Schema, keys []Key) (*arrow.Schema, error) {
	parts := make([][]keyPart, cols.NumFields())
	for ord, k := range keys {
		for seq, name := range k.Columns {
			i := fieldIndex(cols, name)
			if i < 0 {
				return nil, qerr.New(qerr.InvalidArgument, "Key column '%s' doesn't exist in table", name)
			}
			parts[i] = append(parts[i], keyPart{Key: k.Name, Ord: ord, Seq: seq + 1})
		}
	}
	fs := slices.Clone(cols.Fields())
	for i, ps := range parts {
		if len(ps) == 0 {
			continue
		}
		b, err := json.Marshal(ps)
		if err != nil {
			return nil, err
		}
		fs[i] = withMeta(fs[i], keysKey, string(b))
	}
	md := cols.Metadata()
	return arrow.NewSchema(fs, &md), nil
}

// withoutKeys drops key metadata (CREATE TABLE ... AS SELECT and ingest
// declare no keys, whatever their source columns carried).
func withoutKeys(cols *arrow.Schema) *arrow.Schema {
	fs := slices.Clone(cols.Fields())
	changed := false
	for i, f := range fs {
		if _, ok := f.Metadata.GetValue(keysKey); ok {
			fs[i], changed = withMeta(f, keysKey, ""), true
		}
	}
	if !changed {
		return cols
	}
	md := cols.Metadata()
	return arrow.NewSchema(fs, &md)
}

// withMeta sets (or, with v == "", removes) one metadata entry of f.
func withMeta(f arrow.Field, key, v string) arrow.Field {
	var keys, vals []string
	for i, k := range f.Metadata.Keys() {
		if k != key {
			keys, vals = append(keys, k), append(vals, f.Metadata.Values()[i])
		}
	}
	if v != "" {
		keys, vals = append(keys, key), append(vals, v)
	}
	f.Metadata = arrow.NewMetadata(keys, vals)
	return f
}

func fieldIndex(cols *arrow.Schema, name string) int {
	for i, f := range cols.Fields() {
		if strings.EqualFold(f.Name, name) {
			return i
		}
	}
	return -1
}

// Keys returns the keys declared on cols, the primary key first, then the
// others in declaration order.
func Keys(cols *arrow.Schema) []Key {
	if cols == nil {
		return nil
	}
	type colAt struct {
		seq  int
		name string
	}
	byOrd := map[int]*struct {
		name string
		cols []colAt
	}{}
	for _, f := range cols.Fields() {
		v, ok := f.Metadata.GetValue(keysKey)
		if !ok {
			continue
		}
		var ps []keyPart
		if json.Unmarshal([]byte(v), &ps) != nil {
			continue
		}
		for _, p := range ps {
			k := byOrd[p.Ord]
			if k == nil {
				k = &struct {
					name string
					cols []colAt
				}{name: p.Key}
				byOrd[p.Ord] = k
			}
			k.cols = append(k.cols, colAt{p.Seq, f.Name})
		}
	}
	var keys []Key
	for _, k := range byOrd {
		sort.Slice(k.cols, func(i, j int) bool { return k.cols[i].seq < k.cols[j].seq })
		key := Key{Name: k.name, Primary: k.name == PrimaryKeyName}
		for _, c := range k.cols {
			key.Columns = append(key.Columns, c.name)
		}
		keys = append(keys, key)
	}
	ord := map[string]int{}
	for o, k := range byOrd {
		ord[k.name] = o
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].Primary != keys[j].Primary {
			return keys[i].Primary
		}
		return ord[keys[i].Name] < ord[keys[j].Name]
	})
	return keys
}

// keyIndexes are the column positions of k in cols.
func keyIndexes(cols *arrow.Schema, k Key) []int {
	idx := make([]int, len(k.Columns))
	for i, n := range k.Columns {
		idx[i] = fieldIndex(cols, n)
	}
	return idx
}

// duplicate is MySQL's ERROR 1062.
func duplicate(table string, k Key, value string) error {
	return qerr.New(qerr.InvalidArgument, "Duplicate entry '%s' for key '%s.%s'", value, table, k.Name)
}

// keyValue is row i's value of key columns as MySQL shows it in 1062:
// the values joined by '-'.
func keyValue(cols []arrow.Array, i int) string {
	vs := make([]string, len(cols))
	for j, c := range cols {
		vs[j] = valueText(c, i)
	}
	return strings.Join(vs, "-")
}

// valueText is a value as MySQL prints it (DECIMAL at its scale, DATETIME
// with a space, booleans as 1/0).
func valueText(a arrow.Array, i int) string {
	switch a := a.(type) {
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Boolean:
		if a.Value(i) {
			return "1"
		}
		return "0"
	case *array.Timestamp:
		unit := a.DataType().(*arrow.TimestampType).Unit
		return a.Value(i).ToTime(unit).UTC().Format("2006-01-02 15:04:05.999999999")
	case *array.Float64:
		return strconv.FormatFloat(a.Value(i), 'g', -1, 64)
	case *array.Float32:
		return strconv.FormatFloat(float64(a.Value(i)), 'g', -1, 32)
	}
	return a.ValueStr(i)
}

// keyCollector passes a write's batches through while it collects their
// keys, failing the write with 1062 at the first row that repeats a key of
// an earlier row of the same write.
type keyCollector struct {
	array.RecordReader
	table string
	keys  []Key
	idx   [][]int
	sets  []map[string]struct{}
	err   error
	buf   []byte
	offs  []int
}

func newKeyCollector(r array.RecordReader, table string, cols *arrow.Schema, keys []Key) *keyCollector {
	kc := &keyCollector{RecordReader: r, table: table, keys: keys}
	for _, k := range keys {
		kc.idx = append(kc.idx, keyIndexes(cols, k))
		kc.sets = append(kc.sets, map[string]struct{}{})
	}
	return kc
}

func (kc *keyCollector) Next() bool {
	if kc.err != nil || !kc.RecordReader.Next() {
		return false
	}
	b := kc.RecordReader.RecordBatch()
	for ki, idx := range kc.idx {
		cols := make([]arrow.Array, len(idx))
		for j, i := range idx {
			cols[j] = b.Column(i)
		}
		n := int(b.NumRows())
		kc.buf, kc.offs = execution.EncodeKeys(cols, n, kc.buf, kc.offs)
		for r := 0; r < n; r++ {
			if anyNull(cols, r) {
				continue
			}
			k := string(kc.buf[kc.offs[r]:kc.offs[r+1]])
			if _, dup := kc.sets[ki][k]; dup {
				kc.err = duplicate(kc.table, kc.keys[ki], keyValue(cols, r))
				return false
			}
			kc.sets[ki][k] = struct{}{}
		}
	}
	return true
}

func (kc *keyCollector) Err() error {
	if kc.err != nil {
		return kc.err
	}
	return kc.RecordReader.Err()
}

func anyNull(cols []arrow.Array, r int) bool {
	for _, c := range cols {
		if c.IsNull(r) {
			return true
		}
	}
	return false
}

// keyCache keeps the key sets of live data files (immutable once written)
// so that a small INSERT into a big table reads only the files added since
// the last check. It costs about 50 bytes plus the key's bytes per row and
// key; a file whose sets would pass maxCachedKeys in all is read each time
// instead.
type keyCache struct {
	mu    sync.Mutex
	files map[string]fileKeys // path + "\x00" + key columns → keys
	n     int
}

type fileKeys struct {
	fp   fingerprint
	keys map[string]struct{}
}

const maxCachedKeys = 4 << 20

// checkExisting fails with 1062 when a key collected by kc is already in
// one of dir's live files. Called at the commit point, under the table's
// cross-process lock, so no other node commits in between.
func (c *Catalog) checkExisting(ctx context.Context, dir string, kc *keyCollector, part string) error {
	live, _, err := liveFiles(dir)
	if err != nil {
		return err
	}
	for ki, k := range kc.keys {
		for _, name := range live {
			if err := ctx.Err(); err != nil {
				return err
			}
			set, err := c.keys.get(ctx, filepath.Join(dir, name), k)
			if err != nil {
				return err
			}
			// Probe the larger set with the smaller one.
			small, big := kc.sets[ki], set
			if len(big) < len(small) {
				small, big = big, small
			}
			for key := range small {
				if _, dup := big[key]; dup {
					v, err := findKey(ctx, partTemp(dir, part), k, key)
					if err != nil {
						return err
					}
					return duplicate(kc.table, k, v)
				}
			}
		}
	}
	c.keys.forget(dir, live)
	return nil
}

func (kc *keyCache) get(ctx context.Context, path string, k Key) (map[string]struct{}, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	id := cacheID(path, k)
	fp := fingerprintOf(info)
	kc.mu.Lock()
	fk, ok := kc.files[id]
	kc.mu.Unlock()
	if ok && fk.fp == fp {
		return fk.keys, nil
	}
	set := map[string]struct{}{}
	err = scanKeys(ctx, path, k, func(cols []arrow.Array, enc []byte, offs []int) bool {
		for r := 0; r+1 < len(offs); r++ {
			if !anyNull(cols, r) {
				set[string(enc[offs[r]:offs[r+1]])] = struct{}{}
			}
		}
		return true
	})
	if err != nil {
		return nil, err
	}
	kc.mu.Lock()
	if kc.files == nil {
		kc.files = map[string]fileKeys{}
	}
	if old, ok := kc.files[id]; ok {
		kc.n -= len(old.keys)
		delete(kc.files, id)
	}
	if kc.n+len(set) <= maxCachedKeys {
		kc.files[id] = fileKeys{fp: fp, keys: set}
		kc.n += len(set)
	}
	kc.mu.Unlock()
	return set, nil
}

func cacheID(path string, k Key) string { return path + "\x00" + strings.Join(k.Columns, "\x00") }

// remember caches the key sets a write collected as those of the part it
// committed at path, so the next check does not read the part back.
func (kc *keyCache) remember(path string, col *keyCollector) {
	info, err := os.Stat(path)
	if err != nil {
		return
	}
	fp := fingerprintOf(info)
	kc.mu.Lock()
	defer kc.mu.Unlock()
	if kc.files == nil {
		kc.files = map[string]fileKeys{}
	}
	for i, k := range col.keys {
		id := cacheID(path, k)
		if _, ok := kc.files[id]; ok || kc.n+len(col.sets[i]) > maxCachedKeys {
			continue
		}
		kc.files[id] = fileKeys{fp: fp, keys: col.sets[i]}
		kc.n += len(col.sets[i])
	}
}

// forget drops the cached sets of dir's files that are no longer live.
func (kc *keyCache) forget(dir string, live []string) {
	kc.mu.Lock()
	defer kc.mu.Unlock()
	prefix := dir + string(filepath.Separator)
	for id, fk := range kc.files {
		p, _, _ := strings.Cut(id, "\x00")
		if strings.HasPrefix(p, prefix) && !slices.Contains(live, strings.TrimPrefix(p, prefix)) {
			kc.n -= len(fk.keys)
			delete(kc.files, id)
		}
	}
}

// scanKeys reads only k's columns of a Parquet file (column projection) and
// calls fn with each batch's key columns and their encoded keys until fn
// returns false.
func scanKeys(ctx context.Context, path string, k Key, fn func(cols []arrow.Array, enc []byte, offs []int) bool) error {
	pf, err := file.OpenParquetFile(path, false)
	if err != nil {
		return fmt.Errorf("read keys of %s: %w", path, err)
	}
	defer pf.Close()
	leaves := make([]int, len(k.Columns))
	sc := pf.MetaData().Schema
	for i, n := range k.Columns {
		if leaves[i] = sc.ColumnIndexByName(n); leaves[i] < 0 {
			return fmt.Errorf("read keys of %s: no column %q", path, n)
		}
	}
	fr, err := pqarrow.NewFileReader(pf, pqarrow.ArrowReadProperties{BatchSize: 64 << 10}, memory.DefaultAllocator)
	if err != nil {
		return fmt.Errorf("read keys of %s: %w", path, err)
	}
	rr, err := fr.GetRecordReader(ctx, leaves, nil)
	if err != nil {
		return fmt.Errorf("read keys of %s: %w", path, err)
	}
	defer rr.Release()
	var buf []byte
	var offs []int
	for rr.Next() {
		b := rr.RecordBatch()
		buf, offs = execution.EncodeKeys(b.Columns(), int(b.NumRows()), buf, offs)
		if !fn(b.Columns(), buf, offs) {
			return nil
		}
	}
	if err := rr.Err(); err != nil {
		return fmt.Errorf("read keys of %s: %w", path, err)
	}
	return nil
}

// findKey returns the value (as 1062 shows it) of the row of path whose
// encoded key k is key.
func findKey(ctx context.Context, path string, k Key, key string) (string, error) {
	v := ""
	err := scanKeys(ctx, path, k, func(cols []arrow.Array, enc []byte, offs []int) bool {
		for r := 0; r+1 < len(offs); r++ {
			if string(enc[offs[r]:offs[r+1]]) == key {
				v = keyValue(cols, r)
				return false
			}
		}
		return true
	})
	return v, err
}
