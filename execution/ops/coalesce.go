package ops

import (
	"context"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/quiverdb/quiver/execution"
)

type coalesce struct {
	tc     *execution.TaskContext
	input  execution.Stream
	next   arrow.RecordBatch // read ahead: did not fit the previous run
	eof    bool
	closed bool
}

// NewCoalesce concatenates runs of small batches of input into batches of up
// to BatchSize rows. A hash shuffle splits every producer batch across its
// output partitions, so its readers would otherwise see batches of
// BatchSize/partitions rows and pay every operator's per-batch cost that
// many more times. Batches of at least half BatchSize pass through uncopied.
func NewCoalesce(tc *execution.TaskContext, input execution.Stream) execution.Stream {
	return &coalesce{tc: tc, input: input}
}

func (c *coalesce) Schema() *arrow.Schema { return c.input.Schema() }

func (c *coalesce) Next(ctx context.Context) (arrow.RecordBatch, error) {
	var run []arrow.RecordBatch
	rows := 0
	for {
		b := c.next
		c.next = nil
		if b == nil {
			if c.eof {
				break
			}
			var err error
			if b, err = c.input.Next(ctx); err == execution.EOF {
				c.eof = true
				break
			} else if err != nil {
				releaseBatches(run)
				return nil, err
			}
		}
		n := int(b.NumRows())
		if len(run) == 0 && n >= execution.BatchSize/2 {
			return b, nil
		}
		if rows+n > execution.BatchSize {
			c.next = b
			break
		}
		run = append(run, b)
		rows += n
	}
	switch len(run) {
	case 0:
		return nil, execution.EOF
	case 1:
		return run[0], nil
	}
	defer releaseBatches(run)
	schema := c.input.Schema()
	cols, err := concatColumns(c.tc.Mem(), schema, run)
	if err != nil {
		return nil, err
	}
	out := array.NewRecordBatch(schema, cols, int64(rows))
	releaseAll(cols)
	return out, nil
}

func (c *coalesce) Close() error {
	if c.closed {
		return nil
	}
	c.closed = true
	if c.next != nil {
		c.next.Release()
		c.next = nil
	}
	return c.input.Close()
}
