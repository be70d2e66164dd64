package engine

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/planner"
	"github.com/quiverdb/quiver/qerr"
)

// rewriteAttempts bounds how often a rewrite is computed again after
// another node committed to the table first (catalog.ErrTableChanged); the
// last attempt holds the table's cross-process lock throughout.
const rewriteAttempts = 5

// rewrite runs a single-table UPDATE or DELETE: the table's new contents
// are computed from its current snapshot and swapped in by the catalog
// (copy-on-write). Rows affected are the rows deleted, or the rows whose
// stored values an UPDATE actually changed (MySQL).
//
// Statements on this node wait for each other (LockTable). A statement on
// another node sharing the data dir (an INSERT, typically) may commit while
// the rows are computed; the catalog then refuses the commit and the
// rewrite runs again on the new snapshot, so its effect includes the other
// statement's rows, never drops them. The last attempt runs holding the
// table's cross-process lock (other nodes' writes to the table wait), so a
// stream of INSERTs elsewhere cannot starve it.
func (e *Engine) rewrite(ctx context.Context, s *Session, st ast.StmtNode, sql string, params []scalar.Scalar, rw *planner.Rewrite) (*Result, error) {
	unlock := e.catalog.LockTable(rw.Schema, rw.Table)
	defer unlock()
	for attempt := 1; ; attempt++ {
		if attempt == rewriteAttempts {
			held, release, err := e.catalog.HoldTable(ctx, rw.Schema, rw.Table)
			if err != nil {
				return nil, err
			}
			defer release()
			ctx = held
		}
		// The statement was bound before the lock or the conflict: bind
		// it again when another statement changed the table meanwhile.
		if cur, err := e.catalog.Table(ctx, rw.Schema, rw.Table); err == nil && cur != rw.Base {
			stmt, err := e.bindValues(ctx, s, st, sql, params)
			if err != nil {
				return nil, err
			}
			again, ok := stmt.(*planner.Rewrite)
			if !ok {
				return nil, qerr.New(qerr.Internal, "internal: %T bound again as %T", rw, stmt)
			}
			rw = again
		}
		res, err := e.rewriteOnce(ctx, params, rw)
		if !errors.Is(err, catalog.ErrTableChanged) || attempt == rewriteAttempts {
			return res, err
		}
		// Back off a random while so two nodes' rewrites do not meet again.
		t := time.NewTimer(time.Duration(rand.Int64N(int64(attempt) * int64(5*time.Millisecond))))
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

func (e *Engine) rewriteOnce(ctx context.Context, params []scalar.Scalar, rw *planner.Rewrite) (*Result, error) {
	_, stream, err := e.start(ctx, rw.Source, params, nil)
	if err != nil {
		return nil, err
	}
	r := &rewriteReader{ctx: ctx, in: stream, rw: rw, schema: rw.Base.Columns, mem: memory.DefaultAllocator}
	defer r.Release()
	r.last = map[int]int{}
	for k, c := range rw.Set {
		r.last[c] = k
	}
	stmt := "UPDATE"
	if rw.Delete {
		stmt = "DELETE"
	}
	if _, err := e.catalog.Rewrite(ctx, rw.Schema, rw.Table, rw.Base, stmt, r); err != nil {
		return nil, err
	}
	if r.err != nil {
		return nil, r.err
	}
	return &Result{RowsAffected: r.affected}, nil
}

// rewriteReader turns the batches of a Rewrite's source (old columns, new
// values, hit flag) into the table's new rows, counting rows affected. New
// values are stored with INSERT's strict-mode checks (storeColumn), on the
// hit rows only. The first error is kept in err.
type rewriteReader struct {
	ctx      context.Context
	in       execution.Stream
	rw       *planner.Rewrite
	schema   *arrow.Schema
	mem      memory.Allocator
	last     map[int]int // table column → index of its last assignment
	hitRows  int64       // rows hit so far (error messages name the row)
	affected int64
	cur      arrow.RecordBatch
	err      error
	closed   bool
}

func (r *rewriteReader) Retain() {}

func (r *rewriteReader) Release() {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	if !r.closed {
		r.closed = true
		r.in.Close()
	}
}

func (r *rewriteReader) Schema() *arrow.Schema          { return r.schema }
func (r *rewriteReader) RecordBatch() arrow.RecordBatch { return r.cur }

// Record is the deprecated name array.RecordReader still requires.
func (r *rewriteReader) Record() arrow.RecordBatch { return r.cur }
func (r *rewriteReader) Err() error                { return r.err }

func (r *rewriteReader) Next() bool {
	if r.cur != nil {
		r.cur.Release()
		r.cur = nil
	}
	for r.err == nil && !r.closed {
		b, err := r.in.Next(r.ctx)
		if errors.Is(err, execution.EOF) {
			return false
		}
		if err != nil {
			r.err = err
			return false
		}
		out, err := r.convert(b)
		b.Release()
		if err != nil {
			r.err = err
			return false
		}
		if out.NumRows() > 0 {
			r.cur = out
			return true
		}
		out.Release()
	}
	return false
}

func (r *rewriteReader) convert(b arrow.RecordBatch) (arrow.RecordBatch, error) {
	ncols := r.schema.NumFields()
	if int(b.NumCols()) != ncols+len(r.rw.Set)+1 {
		return nil, qerr.New(qerr.Internal, "internal: rewrite source has %d columns, expected %d", b.NumCols(), ncols+len(r.rw.Set)+1)
	}
	hit, ok := b.Column(int(b.NumCols()) - 1).(*array.Boolean)
	if !ok {
		return nil, qerr.New(qerr.Internal, "internal: rewrite hit column is %s", b.Column(int(b.NumCols())-1).DataType())
	}
	n := int(b.NumRows())
	var hits []int32
	for i := 0; i < n; i++ {
		if hit.IsValid(i) && hit.Value(i) {
			hits = append(hits, int32(i))
		}
	}
	cols := make([]arrow.Array, ncols)
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	if r.rw.Delete {
		r.affected += int64(len(hits))
		keep := array.NewBooleanBuilder(r.mem)
		defer keep.Release()
		keep.Reserve(n)
		for i := 0; i < n; i++ {
			keep.UnsafeAppend(!(hit.IsValid(i) && hit.Value(i)))
		}
		mask := keep.NewArray()
		defer mask.Release()
		in := array.NewRecordBatch(r.schema, b.Columns()[:ncols], b.NumRows())
		defer in.Release()
		out, err := compute.FilterRecordBatch(context.Background(), in, mask, compute.DefaultFilterOptions())
		if err != nil {
			return nil, qerr.Wrap(qerr.Internal, err, "delete filter")
		}
		return out, nil
	}
	for i := 0; i < ncols; i++ {
		cols[i] = b.Column(i)
		cols[i].Retain()
	}
	if len(hits) == 0 {
		return array.NewRecordBatch(r.schema, cols, b.NumRows()), nil
	}
	hitIdx := array.NewInt32Builder(r.mem)
	hitIdx.AppendValues(hits, nil)
	idx := hitIdx.NewArray()
	hitIdx.Release()
	defer idx.Release()
	// merge[i] = i for untouched rows, n+j for the j-th hit row: one Take
	// over old ++ new puts the new values in place.
	mb := array.NewInt32Builder(r.mem)
	for i, j := 0, 0; i < n; i++ {
		if j < len(hits) && int(hits[j]) == i {
			mb.Append(int32(n + j))
			j++
		} else {
			mb.Append(int32(i))
		}
	}
	merge := mb.NewArray()
	mb.Release()
	defer merge.Release()
	changed := make([]bool, len(hits))
	for c, k := range r.last {
		f := r.schema.Field(c)
		fresh, err := compute.TakeArray(context.Background(), b.Column(ncols+k), idx)
		if err != nil {
			return nil, qerr.Wrap(qerr.Internal, err, "update take")
		}
		stored, err := storeColumn(r.mem, fresh, f, r.hitRows+1)
		fresh.Release()
		if err != nil {
			return nil, err
		}
		err = r.markChanged(cols[c], idx, stored, changed)
		if err == nil {
			var all arrow.Array
			if all, err = array.Concatenate([]arrow.Array{cols[c], stored}, r.mem); err == nil {
				var merged arrow.Array
				merged, err = compute.TakeArray(context.Background(), all, merge)
				all.Release()
				if err == nil {
					cols[c].Release()
					cols[c] = merged
				}
			}
		}
		stored.Release()
		if err != nil {
			return nil, err
		}
	}
	r.hitRows += int64(len(hits))
	for _, ch := range changed {
		if ch {
			r.affected++
		}
	}
	return array.NewRecordBatch(r.schema, cols, b.NumRows()), nil
}

// markChanged sets changed[j] when the j-th hit row's stored value differs
// (NULL-safe) from its old value.
func (r *rewriteReader) markChanged(old arrow.Array, idx arrow.Array, stored arrow.Array, changed []bool) error {
	before, err := compute.TakeArray(context.Background(), old, idx)
	if err != nil {
		return qerr.Wrap(qerr.Internal, err, "update take")
	}
	defer before.Release()
	t := stored.DataType()
	sig, err := expr.Resolve("<=>", []arrow.DataType{t, t})
	if err != nil {
		return err
	}
	var args []expr.Expr
	for i, name := range []string{"old", "new"} {
		a := expr.NewColumn(i, name, t)
		if !arrow.TypeEqual(sig.Args[i], t) {
			if a, err = expr.NewCast(a, sig.Args[i]); err != nil {
				return err
			}
		}
		args = append(args, a)
	}
	eq, err := expr.NewCall("<=>", args, sig.Return)
	if err != nil {
		return err
	}
	sc := arrow.NewSchema([]arrow.Field{{Name: "old", Type: t, Nullable: true}, {Name: "new", Type: t, Nullable: true}}, nil)
	pair := array.NewRecordBatch(sc, []arrow.Array{before, stored}, int64(stored.Len()))
	defer pair.Release()
	same, err := eq.Eval(r.mem, pair)
	if err != nil {
		return err
	}
	defer same.Release()
	s := same.(*array.Boolean)
	for j := range changed {
		if !s.Value(j) {
			changed[j] = true
		}
	}
	return nil
}
