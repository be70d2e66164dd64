package ops

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// MaxRecursionDepth is MySQL's default @@cte_max_recursion_depth.
const MaxRecursionDepth = 1000

// RecursiveStep runs one iteration of a recursive CTE over the previous
// iteration's rows (it takes ownership of them).
type RecursiveStep func(ctx context.Context, work []arrow.RecordBatch) (execution.Stream, error)

type recursiveStream struct {
	tc       *execution.TaskContext
	anchor   execution.Stream
	step     RecursiveStep
	distinct bool
	out      *arrow.Schema
	started  bool
	iter     int
	work     []arrow.RecordBatch // rows of the last iteration, input of the next
	pending  []arrow.RecordBatch // rows not yet returned
	seen     map[string]struct{}
	buf      []byte
	offs     []int
}

// NewRecursive returns the anchor's rows, then step's over the previous
// iteration's rows until an iteration yields none. distinct (UNION DISTINCT)
// drops rows produced before, anchor rows included. Each iteration's rows
// are returned as soon as it completes.
func NewRecursive(tc *execution.TaskContext, anchor execution.Stream, step RecursiveStep, distinct bool, out *arrow.Schema) execution.Stream {
	r := &recursiveStream{tc: tc, anchor: anchor, step: step, distinct: distinct, out: out}
	if distinct {
		r.seen = map[string]struct{}{}
	}
	return r
}

func (r *recursiveStream) Schema() *arrow.Schema { return r.out }

func (r *recursiveStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for len(r.pending) == 0 {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		var in execution.Stream
		if !r.started {
			r.started, in = true, r.anchor
		} else {
			if len(r.work) == 0 {
				return nil, execution.EOF
			}
			if r.iter++; r.iter > MaxRecursionDepth {
				return nil, qerr.New(qerr.InvalidArgument, "Recursive query aborted after %d iterations. Try increasing @@cte_max_recursion_depth to a larger value.", r.iter)
			}
			work := r.work
			r.work = nil
			s, err := r.step(ctx, work)
			if err != nil {
				return nil, err
			}
			in = s
		}
		rows, err := drain(ctx, in)
		in.Close()
		if err != nil {
			return nil, err
		}
		if r.work, err = r.fresh(rows); err != nil {
			return nil, err
		}
		for _, b := range r.work {
			b.Retain()
		}
		r.pending = append(r.pending, r.work...)
	}
	b := r.pending[0]
	r.pending = r.pending[1:]
	return b, nil
}

// fresh gives rows the CTE's schema and, for UNION DISTINCT, keeps only
// rows not produced before. It releases rows.
func (r *recursiveStream) fresh(rows []arrow.RecordBatch) ([]arrow.RecordBatch, error) {
	defer releaseBatches(rows)
	var out []arrow.RecordBatch
	for _, b := range rows {
		cols := b.Columns()
		n := int(b.NumRows())
		if r.distinct {
			r.buf, r.offs = execution.EncodeKeys(cols, n, r.buf, r.offs)
			keep := make([]int32, 0, n)
			for i := 0; i < n; i++ {
				k := string(r.buf[r.offs[i]:r.offs[i+1]])
				if _, dup := r.seen[k]; !dup {
					r.seen[k] = struct{}{}
					keep = append(keep, int32(i))
				}
			}
			if len(keep) == 0 {
				continue
			}
			g, err := gatherAll(r.tc.Mem(), cols, keep)
			if err != nil {
				releaseBatches(out)
				return nil, err
			}
			out = append(out, arrowBatch(r.out, g, int64(len(keep))))
			releaseAll(g)
			continue
		}
		out = append(out, arrowBatch(r.out, cols, int64(n)))
	}
	return out, nil
}

func (r *recursiveStream) Close() error {
	releaseBatches(r.pending)
	releaseBatches(r.work)
	r.pending, r.work, r.seen = nil, nil, nil
	return r.anchor.Close()
}
