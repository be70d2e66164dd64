package cluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
)

// ShuffleStore keeps the shuffle output this node's producer tasks wrote,
// for every query it takes part in, until the query ends: per producer task
// (query, stage, producer partition, attempt) and output partition, Arrow
// batches in memory while the store holds less than its memory budget, then
// Arrow IPC stream files under the work dir (spill). Consumers read it
// locally (Read) or from other nodes over Flight DoGet (ServeDoGet).
type ShuffleStore struct {
	dir         string // <work-dir>/shuffle/<node>
	budget      int64  // bytes of batches kept in memory (all queries)
	compression ipc.Option

	mu       sync.Mutex
	used     int64 // bytes of batches held in memory
	outputs  map[OutputKey]*taskOutput
	released map[string]time.Time // queries that ended: late writers are dropped
}

// OutputKey names the output of one producer task.
type OutputKey struct {
	Query    string
	Stage    int
	Producer int
	Attempt  int
}

func (k OutputKey) String() string {
	return fmt.Sprintf("%s/stage %d/producer %d/attempt %d", k.Query, k.Stage, k.Producer, k.Attempt)
}

type taskOutput struct {
	schema *arrow.Schema
	parts  map[int]*partData
	mem    int64 // bytes of batches in memory
}

type partData struct {
	batches []arrow.RecordBatch
	file    string // spilled batches (IPC stream), after the in-memory ones
}

// ErrOutputGone: the producer output a consumer asked for is not (or no
// longer) on this node.
var ErrOutputGone = errors.New("shuffle output not found")

// NewShuffleStore returns a store spilling under dir past budget bytes of
// in-memory batches (budget <= 0: 256 MiB). compression is "", "none",
// "lz4" or "zstd" (spill files and Flight transfers).
func NewShuffleStore(dir string, budget int64, compression string) (*ShuffleStore, error) {
	opt, err := compressionOption(compression)
	if err != nil {
		return nil, err
	}
	if budget <= 0 {
		budget = 256 << 20
	}
	if dir == "" {
		return nil, errors.New("shuffle store: a work directory is required")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("shuffle store: %w", err)
	}
	return &ShuffleStore{dir: dir, budget: budget, compression: opt, outputs: map[OutputKey]*taskOutput{}, released: map[string]time.Time{}}, nil
}

// compressionOption maps --shuffle-compression to an IPC writer option.
func compressionOption(name string) (ipc.Option, error) {
	switch strings.ToLower(name) {
	case "", "none":
		return nil, nil
	case "lz4":
		return ipc.WithLZ4(), nil
	case "zstd":
		return ipc.WithZstd(), nil
	}
	return nil, fmt.Errorf("--shuffle-compression %q: want lz4, zstd or none", name)
}

func (s *ShuffleStore) writerOptions(schema *arrow.Schema) []ipc.Option {
	opts := []ipc.Option{ipc.WithSchema(schema)}
	if s.compression != nil {
		opts = append(opts, s.compression)
	}
	return opts
}

// MemoryInUse is the bytes of batches the store holds in memory.
func (s *ShuffleStore) MemoryInUse() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.used
}

func (s *ShuffleStore) queryDir(query string) string {
	return filepath.Join(s.dir, safeName(query))
}

// safeName makes a query id usable as a file name.
func safeName(q string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.' {
			return r
		}
		return '_'
	}, q)
}

// Writer returns the sink of one producer task; its output becomes
// readable at Close (all or nothing, so a failed attempt leaves nothing).
func (s *ShuffleStore) Writer(key OutputKey, schema *arrow.Schema) *StoreWriter {
	return &StoreWriter{s: s, key: key, out: &taskOutput{schema: schema, parts: map[int]*partData{}}, files: map[int]*spillFile{}}
}

// StoreWriter implements execution.ShuffleWriter over a ShuffleStore.
type StoreWriter struct {
	s     *ShuffleStore
	key   OutputKey
	out   *taskOutput
	files map[int]*spillFile
	rows  int64
	bytes int64
	done  bool
}

type spillFile struct {
	f *os.File
	w *ipc.Writer
}

// Rows and Bytes are what the task wrote so far.
func (w *StoreWriter) Rows() int64  { return w.rows }
func (w *StoreWriter) Bytes() int64 { return w.bytes }

func (w *StoreWriter) Put(partition int, b arrow.RecordBatch) error {
	if b.NumRows() == 0 {
		return nil
	}
	size := execution.BatchBytes(b)
	w.rows += b.NumRows()
	w.bytes += size
	pd := w.out.parts[partition]
	if pd == nil {
		pd = &partData{}
		w.out.parts[partition] = pd
	}
	s := w.s
	s.mu.Lock()
	fits := s.used+size <= s.budget
	if fits {
		s.used += size
	}
	s.mu.Unlock()
	if fits {
		b.Retain()
		pd.batches = append(pd.batches, b)
		w.out.mem += size
		return nil
	}
	sf := w.files[partition]
	if sf == nil {
		dir := s.queryDir(w.key.Query)
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return fmt.Errorf("shuffle spill: %w", err)
		}
		name := filepath.Join(dir, fmt.Sprintf("s%d-p%d-a%d-o%d.arrows", w.key.Stage, w.key.Producer, w.key.Attempt, partition))
		f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			return fmt.Errorf("shuffle spill: %w", err)
		}
		sf = &spillFile{f: f, w: ipc.NewWriter(f, s.writerOptions(b.Schema())...)}
		w.files[partition] = sf
		pd.file = name
	}
	if err := sf.w.Write(b); err != nil {
		return fmt.Errorf("shuffle spill %s: %w", sf.f.Name(), err)
	}
	return nil
}

// Close publishes the output.
func (w *StoreWriter) Close() error {
	if w.done {
		return nil
	}
	for _, sf := range w.files {
		err := sf.w.Close()
		if cerr := sf.f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			w.Abort()
			return fmt.Errorf("shuffle spill: %w", err)
		}
	}
	w.files = nil
	w.done = true
	s := w.s
	s.mu.Lock()
	if _, gone := s.released[w.key.Query]; gone {
		// The query ended while this task ran: nobody will read it.
		s.mu.Unlock()
		s.free(w.out)
		os.RemoveAll(s.queryDir(w.key.Query))
		return nil
	}
	old := s.outputs[w.key]
	s.outputs[w.key] = w.out
	s.mu.Unlock()
	if old != nil {
		s.free(old)
	}
	return nil
}

// Abort drops what the task wrote.
func (w *StoreWriter) Abort() {
	if w.done {
		return
	}
	w.done = true
	for _, sf := range w.files {
		sf.w.Close()
		sf.f.Close()
	}
	w.files = nil
	w.s.free(w.out)
}

// free releases an output's batches and removes its files.
func (s *ShuffleStore) free(o *taskOutput) {
	for _, pd := range o.parts {
		for _, b := range pd.batches {
			b.Release()
		}
		pd.batches = nil
		if pd.file != "" {
			os.Remove(pd.file)
		}
	}
	s.mu.Lock()
	s.used -= o.mem
	s.mu.Unlock()
	o.mem = 0
}

// Has reports whether the output of key is on this node.
func (s *ShuffleStore) Has(key OutputKey) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.outputs[key] != nil
}

// Read streams output partition `partition` of the producer task key.
// Batches are read from memory (new references) then from the spill file
// as the caller pulls them. mem allocates what is read from files.
func (s *ShuffleStore) Read(key OutputKey, partition int, mem memory.Allocator) (execution.Stream, error) {
	s.mu.Lock()
	o := s.outputs[key]
	var batches []arrow.RecordBatch
	var file string
	if o != nil {
		if pd := o.parts[partition]; pd != nil {
			batches = append(batches, pd.batches...)
			file = pd.file
		}
		for _, b := range batches {
			b.Retain()
		}
	}
	s.mu.Unlock()
	if o == nil {
		return nil, fmt.Errorf("%w: %v on this node", ErrOutputGone, key)
	}
	st := &storeStream{schema: o.schema, batches: batches, mem: mem}
	if file != "" {
		f, err := os.Open(file)
		if err != nil {
			st.Close()
			return nil, fmt.Errorf("%w: %v: %v", ErrOutputGone, key, err)
		}
		st.f = f
	}
	return st, nil
}

// releasedTTL is how long an ended query's id is remembered.
const releasedTTL = 10 * time.Minute

// ReleaseQuery drops every output of query and removes its spill files;
// outputs its still-running tasks publish later are dropped too.
func (s *ShuffleStore) ReleaseQuery(query string) {
	now := time.Now()
	s.mu.Lock()
	for q, t := range s.released {
		if now.Sub(t) > releasedTTL {
			delete(s.released, q)
		}
	}
	s.released[query] = now
	s.mu.Unlock()
	s.dropQuery(query)
}

// dropQuery drops the outputs of query now on this node.
func (s *ShuffleStore) dropQuery(query string) {
	s.mu.Lock()
	var drop []*taskOutput
	for k, o := range s.outputs {
		if k.Query == query {
			drop = append(drop, o)
			delete(s.outputs, k)
		}
	}
	s.mu.Unlock()
	for _, o := range drop {
		s.free(o)
	}
	os.RemoveAll(s.queryDir(query))
}

// Queries lists the queries with output on this node.
func (s *ShuffleStore) Queries() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	var out []string
	for k := range s.outputs {
		if !seen[k.Query] {
			seen[k.Query] = true
			out = append(out, k.Query)
		}
	}
	return out
}

// Close drops everything (node shutdown).
func (s *ShuffleStore) Close() {
	for _, q := range s.Queries() {
		s.ReleaseQuery(q)
	}
}

// storeStream yields in-memory batches, then the spill file's.
type storeStream struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	mem     memory.Allocator
	f       *os.File
	r       *ipc.Reader
	closed  bool
}

func (s *storeStream) Schema() *arrow.Schema { return s.schema }

func (s *storeStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(s.batches) > 0 {
		b := s.batches[0]
		s.batches[0] = nil
		s.batches = s.batches[1:]
		return b, nil
	}
	if s.f == nil {
		return nil, execution.EOF
	}
	if s.r == nil {
		r, err := ipc.NewReader(s.f, ipc.WithAllocator(s.mem))
		if err != nil {
			return nil, fmt.Errorf("shuffle spill %s: %w", s.f.Name(), err)
		}
		s.r = r
	}
	if s.r.Next() {
		b := s.r.RecordBatch()
		b.Retain()
		return b, nil
	}
	if err := s.r.Err(); err != nil {
		return nil, fmt.Errorf("shuffle spill %s: %w", s.f.Name(), err)
	}
	return nil, execution.EOF
}

func (s *storeStream) Close() error {
	if s.closed {
		return nil
	}
	s.closed = true
	for _, b := range s.batches {
		b.Release()
	}
	s.batches = nil
	if s.r != nil {
		s.r.Release()
	}
	if s.f != nil {
		s.f.Close()
	}
	return nil
}
