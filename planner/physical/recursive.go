package physical

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/ops"
	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/qerr"
)

// RecursiveCTE evaluates WITH RECURSIVE in one partition: Anchor once, then
// Recursive once per iteration, its WorkTable reading the previous
// iteration's rows. Both inputs are planned with one partition, so they hold
// no Exchange and run inside this node's task, as often as needed.
type RecursiveCTE struct {
	Name      string // for errors ("" when decoded from another node)
	Anchor    Plan
	Recursive Plan
	Distinct  bool
	Out       *arrow.Schema
	work      *workSlot // shared with the WorkTable under Recursive
}

// WorkTable streams the rows its RecursiveCTE put in the shared slot.
type WorkTable struct {
	Out  *arrow.Schema
	work *workSlot
}

// workSlot hands one iteration's rows from a RecursiveCTE to its WorkTable.
// A physical plan belongs to one query, and the CTE runs in one task.
type workSlot struct {
	id   int
	rows *ops.WorkRows
}

func (b *builder) buildRecursive(n *logical.RecursiveCTE) (Plan, error) {
	one := &builder{ctx: b.ctx, opts: b.opts, works: b.works}
	one.opts.TargetPartitions = 1
	slot := &workSlot{id: n.Work}
	if one.works == nil {
		one.works = map[int]*workSlot{}
	}
	one.works[n.Work] = slot
	anchor, err := one.build(n.Anchor)
	if err != nil {
		return nil, err
	}
	rec, err := one.build(n.Recursive)
	if err != nil {
		return nil, err
	}
	if anchor, err = inline(anchor); err != nil {
		return nil, err
	}
	if rec, err = inline(rec); err != nil {
		return nil, err
	}
	return &RecursiveCTE{Name: n.Name, Anchor: anchor, Recursive: rec, Distinct: n.Distinct, Out: n.Schema().ToArrow(), work: slot}, nil
}

func (b *builder) buildWorkTable(n *logical.WorkTable) (Plan, error) {
	slot := b.works[n.Work]
	if slot == nil {
		return nil, qerr.New(qerr.Internal, "internal: work table %d outside its recursive CTE", n.Work)
	}
	return &WorkTable{Out: n.Schema().ToArrow(), work: slot}, nil
}

func (n *RecursiveCTE) Schema() *arrow.Schema { return n.Out }
func (n *RecursiveCTE) Children() []Plan      { return []Plan{n.Anchor, n.Recursive} }
func (n *RecursiveCTE) WithChildren(ch ...Plan) (Plan, error) {
	if len(ch) != 2 {
		return nil, qerr.New(qerr.Internal, "RecursiveCTE: want 2 children, got %d", len(ch))
	}
	c := *n
	c.Anchor, c.Recursive = ch[0], ch[1]
	return &c, nil
}
func (n *RecursiveCTE) Partitioning() Partitioning { return single() }
func (n *RecursiveCTE) RequiredChildDistribution() []Distribution {
	return []Distribution{{Kind: SingleDistribution}, {Kind: SingleDistribution}}
}
func (n *RecursiveCTE) String() string {
	kind := "All"
	if n.Distinct {
		kind = "Distinct"
	}
	return fmt.Sprintf("RecursiveCTE work=%d %s", n.work.id, kind)
}

func (n *RecursiveCTE) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	if partition != 0 {
		return execution.NewEmptyStream(n.Out), nil
	}
	anchor, err := n.Anchor.Execute(ctx, 0, tc)
	if err != nil {
		return nil, err
	}
	step := func(ctx context.Context, work *ops.WorkRows) (execution.Stream, error) {
		n.work.rows.Release()
		n.work.rows = work
		return n.Recursive.Execute(ctx, 0, tc)
	}
	tc = tc.Operator(n)
	return instrument(n, tc, &releaseWork{Stream: ops.NewRecursive(tc, n.Name, anchor, step, n.Distinct, n.Out), slot: n.work}), nil
}

// releaseWork frees rows left in the slot (a step that failed or was not
// read to the end) when the CTE's stream closes.
type releaseWork struct {
	execution.Stream
	slot *workSlot
}

func (r *releaseWork) Close() error {
	err := r.Stream.Close()
	r.slot.rows.Release()
	r.slot.rows = nil
	return err
}

func (n *WorkTable) Schema() *arrow.Schema { return n.Out }
func (n *WorkTable) Children() []Plan      { return nil }
func (n *WorkTable) WithChildren(ch ...Plan) (Plan, error) {
	if len(ch) != 0 {
		return nil, qerr.New(qerr.Internal, "WorkTable: want no children, got %d", len(ch))
	}
	return n, nil
}
func (n *WorkTable) Partitioning() Partitioning                { return single() }
func (n *WorkTable) RequiredChildDistribution() []Distribution { return nil }
func (n *WorkTable) String() string                            { return fmt.Sprintf("WorkTable work=%d", n.work.id) }

// Execute streams the current iteration's rows; the slot keeps them (the
// next iteration or Close releases them), so the stream gets its own refs.
func (n *WorkTable) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	s, err := n.work.rows.Open(n.Out)
	if err != nil {
		return nil, err
	}
	tc = tc.Operator(n)
	return instrument(n, tc, s), nil
}

// inline makes p one partition without stage boundaries: with one target
// partition every Exchange gathers into one partition, which reading the
// input's partitions in turn does in the same task.
func inline(p Plan) (Plan, error) {
	ch := p.Children()
	if len(ch) > 0 {
		nc := make([]Plan, len(ch))
		for i, c := range ch {
			x, err := inline(c)
			if err != nil {
				return nil, err
			}
			nc[i] = x
		}
		var err error
		if p, err = p.WithChildren(nc...); err != nil {
			return nil, err
		}
	}
	if x, ok := p.(*Exchange); ok {
		p = x.Input
	}
	if p.Partitioning().Count > 1 {
		p = &concat{Input: p}
	}
	return p, nil
}

// concat reads all partitions of Input, one after the other, as partition 0.
type concat struct{ Input Plan }

func (n *concat) Schema() *arrow.Schema { return n.Input.Schema() }
func (n *concat) Children() []Plan      { return []Plan{n.Input} }
func (n *concat) WithChildren(ch ...Plan) (Plan, error) {
	if len(ch) != 1 {
		return nil, qerr.New(qerr.Internal, "concat: want 1 child, got %d", len(ch))
	}
	return &concat{Input: ch[0]}, nil
}
func (n *concat) Partitioning() Partitioning                { return single() }
func (n *concat) RequiredChildDistribution() []Distribution { return []Distribution{{}} }
func (n *concat) String() string                            { return "Concat" }

func (n *concat) Execute(ctx context.Context, partition int, tc *execution.TaskContext) (execution.Stream, error) {
	if partition != 0 {
		return execution.NewEmptyStream(n.Schema()), nil
	}
	return &concatStream{ctx: ctx, tc: tc, in: n.Input, parts: n.Input.Partitioning().Count}, nil
}

type concatStream struct {
	ctx   context.Context
	tc    *execution.TaskContext
	in    Plan
	parts int
	next  int
	cur   execution.Stream
}

func (s *concatStream) Schema() *arrow.Schema { return s.in.Schema() }

func (s *concatStream) Next(ctx context.Context) (arrow.RecordBatch, error) {
	for {
		if s.cur == nil {
			if s.next >= s.parts {
				return nil, execution.EOF
			}
			c, err := s.in.Execute(s.ctx, s.next, s.tc)
			if err != nil {
				return nil, err
			}
			s.cur, s.next = c, s.next+1
		}
		b, err := s.cur.Next(ctx)
		if err == execution.EOF {
			err = s.cur.Close()
			s.cur = nil
			if err != nil {
				return nil, err
			}
			continue
		}
		return b, err
	}
}

func (s *concatStream) Close() error {
	if s.cur == nil {
		return nil
	}
	err := s.cur.Close()
	s.cur = nil
	s.next = s.parts
	return err
}
