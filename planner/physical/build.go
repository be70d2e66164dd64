package physical

import (
	"context"
	"fmt"
	"sort"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/scalar"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/execution/agg"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/execution/ops"
	"github.com/quiverdb/quiver/planner/logical"
	"github.com/quiverdb/quiver/qerr"
)

// Options steer physical planning.
type Options struct {
	// TargetPartitions is the partition count of scans and hash exchanges
	// (<= 0: 1).
	TargetPartitions int
	// BroadcastThresholdRows: a join whose build side is estimated at most
	// this many rows broadcasts it instead of hash-partitioning both sides
	// (0: DefaultBroadcastThresholdRows; < 0: never broadcast).
	BroadcastThresholdRows int64
}

// DefaultBroadcastThresholdRows is the broadcast threshold when unset.
const DefaultBroadcastThresholdRows = 1_000_000

// swapFactor: an inner join swaps its inputs (so the smaller side is built)
// when the left is estimated this many times smaller than the right.
const swapFactor = 2

// Build plans an optimized logical plan as a distributed physical plan with
// Exchanges wherever a child's partitioning does not meet its parent's
// required distribution. The output columns of every physical node are those
// of its logical node's schema, in order.
func Build(ctx context.Context, n logical.Node, opts Options) (Plan, error) {
	if opts.TargetPartitions <= 0 {
		opts.TargetPartitions = 1
	}
	if opts.BroadcastThresholdRows == 0 {
		opts.BroadcastThresholdRows = DefaultBroadcastThresholdRows
	}
	b := &builder{ctx: ctx, opts: opts}
	return b.build(n)
}

type builder struct {
	ctx   context.Context
	opts  Options
	works map[int]*workSlot // recursive CTEs being built, by work id
}

func (b *builder) build(n logical.Node) (Plan, error) {
	if err := b.ctx.Err(); err != nil {
		return nil, err
	}
	switch n := n.(type) {
	case *logical.Scan:
		return b.buildScan(n)
	case *logical.Values:
		rows := make([][]expr.Expr, len(n.Rows))
		for i, r := range n.Rows {
			es, err := ToExprs(r, logical.NewSchema())
			if err != nil {
				return nil, err
			}
			rows[i] = es
		}
		return &Values{Rows: rows, Out: n.Schema().ToArrow()}, nil
	case *logical.Filter:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		pred, err := ToExpr(n.Predicate, n.Input.Schema())
		if err != nil {
			return nil, err
		}
		return &Filter{Input: in, Predicate: pred}, nil
	case *logical.Project:
		return b.buildProject(n)
	case *logical.Aggregate:
		return b.buildAggregate(n)
	case *logical.Join:
		return b.buildJoin(n)
	case *logical.Sort:
		in, err := b.build(n.Input)
		if err != nil {
			return nil, err
		}
		keys, err := toSortKeys(n.Keys, n.Input.Schema())
		if err != nil {
			return nil, err
		}
		return b.sorted(in, keys, -1), nil
	case *logical.Limit:
		return b.buildLimit(n)
	case *logical.SetOp:
		return b.buildSetOp(n)
	case *logical.Window:
		return b.buildWindow(n)
	case *logical.RecursiveCTE:
		return b.buildRecursive(n)
	case *logical.WorkTable:
		return b.buildWorkTable(n)
	}
	return nil, qerr.New(qerr.Internal, "internal: cannot plan %T", n)
}

// enforce wraps child in an Exchange when its partitioning misses d.
func (b *builder) enforce(child Plan, d Distribution) Plan {
	if child.Partitioning().Satisfies(d) {
		return child
	}
	switch d.Kind {
	case HashDistribution:
		if b.opts.TargetPartitions > 1 {
			return &Exchange{Input: child, Target: Partitioning{Kind: HashPartitioning, Keys: d.Keys, Count: b.opts.TargetPartitions}}
		}
		return &Exchange{Input: child, Target: single()}
	case BroadcastDistribution:
		return &Exchange{Input: child, Target: single(), Broadcast: true}
	}
	return &Exchange{Input: child, Target: single()}
}

func (b *builder) buildScan(n *logical.Scan) (Plan, error) {
	out := n.Schema().ToArrow()
	filters, err := ToExprs(n.Filters, n.Schema())
	if err != nil {
		return nil, err
	}
	if n.Table.Kind == catalog.SystemTable {
		var p Plan = &MemoryScan{Table: n.Table, Columns: n.Columns, Out: out}
		if len(filters) > 0 {
			p = &Filter{Input: p, Predicate: andAll(filters)}
		}
		if n.Limit >= 0 {
			p = &Limit{Input: p, Count: n.Limit}
		}
		return p, nil
	}
	if n.Table.Kind != catalog.BaseTable {
		return nil, qerr.New(qerr.Internal, "internal: view %s.%s was not expanded", n.Table.Schema, n.Table.Name)
	}
	return &Scan{Table: n.Table, Columns: n.Columns, Filters: filters, Splits: Splits(n.Table, b.opts.TargetPartitions), Limit: n.Limit, Out: out}, nil
}

func andAll(es []expr.Expr) expr.Expr {
	e := es[0]
	for _, x := range es[1:] {
		c, err := expr.NewCall("and", []expr.Expr{e, x}, arrow.FixedWidthTypes.Boolean)
		if err != nil {
			return e
		}
		e = c
	}
	return e
}

// Splits distributes a table's Parquet row groups (or CSV files) over at most
// target partitions, balancing rows (bytes for CSV). A table without data
// still gets one (empty) partition.
func Splits(t *catalog.Table, target int) [][]catalog.Split {
	type unit struct {
		file, rg int // rg < 0: whole file
		weight   int64
	}
	var units []unit
	for fi, f := range t.Files {
		if t.Format == catalog.Parquet && len(f.RowGroups) > 0 {
			for _, rg := range f.RowGroups {
				units = append(units, unit{fi, rg.Index, rg.NumRows})
			}
			continue
		}
		w := f.NumRows
		if w < 0 || t.Format == catalog.CSV {
			w = f.Size
		}
		units = append(units, unit{fi, -1, w})
	}
	if len(units) == 0 {
		return [][]catalog.Split{nil}
	}
	k := min(max(target, 1), len(units))
	// Largest first onto the lightest bin: within 4/3 of optimal.
	order := make([]int, len(units))
	for i := range order {
		order[i] = i
	}
	sort.SliceStable(order, func(a, b int) bool { return units[order[a]].weight > units[order[b]].weight })
	load := make([]int64, k)
	bins := make([][]unit, k)
	for _, ui := range order {
		best := 0
		for i := 1; i < k; i++ {
			if load[i] < load[best] {
				best = i
			}
		}
		load[best] += units[ui].weight
		bins[best] = append(bins[best], units[ui])
	}
	out := make([][]catalog.Split, k)
	for i, bin := range bins {
		sort.Slice(bin, func(a, b int) bool {
			if bin[a].file != bin[b].file {
				return bin[a].file < bin[b].file
			}
			return bin[a].rg < bin[b].rg
		})
		for _, u := range bin {
			if u.rg < 0 {
				out[i] = append(out[i], catalog.Split{File: t.Files[u.file]})
				continue
			}
			if l := len(out[i]); l > 0 && out[i][l-1].File.Path == t.Files[u.file].Path && out[i][l-1].RowGroups != nil {
				out[i][l-1].RowGroups = append(out[i][l-1].RowGroups, u.rg)
				continue
			}
			out[i] = append(out[i], catalog.Split{File: t.Files[u.file], RowGroups: []int{u.rg}})
		}
	}
	return out
}

func (b *builder) buildAggregate(n *logical.Aggregate) (Plan, error) {
	in, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	ins := n.Input.Schema()
	groupBy, err := ToExprs(n.GroupBy, ins)
	if err != nil {
		return nil, err
	}
	specs := make([]ops.AggSpec, len(n.Aggs))
	for i, a := range n.Aggs {
		args, err := ToExprs(a.Args, ins)
		if err != nil {
			return nil, err
		}
		spec := ops.AggSpec{Func: a.Func, Args: args, Distinct: a.Distinct, Separator: a.Separator, Type: a.Type}
		if a.Filter != nil {
			if spec.Filter, err = ToExpr(a.Filter, ins); err != nil {
				return nil, err
			}
		}
		if spec.OrderBy, err = toSortKeys(a.OrderBy, ins); err != nil {
			return nil, err
		}
		specs[i] = spec
	}
	return b.aggregate(in, groupBy, specs, n.Schema().ToArrow()), nil
}

// aggregate plans a grouping over in: one Single-mode aggregate when in is
// one partition, Partial → Exchange → Final when every aggregate splits,
// else Exchange → Single.
func (b *builder) aggregate(in Plan, groupBy []expr.Expr, specs []ops.AggSpec, out *arrow.Schema) Plan {
	single := &HashAggregate{Input: in, Mode: ops.AggSingle, GroupBy: groupBy, Aggs: specs, Out: out}
	if in.Partitioning().Count == 1 {
		return single
	}
	splittable := true
	for _, s := range specs {
		if !agg.Splittable(s) {
			splittable = false
			break
		}
	}
	if !splittable {
		single.Input = b.enforce(in, single.RequiredChildDistribution()[0])
		return single
	}
	fields := append([]arrow.Field{}, out.Fields()[:len(groupBy)]...)
	for _, s := range specs {
		fields = append(fields, agg.StateFields(s)...)
	}
	partial := &HashAggregate{Input: in, Mode: ops.AggPartial, GroupBy: groupBy, Aggs: specs, Out: arrow.NewSchema(fields, nil)}
	keys := make([]expr.Expr, len(groupBy))
	for i, g := range groupBy {
		keys[i] = expr.NewColumn(i, fields[i].Name, g.DataType())
	}
	final := &HashAggregate{Mode: ops.AggFinal, GroupBy: keys, Aggs: specs, Out: out}
	final.Input = b.enforce(partial, final.RequiredChildDistribution()[0])
	return final
}

// joinKeys splits a join condition into equi-key pairs (left expr over ls,
// right expr over rs) and a residual over ls++rs.
func joinKeys(cond logical.Expr, ls, rs *logical.Schema) (lk, rk []logical.Expr, nullEq []bool, residual []logical.Expr) {
	if cond == nil {
		return nil, nil, nil, nil
	}
	for _, c := range logical.SplitAnd(cond) {
		call, ok := c.(*logical.Call)
		if ok && (call.Func == "=" || call.Func == "<=>") && len(call.Args) == 2 {
			a, b := call.Args[0], call.Args[1]
			switch {
			case refsWithin(a, ls) && refsWithin(b, rs):
				lk, rk, nullEq = append(lk, a), append(rk, b), append(nullEq, call.Func == "<=>")
				continue
			case refsWithin(b, ls) && refsWithin(a, rs):
				lk, rk, nullEq = append(lk, b), append(rk, a), append(nullEq, call.Func == "<=>")
				continue
			}
		}
		residual = append(residual, c)
	}
	return lk, rk, nullEq, residual
}

// nullAwareKeys splits the condition of a NOT IN join: its IN equalities
// (the first NullAwareKeys conjuncts) become the leading keys, a constant
// needle included (5 NOT IN (SELECT y ...)); the other conjuncts split as in
// joinKeys and their keys are strict (plain equality selecting the rows).
func nullAwareKeys(n *logical.Join, ls, rs *logical.Schema) (lk, rk []logical.Expr, nullEq []bool, residual []logical.Expr, strict []bool, err error) {
	conj := logical.SplitAnd(n.Condition)
	if len(conj) < n.NullAwareKeys {
		return nil, nil, nil, nil, nil, qerr.New(qerr.Internal, "internal: NOT IN join with %d of %d IN equalities", len(conj), n.NullAwareKeys)
	}
	for _, c := range conj[:n.NullAwareKeys] {
		call, ok := c.(*logical.Call)
		if !ok || call.Func != "=" || len(call.Args) != 2 {
			return nil, nil, nil, nil, nil, qerr.New(qerr.Unimplemented, "NOT IN comparing %s is not supported", c)
		}
		a, b := call.Args[0], call.Args[1]
		if !refsWithin(b, rs) {
			a, b = b, a
		}
		if !refsWithin(b, rs) || !refsWithin(a, ls) && !constant(a) {
			return nil, nil, nil, nil, nil, qerr.New(qerr.Unimplemented, "NOT IN comparing %s is not supported", c)
		}
		lk, rk, strict = append(lk, a), append(rk, b), append(strict, false)
	}
	l2, r2, ne2, residual := joinKeys(andExprs(conj[n.NullAwareKeys:]), ls, rs)
	nullEq = append(make([]bool, len(lk)), ne2...)
	for range l2 {
		strict = append(strict, true)
	}
	return append(lk, l2...), append(rk, r2...), nullEq, residual, strict, nil
}

// constant reports whether e reads no column and no subquery.
func constant(e logical.Expr) bool {
	switch e.(type) {
	case *logical.ColumnRef, *logical.Subquery:
		return false
	}
	for _, c := range e.Children() {
		if !constant(c) {
			return false
		}
	}
	return true
}

// refsWithin reports whether e references at least one column and only
// columns of s.
func refsWithin(e logical.Expr, s *logical.Schema) bool {
	any := false
	ok := true
	var walk func(logical.Expr)
	walk = func(e logical.Expr) {
		switch e := e.(type) {
		case *logical.ColumnRef:
			any = true
			if s.IndexOf(e.ID) < 0 {
				ok = false
			}
		case *logical.Subquery:
			ok = false
		}
		for _, c := range e.Children() {
			walk(c)
		}
	}
	walk(e)
	return any && ok
}

func andExprs(es []logical.Expr) logical.Expr {
	if len(es) == 0 {
		return nil
	}
	e := es[0]
	for _, x := range es[1:] {
		e = &logical.Call{Func: "and", Args: []logical.Expr{e, x}, Type: arrow.FixedWidthTypes.Boolean}
	}
	return e
}

func (b *builder) buildJoin(n *logical.Join) (Plan, error) {
	left, err := b.build(n.Left)
	if err != nil {
		return nil, err
	}
	right, err := b.build(n.Right)
	if err != nil {
		return nil, err
	}
	ls, rs := n.Left.Schema(), n.Right.Schema()
	typ := n.Type
	if typ == logical.CrossJoin {
		typ = logical.InnerJoin
	}
	lk, rk, nullEq, residual := joinKeys(n.Condition, ls, rs)
	var strict []bool
	if n.NullAware && n.NullAwareKeys > 0 {
		if lk, rk, nullEq, residual, strict, err = nullAwareKeys(n, ls, rs); err != nil {
			return nil, err
		}
	}
	estL, estR := EstimateRows(n.Left), EstimateRows(n.Right)
	swap := typ == logical.RightJoin ||
		typ == logical.InnerJoin && len(lk) > 0 && estL*swapFactor < estR
	if !swap {
		return b.join(left, right, ls, rs, n.Schema(), typ, lk, rk, nullEq, residual, n.NullAware, strict, estR)
	}
	// Build on the smaller side / turn RIGHT into LEFT: swap the inputs, then
	// restore the column order.
	if typ == logical.RightJoin {
		typ = logical.LeftJoin
	}
	swapped := &logical.Join{Left: n.Right, Right: n.Left, Type: typ}
	p, err := b.join(right, left, rs, ls, swapped.Schema(), typ, rk, lk, nullEq, residual, n.NullAware, strict, estL)
	if err != nil {
		return nil, err
	}
	return reorder(p, swapped.Schema(), n.Schema())
}

// reorder projects p (producing columns `have`) to the columns of `want`.
func reorder(p Plan, have, want *logical.Schema) (Plan, error) {
	es := make([]expr.Expr, len(want.Fields))
	for i, f := range want.Fields {
		j := have.IndexOf(f.ID)
		if j < 0 {
			return nil, qerr.New(qerr.Internal, "internal: column %s lost in join swap", f)
		}
		es[i] = expr.NewColumn(j, f.Name, f.Type)
	}
	return &Project{Input: p, Exprs: es, Out: want.ToArrow()}, nil
}

func (b *builder) join(left, right Plan, ls, rs, out *logical.Schema, typ logical.JoinType,
	lk, rk []logical.Expr, nullEq []bool, residual []logical.Expr, nullAware bool, strict []bool, estR float64) (Plan, error) {
	both := ls.Concat(rs)
	var filter expr.Expr
	if len(residual) > 0 {
		f, err := ToExpr(andExprs(residual), both)
		if err != nil {
			return nil, err
		}
		filter = f
	}
	// ops.JoinType enumerates the same join types in the same order.
	otyp := ops.JoinType(typ)
	if len(lk) == 0 {
		nl := &NestedLoopJoin{Left: left, Right: right, Type: otyp, Condition: filter, Out: out.ToArrow()}
		req := nl.RequiredChildDistribution()
		nl.Left = b.enforce(left, req[0])
		nl.Right = b.broadcastOrSingle(nl.Left, right, req[1])
		return nl, nil
	}
	lkeys, err := ToExprs(lk, ls)
	if err != nil {
		return nil, err
	}
	rkeys, err := ToExprs(rk, rs)
	if err != nil {
		return nil, err
	}
	if err := unifyKeys(lkeys, rkeys); err != nil {
		return nil, err
	}
	hj := &HashJoin{Left: left, Right: right, Type: otyp, LeftKeys: lkeys, RightKeys: rkeys, Filter: filter, NullAware: nullAware, StrictKeys: strict, Out: out.ToArrow()}
	for _, ne := range nullEq {
		if ne {
			hj.NullEqual = nullEq
			break
		}
	}
	// NOT IN reads the build rows with NULL keys from every partition: they
	// would hash to one partition only.
	hj.Broadcast = nullAware || typ != logical.RightJoin && typ != logical.FullJoin &&
		b.opts.BroadcastThresholdRows > 0 && estR <= float64(b.opts.BroadcastThresholdRows)
	if left.Partitioning().Count == 1 && right.Partitioning().Count == 1 {
		return hj, nil
	}
	if hj.Broadcast {
		hj.Right = b.broadcastOrSingle(left, right, Distribution{Kind: BroadcastDistribution})
		return hj, nil
	}
	hj.Left = b.enforce(left, Distribution{Kind: HashDistribution, Keys: lkeys})
	hj.Right = b.enforce(right, Distribution{Kind: HashDistribution, Keys: rkeys})
	// A single-partition side meets Hash alone, but both sides must agree.
	if lc, rc := hj.Left.Partitioning().Count, hj.Right.Partitioning().Count; lc != rc {
		hashTo := func(p Plan, keys []expr.Expr) Plan {
			return &Exchange{Input: p, Target: Partitioning{Kind: HashPartitioning, Keys: keys, Count: b.opts.TargetPartitions}}
		}
		if lc != b.opts.TargetPartitions {
			hj.Left = hashTo(hj.Left, lkeys)
		}
		if rc != b.opts.TargetPartitions {
			hj.Right = hashTo(hj.Right, rkeys)
		}
	}
	return hj, nil
}

// broadcastOrSingle makes right readable whole by every partition of left:
// a single-partition left needs only a single-partition right.
func (b *builder) broadcastOrSingle(left, right Plan, d Distribution) Plan {
	if d.Kind != BroadcastDistribution {
		return b.enforce(right, d)
	}
	if left.Partitioning().Count == 1 {
		return b.enforce(right, Distribution{Kind: SingleDistribution})
	}
	return &Exchange{Input: right, Target: single(), Broadcast: true}
}

// sorted sorts in: per partition, then gathered and merged by a final sort.
func (b *builder) sorted(in Plan, keys []expr.SortKey, fetch int64) Plan {
	if in.Partitioning().Count == 1 {
		return &Sort{Input: in, Keys: keys, Fetch: fetch}
	}
	local := &Sort{Input: in, Keys: keys, Fetch: fetch}
	return &Sort{Input: &Exchange{Input: local, Target: single()}, Keys: keys, Fetch: fetch}
}

func (b *builder) buildLimit(n *logical.Limit) (Plan, error) {
	fetch := int64(-1)
	if n.Count >= 0 {
		fetch = n.Offset + n.Count
	}
	if s, ok := n.Input.(*logical.Sort); ok && fetch >= 0 {
		in, err := b.build(s.Input)
		if err != nil {
			return nil, err
		}
		keys, err := toSortKeys(s.Keys, s.Input.Schema())
		if err != nil {
			return nil, err
		}
		top := b.sorted(in, keys, fetch)
		if n.Offset == 0 {
			return top, nil
		}
		return &Limit{Input: top, Offset: n.Offset, Count: n.Count}, nil
	}
	in, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	if in.Partitioning().Count > 1 {
		if fetch >= 0 {
			in = &Limit{Input: in, Count: fetch, Local: true}
		}
		in = &Exchange{Input: in, Target: single()}
	}
	return &Limit{Input: in, Offset: n.Offset, Count: n.Count}, nil
}

func (b *builder) buildSetOp(n *logical.SetOp) (Plan, error) {
	if n.All && n.Kind != logical.Union {
		return b.buildSetOpAll(n)
	}
	ins := make([]Plan, len(n.Inputs))
	for i, in := range n.Inputs {
		p, err := b.build(in)
		if err != nil {
			return nil, err
		}
		ins[i] = p
	}
	out := n.Schema().ToArrow()
	allCols := func(s *arrow.Schema) []expr.Expr {
		cols := make([]expr.Expr, s.NumFields())
		for i, f := range s.Fields() {
			cols[i] = expr.NewColumn(i, f.Name, f.Type)
		}
		return cols
	}
	switch n.Kind {
	case logical.Union:
		var p Plan
		if len(ins) == 1 {
			p = &Project{Input: ins[0], Exprs: allCols(ins[0].Schema()), Out: out}
		} else {
			p = &Union{Inputs: ins, Out: out}
		}
		if n.All {
			return p, nil
		}
		return b.aggregate(p, allCols(out), nil, out), nil
	}
	if len(ins) != 2 {
		return nil, qerr.New(qerr.Internal, "internal: %s with %d inputs", n.Kind, len(ins))
	}
	// INTERSECT/EXCEPT: semi/anti join on all columns, NULLs equal, then distinct.
	typ := logical.SemiJoin
	if n.Kind == logical.Except {
		typ = logical.AntiJoin
	}
	ls, rs := n.Inputs[0].Schema(), n.Inputs[1].Schema()
	lk := make([]logical.Expr, len(ls.Fields))
	rk := make([]logical.Expr, len(ls.Fields))
	nullEq := make([]bool, len(ls.Fields))
	for i := range ls.Fields {
		lf, rf := ls.Fields[i], rs.Fields[i]
		lk[i] = &logical.ColumnRef{ID: lf.ID, Name: lf.Name, Type: lf.Type, Nullable: lf.Nullable}
		rk[i] = &logical.ColumnRef{ID: rf.ID, Name: rf.Name, Type: rf.Type, Nullable: rf.Nullable}
		nullEq[i] = true
	}
	j, err := b.join(ins[0], ins[1], ls, rs, ls, typ, lk, rk, nullEq, nil, false, nil, EstimateRows(n.Inputs[1]))
	if err != nil {
		return nil, err
	}
	return b.aggregate(j, allCols(out), nil, out), nil
}

// buildSetOpAll plans INTERSECT ALL / EXCEPT ALL as a semi / anti join on
// all columns (NULLs equal) plus each row's occurrence number among its
// duplicates: the k-th copy of a row survives INTERSECT ALL when the right
// side has at least k copies, EXCEPT ALL when it has fewer.
func (b *builder) buildSetOpAll(n *logical.SetOp) (Plan, error) {
	next := logical.ColumnID(0)
	for _, in := range n.Inputs {
		for _, f := range in.Schema().Fields {
			next = max(next, f.ID+1)
		}
	}
	numbered := func(in logical.Node, id logical.ColumnID) (*logical.Window, logical.Field) {
		rn := logical.Field{ID: id, Name: "occurrence", Type: arrow.PrimitiveTypes.Int64}
		var part []logical.Expr
		for _, f := range in.Schema().Fields {
			part = append(part, &logical.ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable})
		}
		w := &logical.Window{Input: in, Fields: []logical.Field{rn},
			Funcs: []*logical.WindowCall{{Func: "row_number", PartitionBy: part, Type: rn.Type}}}
		return w, rn
	}
	l, lrn := numbered(n.Inputs[0], next)
	r, rrn := numbered(n.Inputs[1], next+1)
	boolT := arrow.FixedWidthTypes.Boolean
	ref := func(f logical.Field) logical.Expr {
		return &logical.ColumnRef{ID: f.ID, Name: f.Name, Type: f.Type, Nullable: f.Nullable}
	}
	conds := []logical.Expr{&logical.Call{Func: "=", Args: []logical.Expr{ref(lrn), ref(rrn)}, Type: boolT}}
	rs := n.Inputs[1].Schema().Fields
	for i, f := range n.Inputs[0].Schema().Fields {
		conds = append(conds, &logical.Call{Func: "<=>", Args: []logical.Expr{ref(f), ref(rs[i])}, Type: boolT})
	}
	typ := logical.SemiJoin
	if n.Kind == logical.Except {
		typ = logical.AntiJoin
	}
	j := &logical.Join{Left: l, Right: r, Type: typ, Condition: andExprs(conds)}
	exprs := make([]logical.Expr, len(n.Fields))
	for i, f := range n.Inputs[0].Schema().Fields {
		exprs[i] = ref(f)
	}
	return b.build(&logical.Project{Input: j, Exprs: exprs, Fields: n.Fields})
}

func (b *builder) buildWindow(n *logical.Window) (Plan, error) {
	in, err := b.build(n.Input)
	if err != nil {
		return nil, err
	}
	// Functions sharing PARTITION BY and ORDER BY run in one Window node
	// over one sort; different specs chain, and a Project restores order.
	cur := n.Input.Schema()
	var groups [][]int
	keyOf := map[string]int{}
	for i, f := range n.Funcs {
		k := fmt.Sprint(f.PartitionBy, f.OrderBy)
		g, ok := keyOf[k]
		if !ok {
			g = len(groups)
			keyOf[k] = g
			groups = append(groups, nil)
		}
		groups[g] = append(groups[g], i)
	}
	p := in
	for _, g := range groups {
		first := n.Funcs[g[0]]
		specs := make([]ops.WindowSpec, len(g))
		for j, fi := range g {
			if specs[j], err = windowSpec(n.Funcs[fi], cur); err != nil {
				return nil, err
			}
		}
		next := &logical.Window{Input: &logical.Values{Fields: cur.Fields}}
		for _, fi := range g {
			next.Fields = append(next.Fields, n.Fields[fi])
		}
		win := &Window{Funcs: specs, Out: next.Schema().ToArrow()}
		p = b.enforce(p, win.RequiredChildDistribution()[0])
		var keys []expr.SortKey
		for _, pk := range specs[0].PartitionBy {
			keys = append(keys, expr.SortKey{Expr: pk})
		}
		if len(first.OrderBy) > 0 {
			keys = append(keys, specs[0].OrderBy...)
		}
		if len(keys) > 0 {
			p = &Sort{Input: p, Keys: keys, Fetch: -1}
		}
		win.Input = p
		p = win
		cur = next.Schema()
	}
	if len(groups) > 1 {
		return reorder(p, cur, n.Schema())
	}
	return p, nil
}

func windowSpec(f *logical.WindowCall, s *logical.Schema) (ops.WindowSpec, error) {
	args, err := ToExprs(f.Args, s)
	if err != nil {
		return ops.WindowSpec{}, err
	}
	part, err := ToExprs(f.PartitionBy, s)
	if err != nil {
		return ops.WindowSpec{}, err
	}
	order, err := toSortKeys(f.OrderBy, s)
	if err != nil {
		return ops.WindowSpec{}, err
	}
	spec := ops.WindowSpec{Func: f.Func, Args: args, Distinct: f.Distinct, PartitionBy: part, OrderBy: order, Type: f.Type}
	if f.Frame != nil {
		fr := &ops.WindowFrame{Rows: f.Frame.Unit == logical.FrameRows}
		if fr.Start, err = frameBound(f.Frame.Start, fr.Rows, s); err != nil {
			return spec, err
		}
		if fr.End, err = frameBound(f.Frame.End, fr.Rows, s); err != nil {
			return spec, err
		}
		spec.Frame = fr
	}
	return spec, nil
}

func frameBound(fb logical.FrameBound, rows bool, s *logical.Schema) (ops.FrameBound, error) {
	out := ops.FrameBound{Kind: ops.FrameBoundKind(fb.Kind)}
	if fb.Offset == nil {
		return out, nil
	}
	if !rows {
		v, err := ToExpr(fb.Offset, s)
		out.OffsetValue = v
		return out, err
	}
	lit, ok := fb.Offset.(*logical.Literal)
	if !ok || !lit.Value.IsValid() {
		return out, qerr.New(qerr.InvalidArgument, "window frame offset must be a non-negative integer constant")
	}
	n, ok := intValue(lit.Value)
	if !ok || n < 0 {
		return out, qerr.New(qerr.InvalidArgument, "window frame offset must be a non-negative integer constant")
	}
	out.Offset = n
	return out, nil
}

func intValue(s scalar.Scalar) (int64, bool) {
	switch v := s.(type) {
	case *scalar.Int8:
		return int64(v.Value), true
	case *scalar.Int16:
		return int64(v.Value), true
	case *scalar.Int32:
		return int64(v.Value), true
	case *scalar.Int64:
		return v.Value, true
	case *scalar.Uint8:
		return int64(v.Value), true
	case *scalar.Uint16:
		return int64(v.Value), true
	case *scalar.Uint32:
		return int64(v.Value), true
	case *scalar.Uint64:
		return int64(v.Value), true
	}
	return 0, false
}

func fieldNames(fs []arrow.Field) string {
	s := ""
	for i, f := range fs {
		if i > 0 {
			s += ", "
		}
		s += f.Name
	}
	return s
}
