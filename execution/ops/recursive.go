package ops

import (
	"cmp"
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// MaxRecursionDepth is MySQL's default @@cte_max_recursion_depth.
const MaxRecursionDepth = 1000

// RecursiveStep runs one iteration of a recursive CTE over the previous
// iteration's rows (it takes ownership of them).
type RecursiveStep func(ctx context.Context, work *WorkRows) (execution.Stream, error)

// WorkRows is one iteration's rows, the next iteration's work table: in
// memory, or in a spill file when they did not fit.
type WorkRows struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
	file    *execution.SpillFile
}

// Open streams the rows (the WorkRows keeps them: a work table can be read
// more than once). A nil WorkRows has none.
func (w *WorkRows) Open(schema *arrow.Schema) (execution.Stream, error) {
	if w == nil {
		return execution.NewEmptyStream(schema), nil
	}
	if w.file != nil {
		return w.file.Open()
	}
	rows := make([]arrow.RecordBatch, len(w.batches))
	for i, b := range w.batches {
		b.Retain()
		rows[i] = b
	}
	return execution.NewBatchStream(w.schema, rows), nil
}

// Release frees the rows (memory or file).
func (w *WorkRows) Release() {
	if w == nil {
		return
	}
	releaseBatches(w.batches)
	w.batches = nil
	if w.file != nil {
		w.file.Remove()
		w.file = nil
	}
}

type recursiveStream struct {
	tc       *execution.TaskContext
	name     string
	anchor   execution.Stream
	step     RecursiveStep
	distinct bool
	out      *arrow.Schema
	started  bool
	done     bool
	iter     int
	rows     int64              // of the running iteration
	cur      execution.Stream   // the running iteration (anchor or step)
	next     *workWriter        // its rows, the next work table
	spill    *execution.Spiller // nil until a work table spills
	seen     map[string]struct{}
	seenRes  reservation // the seen set's memory
	buf      []byte
	offs     []int
}

// NewRecursive returns the anchor's rows, then step's over the previous
// iteration's rows until an iteration yields none. distinct (UNION DISTINCT)
// drops rows produced before, anchor rows included. Rows are returned as
// they are produced. Under a query memory limit an iteration's rows go to a
// spill file once keeping them would not fit, and the next iteration reads
// them from there; UNION DISTINCT's set of rows seen is accounted and
// fails, naming the CTE, when it does not fit.
func NewRecursive(tc *execution.TaskContext, name string, anchor execution.Stream, step RecursiveStep, distinct bool, out *arrow.Schema) execution.Stream {
	r := &recursiveStream{tc: tc, name: name, anchor: anchor, step: step, distinct: distinct, out: out}
	r.seenRes.alloc = tc.Alloc
	if distinct {
		r.seen = map[string]struct{}{}
	}
	return r
}

func (r *recursiveStream) Schema() *arrow.Schema { return r.out }

func (r *recursiveStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if r.done {
			return nil, execution.EOF
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if r.cur == nil {
			if err := r.nextIteration(ctx); err != nil || r.done {
				if err == nil {
					err = execution.EOF
				}
				return nil, err
			}
		}
		b, err := r.cur.Next(ctx)
		if err == execution.EOF {
			err = r.cur.Close()
			r.cur = nil
			if err != nil {
				return nil, err
			}
			continue
		}
		if err != nil {
			return nil, err
		}
		fb, err := r.fresh(b)
		if err != nil {
			return nil, err
		}
		if fb == nil {
			continue
		}
		if err := r.next.add(fb); err != nil {
			fb.Release()
			return nil, err
		}
		return fb, nil
	}
}

// nextIteration starts the anchor, or the step over the rows of the
// iteration that ended (done when there were none).
func (r *recursiveStream) nextIteration(ctx context.Context) error {
	if !r.started {
		r.started, r.cur = true, r.anchor
		r.next = &workWriter{r: r}
		return nil
	}
	work, err := r.next.finish()
	r.next = nil
	if err != nil {
		return err
	}
	if work == nil {
		r.done = true
		return nil
	}
	if r.iter++; r.iter > MaxRecursionDepth {
		work.Release()
		return qerr.New(qerr.InvalidArgument, "Recursive query aborted after %d iterations. Try increasing @@cte_max_recursion_depth to a larger value.", r.iter)
	}
	s, err := r.step(ctx, work)
	if err != nil {
		return err
	}
	r.cur, r.next = s, &workWriter{r: r}
	return nil
}

// fresh gives b (taken) the CTE's schema and, for UNION DISTINCT, keeps only
// rows not produced before; nil when none is left.
func (r *recursiveStream) fresh(b arrow.RecordBatch) (arrow.RecordBatch, error) {
	defer b.Release()
	cols := b.Columns()
	n := int(b.NumRows())
	if n == 0 {
		return nil, nil
	}
	if !r.distinct {
		return arrowBatch(r.out, cols, int64(n)), nil
	}
	r.buf, r.offs = execution.EncodeKeys(cols, n, r.buf, r.offs)
	keep := make([]int32, 0, n)
	grow := int64(0)
	for i := 0; i < n; i++ {
		k := r.buf[r.offs[i]:r.offs[i+1]]
		if _, dup := r.seen[string(k)]; !dup {
			r.seen[string(k)] = struct{}{}
			keep = append(keep, int32(i))
			grow += int64(len(k)) + seenEntryBytes
		}
	}
	if a := r.tc.Alloc; a != nil && grow > 0 {
		if !a.TryReserve(grow) {
			return nil, qerr.New(qerr.ResourceExhausted, "recursive CTE %s: UNION (DISTINCT) keeps every row it returned (%d so far) to drop repeats, and they do not fit in the query memory limit (use UNION ALL or raise --query-memory-limit)", cmp.Or(r.name, "(unnamed)"), len(r.seen))
		}
		a.Unreserve(grow)
		r.seenRes.resize(r.seenRes.n + grow)
	}
	if len(keep) == 0 {
		return nil, nil
	}
	g, err := gatherAll(r.tc.Mem(), cols, keep)
	if err != nil {
		return nil, err
	}
	out := arrowBatch(r.out, g, int64(len(keep)))
	releaseAll(g)
	return out, nil
}

// seenEntryBytes is a Go map entry's cost besides its key bytes (string
// header, hash bucket share).
const seenEntryBytes = 48

func (r *recursiveStream) Close() error {
	if r.cur != nil && r.cur != r.anchor {
		r.cur.Close()
	}
	r.cur = nil
	if r.next != nil {
		r.next.abort()
		r.next = nil
	}
	if r.spill != nil {
		r.spill.Close()
	}
	r.seen = nil
	r.seenRes.free()
	return r.anchor.Close()
}

// workWriter collects an iteration's rows for the next: in memory until
// they would not fit, then in a spill file.
type workWriter struct {
	r     *recursiveStream
	mem   []arrow.RecordBatch
	bytes int64
	rows  int64
	file  *execution.SpillWriter
}

// add keeps b's rows (b stays the caller's).
func (w *workWriter) add(b arrow.RecordBatch) error {
	w.rows += b.NumRows()
	if w.file == nil {
		last := execution.BatchBytes(b)
		a := w.r.tc.Alloc
		// Keep the rows while as much again (the next iteration's) and a
		// few batches of the step's and the anchor's work fit beside them.
		if a == nil || !a.Limited() || a.Fits(2*(w.bytes+last)+8*last) {
			b.Retain()
			w.mem = append(w.mem, b)
			w.bytes += last
			return nil
		}
		if w.r.spill == nil {
			w.r.spill = execution.NewSpiller(w.r.tc, "recursive")
		}
		f, err := w.r.spill.Create(w.r.out)
		if err != nil {
			return err
		}
		w.file = f
		mem := w.mem
		w.mem, w.bytes = nil, 0
		defer releaseBatches(mem)
		for _, m := range mem {
			if err := w.write(m); err != nil {
				return err
			}
		}
	}
	return w.write(b)
}

// write puts b in the file in small batches: the next iteration reads one
// at a time.
func (w *workWriter) write(b arrow.RecordBatch) error {
	n := b.NumRows()
	for off := int64(0); off < n; off += spillBatchRows {
		part := b.NewSlice(off, min(off+spillBatchRows, n))
		err := w.file.Write(part)
		part.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// finish returns the rows, nil when there are none.
func (w *workWriter) finish() (*WorkRows, error) {
	if w.rows == 0 {
		w.abort()
		return nil, nil
	}
	if w.file == nil {
		rows := &WorkRows{schema: w.r.out, batches: w.mem}
		w.mem = nil
		return rows, nil
	}
	f, err := w.file.Finish()
	w.file = nil
	if err != nil {
		return nil, err
	}
	return &WorkRows{schema: w.r.out, file: f}, nil
}

func (w *workWriter) abort() {
	releaseBatches(w.mem)
	w.mem = nil
	if w.file != nil {
		w.file.Abort()
		w.file = nil
	}
}
