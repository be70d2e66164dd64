package execution

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/ipc"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/internal/flock"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// Spiller owns the spill files of one operator instance (one task's sort,
// aggregate or join): Arrow IPC stream files in a directory of its own,
// made under TaskContext.SpillDir/spill on the first spill. Close removes
// the directory with every file in it, so an operator that ends (EOF,
// error, cancel) leaves nothing behind as long as it is closed.
//
// A process that dies leaves its directories: each holds an exclusive
// lock on its spillOwner file while it lives, and RemoveStaleSpill (at
// node start) removes those whose lock is free. Making a directory and
// locking it happen under spill.lock beside spill/, which
// RemoveStaleSpill holds too, so it never sees one half made.
type Spiller struct {
	tc    *TaskContext
	what  string // operator name for logs and errors
	dir   string // "" until the first file
	owner *os.File
	n     int
}

// spillOwner is the lock file in every spill directory.
const spillOwner = ".owner"

// spillBase is the directory spill/ and spill.lock are in.
func spillBase(workDir string) string {
	if workDir == "" {
		return os.TempDir()
	}
	return workDir
}

// RemoveStaleSpill removes the spill directories under workDir/spill
// ("" = the OS temporary directory, as TaskContext.SpillDir) that no live
// process owns (left by one that crashed) and returns how many.
func RemoveStaleSpill(workDir string) (int, error) {
	base := spillBase(workDir)
	ents, err := os.ReadDir(filepath.Join(base, "spill"))
	if os.IsNotExist(err) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	release, err := flock.Acquire(context.Background(), filepath.Join(base, "spill.lock"))
	if err != nil {
		return 0, err
	}
	defer release()
	n := 0
	for _, e := range ents {
		if !e.IsDir() {
			continue
		}
		dir := filepath.Join(base, "spill", e.Name())
		f, err := os.OpenFile(filepath.Join(dir, spillOwner), os.O_RDWR, 0)
		if err == nil {
			err = flock.TryLock(f)
			if err != nil {
				f.Close()
				continue // in use
			}
		} else if !os.IsNotExist(err) {
			continue
		}
		rerr := os.RemoveAll(dir)
		if f != nil {
			flock.Unlock(f)
			f.Close()
		}
		if rerr != nil {
			return n, rerr
		}
		n++
	}
	return n, nil
}

// NewSpiller returns the spill file owner of an operator ("sort", ...).
func NewSpiller(tc *TaskContext, what string) *Spiller {
	return &Spiller{tc: tc, what: what}
}

// Create starts a new spill file for batches of schema.
func (s *Spiller) Create(schema *arrow.Schema) (*SpillWriter, error) {
	if s.dir == "" {
		if err := s.makeDir(); err != nil {
			return nil, s.err(err)
		}
	}
	s.n++
	name := filepath.Join(s.dir, fmt.Sprintf("%d.arrows", s.n))
	f, err := os.OpenFile(name, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, s.err(err)
	}
	return &SpillWriter{s: s, f: f, w: ipc.NewWriter(f, ipc.WithSchema(schema))}, nil
}

// makeDir makes the spiller's directory and locks its owner file.
func (s *Spiller) makeDir() error {
	base := spillBase("")
	if s.tc != nil {
		base = spillBase(s.tc.SpillDir)
	}
	if err := os.MkdirAll(filepath.Join(base, "spill"), 0o700); err != nil {
		return err
	}
	release, err := flock.Acquire(context.Background(), filepath.Join(base, "spill.lock"))
	if err != nil {
		return err
	}
	defer release()
	dir, err := os.MkdirTemp(filepath.Join(base, "spill"), s.prefix())
	if err != nil {
		return err
	}
	f, err := os.OpenFile(filepath.Join(dir, spillOwner), os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err == nil {
		if err = flock.TryLock(f); err != nil {
			f.Close()
		}
	}
	if err != nil {
		os.RemoveAll(dir)
		return err
	}
	s.dir, s.owner = dir, f
	return nil
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
		flock.Unlock(s.owner)
		s.owner.Close()
		s.owner = nil
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
	if st, serr := w.f.Stat(); err == nil && serr == nil {
		// Count what reached the file: batch sizes count a slice's
		// whole buffers, and operators write slices.
		w.bytes = st.Size()
	}
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
