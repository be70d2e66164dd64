package execution

import (
	"context"
	"errors"
	"runtime/debug"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/qerr"
	"go.uber.org/zap"
)

// Instrument wraps s so that every Next checks ctx cancellation, counts
// rows/batches/bytes/time into m under key (EXPLAIN ANALYZE), and turns a
// panic (including the QueryAllocator's limit panic) into an error of this
// query only. m and alloc may be nil.
func Instrument(s Stream, key any, m *MetricsSet, alloc *QueryAllocator) Stream {
	return &instrumented{in: s, key: key, metrics: m, alloc: alloc}
}

// InstrumentLogged is Instrument with a logger that records the stack of a
// recovered panic (the error message itself stays short).
func InstrumentLogged(s Stream, key any, m *MetricsSet, alloc *QueryAllocator, log *zap.Logger) Stream {
	return &instrumented{in: s, key: key, metrics: m, alloc: alloc, log: log}
}

type instrumented struct {
	in      Stream
	key     any
	metrics *MetricsSet
	alloc   *QueryAllocator
	log     *zap.Logger
	acc     OperatorMetrics
	closed  bool
	done    bool
}

func (s *instrumented) Schema() *arrow.Schema { return s.in.Schema() }

func (s *instrumented) Next(ctx context.Context) (b arrow.RecordBatch, err error) {
	if s.done {
		return nil, EOF
	}
	if err := ctx.Err(); err != nil {
		return nil, qerr.Wrap(qerr.Canceled, err, "query canceled")
	}
	start := time.Now()
	defer func() {
		if r := recover(); r != nil {
			b, err = nil, PanicError(r, s.log)
		}
		s.acc.Elapsed += time.Since(start)
		if b != nil {
			s.acc.Rows += b.NumRows()
			s.acc.Batches++
			s.acc.Bytes += BatchBytes(b)
		}
		if s.alloc != nil {
			s.acc.PeakMemory = s.alloc.Peak()
		}
	}()
	b, err = s.in.Next(ctx)
	if err != nil && !errors.Is(err, EOF) && qerr.KindOf(err) == qerr.Internal && ctx.Err() != nil {
		err = qerr.Wrap(qerr.Canceled, ctx.Err(), "query canceled")
	}
	return b, err
}

func (s *instrumented) Close() (err error) {
	if s.closed {
		return nil
	}
	s.closed = true
	s.done = true
	defer func() {
		if r := recover(); r != nil {
			err = PanicError(r, s.log)
		}
	}()
	s.metrics.Add(s.key, s.acc)
	return s.in.Close()
}

// PanicError converts a recovered panic value into an error: a *qerr.Error
// panic (memory limit) is returned as is, anything else becomes Internal.
// The stack goes to log (when set), not into the message.
func PanicError(r any, log *zap.Logger) error {
	if e, ok := r.(*qerr.Error); ok {
		return e
	}
	if log != nil {
		log.Error("operator panic", zap.Any("panic", r), zap.ByteString("stack", debug.Stack()))
	}
	if e, ok := r.(error); ok {
		return &qerr.Error{Kind: qerr.Internal, Msg: "internal error: " + e.Error(), Err: e}
	}
	return qerr.New(qerr.Internal, "internal error: %v", r)
}

// BatchBytes is the size of the buffers behind b, children and dictionaries
// included (a buffer shared by slices counts once per reference, which only
// overestimates).
func BatchBytes(b arrow.RecordBatch) int64 {
	var n int64
	for _, c := range b.Columns() {
		n += arrayDataBytes(c.Data())
	}
	return n
}

func arrayDataBytes(d arrow.ArrayData) int64 {
	var n int64
	for _, buf := range d.Buffers() {
		if buf != nil {
			n += int64(buf.Len())
		}
	}
	for _, c := range d.Children() {
		n += arrayDataBytes(c)
	}
	if d.DataType().ID() == arrow.DICTIONARY {
		if dict := d.Dictionary(); dict != nil {
			n += arrayDataBytes(dict)
		}
	}
	return n
}

// Collect drains s into memory and closes it; on error every collected batch
// is released.
func Collect(ctx context.Context, s Stream) ([]arrow.RecordBatch, error) {
	defer s.Close()
	var out []arrow.RecordBatch
	for {
		b, err := s.Next(ctx)
		if errors.Is(err, EOF) {
			return out, nil
		}
		if err != nil {
			for _, o := range out {
				o.Release()
			}
			return nil, err
		}
		out = append(out, b)
	}
}

// NewBatchStream streams the given batches; it takes ownership of them (the
// ones not handed out are released on Close).
func NewBatchStream(schema *arrow.Schema, batches []arrow.RecordBatch) Stream {
	return &batchStream{schema: schema, batches: batches}
}

// NewEmptyStream returns a stream that is at EOF at once.
func NewEmptyStream(schema *arrow.Schema) Stream { return &batchStream{schema: schema} }

type batchStream struct {
	schema  *arrow.Schema
	batches []arrow.RecordBatch
}

func (s *batchStream) Schema() *arrow.Schema { return s.schema }

func (s *batchStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	if len(s.batches) == 0 {
		return nil, EOF
	}
	b := s.batches[0]
	s.batches[0] = nil
	s.batches = s.batches[1:]
	return b, nil
}

func (s *batchStream) Close() error {
	for _, b := range s.batches {
		b.Release()
	}
	s.batches = nil
	return nil
}
