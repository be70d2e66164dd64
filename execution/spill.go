package execution

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// Spiller owns the spill files of one operator instance (one task's sort
// or aggregate): Arrow IPC stream files in a directory of its own, made
// under TaskContext.SpillDir/spill on the first spill. Close removes the
// directory with every file in it, so an operator that ends (EOF, error,
// cancel) leaves nothing behind as long as it is closed.
type Spiller struct {
	tc   *TaskContext
	what string // operator name for logs and errors
	dir  string // "" until the first file
	n    int
}

// NewSpiller returns the spill file owner of an operator ("sort", ...).
func NewSpiller(tc *TaskContext, what string) *Spiller {
	return &Spiller{tc: tc, what: what}
}

// Create starts a new spill file for batches of schema.
func (s *Spiller) Create(schema *arrow.Schema) (*SpillWriter, error) {
	if s.dir == "" {
		base := os.TempDir()
		if s.tc != nil && s.tc.SpillDir != "" {
			base = s.tc.SpillDir
		}
		base = filepath.Join(base, "spill")
		if err := os.MkdirAll(base, 0o700); err != nil {
			return nil, s.err(err)
		}
		dir, err := os.MkdirTemp(base, s.prefix())
		if err != nil {
			return nil, s.err(err)
		}
		s.dir = dir
	}
	s.n++
	name := filepath.Join(s.dir, fmt.Sprintf("%d.arrows", s.n))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, s.err(err)
	}
	return &SpillWriter{s: s, f: f, w: ipc.NewWriter(f, ipc.WithSchema(schema))}, nil
}

// prefix names the directory after the query and task (for an operator
// looking at a full disk); MkdirTemp makes it unique.
func (s *Spiller) prefix() string {
	if s.tc == nil {
		return s.what + "-"
	}
	return fmt.Sprintf("%s-s%d-p%d-%s-", fileSafe(s.tc.QueryID), s.tc.Stage, s.tc.Partition, s.what)
}

func fileSafe(q string) string {
	b := []byte(q)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

func (s *Spiller) err(err error) error {
	return fmt.Errorf("%s spill: %w", s.what, err)
}

// Close removes every spill file.
func (s *Spiller) Close() {
	if s.dir != "" {
		os.RemoveAll(s.dir)
		s.dir = ""
	}
}

// SpillWriter writes one spill file.
type SpillWriter struct {
	s     *Spiller
	f     *os.File
	w     *ipc.Writer
	bytes int64
}

// Write appends b (the caller keeps its reference).
func (w *SpillWriter) Write(b arrow.RecordBatch) error {
	if err := w.w.Write(b); err != nil {
		return w.s.err(err)
	}
	w.bytes += BatchBytes(b)
	return nil
}

// Finish closes the file and returns it for reading; the operator's
// metrics count it.
func (w *SpillWriter) Finish() (*SpillFile, error) {
	err := w.w.Close()
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(w.f.Name())
		return nil, w.s.err(err)
	}
	w.s.tc.AddSpill(w.bytes, 1)
	if w.s.tc != nil {
		w.s.tc.Logger().Debug("spilled", zap.String("operator", w.s.what), zap.String("file", w.f.Name()), zap.Int64("bytes", w.bytes))
	}
	return &SpillFile{path: w.f.Name(), Bytes: w.bytes, s: w.s}, nil
}

// Abort drops the file.
func (w *SpillWriter) Abort() {
	w.w.Close()
	w.f.Close()
	os.Remove(w.f.Name())
}

// SpillFile is a finished spill file.
type SpillFile struct {
	path  string
	Bytes int64
	s     *Spiller
}

// Open streams the file's batches, allocated through the task's allocator.
func (f *SpillFile) Open() (Stream, error) {
	fd, err := os.Open(f.path)
	if err != nil {
		return nil, f.s.err(err)
	}
	mem := &limitNoting{Allocator: f.s.tc.Mem()}
	r, err := ipc.NewReader(fd, ipc.WithAllocator(mem))
	if err != nil {
		fd.Close()
		return nil, f.s.err(mem.cause(err))
	}
	return &spillReader{f: f, fd: fd, r: r, mem: mem}, nil
}

// limitNoting remembers the memory limit error an allocation panicked
// with: the IPC reader recovers panics into errors that keep only the
// text, and the query must still see ResourceExhausted.
type limitNoting struct {
	memory.Allocator
	limit error
}

func (a *limitNoting) note() {
	if r := recover(); r != nil {
		if e, ok := r.(*qerr.Error); ok {
			a.limit = e
		}
		panic(r)
	}
}

func (a *limitNoting) Allocate(n int) []byte {
	defer a.note()
	return a.Allocator.Allocate(n)
}

func (a *limitNoting) Reallocate(n int, b []byte) []byte {
	defer a.note()
	return a.Allocator.Reallocate(n, b)
}

// cause is the limit error behind err, if any.
func (a *limitNoting) cause(err error) error {
	if a.limit != nil {
		return a.limit
	}
	return err
}

// Remove deletes the file once read (Spiller.Close would too).
func (f *SpillFile) Remove() { os.Remove(f.path) }

type spillReader struct {
	f      *SpillFile
	fd     *os.File
	r      *ipc.Reader
	mem    *limitNoting
	closed bool
}

func (r *spillReader) Schema() *arrow.Schema { return r.r.Schema() }

func (r *spillReader) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if r.r.Next() {
		b := r.r.RecordBatch()
		b.Retain()
		return b, nil
	}
	if err := r.r.Err(); err != nil {
		return nil, r.f.s.err(r.mem.cause(err))
	}
	return nil, EOF
}

func (r *spillReader) Close() error {
	if r.closed {
		return nil
	}
	r.closed = true
	r.r.Release()
	return r.fd.Close()
}

// ArrayBytes is the memory of a's buffers (as BatchBytes counts them).
func ArrayBytes(a arrow.Array) int64 { return arrayDataBytes(a.Data()) }
