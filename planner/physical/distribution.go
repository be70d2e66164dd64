package physical

import (
	"fmt"
	"strings"

	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/execution/ops"
)

func single() Partitioning { return Partitioning{Kind: SinglePartition, Count: 1} }

func unknown(n int) Partitioning {
	if n <= 1 {
		return single()
	}
	return Partitioning{Kind: UnknownPartitioning, Count: n}
}

// Satisfies reports whether partitioning p meets distribution d. One
// partition meets every requirement but Broadcast (which the join planner
// handles: a single-partition parent needs no broadcast).
func (p Partitioning) Satisfies(d Distribution) bool {
	switch d.Kind {
	case AnyDistribution:
		return true
	case SingleDistribution:
		return p.Count == 1
	case HashDistribution:
		return p.Count == 1 || p.Kind == HashPartitioning && sameKeys(p.Keys, d.Keys)
	}
	return false
}

// keysThrough rewrites hash keys of a child's partitioning into a parent's
// output columns; ok is false when some key is not passed through as a bare
// column (the parent's partitioning is then Unknown).
func keysThrough(keys []expr.Expr, exprs []expr.Expr) ([]expr.Expr, bool) {
	out := make([]expr.Expr, len(keys))
	for i, k := range keys {
		ki, ok := columnIndex(k)
		if !ok {
			return nil, false
		}
		found := false
		for j, e := range exprs {
			if ei, ok := columnIndex(e); ok && ei == ki {
				out[i] = expr.NewColumn(j, fmt.Sprint(e), e.DataType())
				found = true
				break
			}
		}
		if !found {
			return nil, false
		}
	}
	return out, true
}

func (n *Scan) Partitioning() Partitioning                { return unknown(len(n.Splits)) }
func (n *Scan) RequiredChildDistribution() []Distribution { return nil }
func (n *Scan) String() string {
	cols := make([]string, len(n.Columns))
	for i, c := range n.Columns {
		cols[i] = n.Table.Columns.Field(c).Name
	}
	s := fmt.Sprintf("Scan %s.%s [%s] partitions=%d", n.Table.Schema, n.Table.Name, strings.Join(cols, ", "), len(n.Splits))
	if len(n.Filters) > 0 {
		s += fmt.Sprintf(" filters=%v", n.Filters)
	}
	if n.Limit >= 0 {
		s += fmt.Sprintf(" limit=%d", n.Limit)
	}
	return s
}

func (n *MemoryScan) Partitioning() Partitioning                { return single() }
func (n *MemoryScan) RequiredChildDistribution() []Distribution { return nil }
func (n *MemoryScan) String() string {
	cols := make([]string, len(n.Columns))
	for i, c := range n.Columns {
		cols[i] = n.Table.Columns.Field(c).Name
	}
	return fmt.Sprintf("MemoryScan %s.%s [%s]", n.Table.Schema, n.Table.Name, strings.Join(cols, ", "))
}

func (n *Values) Partitioning() Partitioning                { return single() }
func (n *Values) RequiredChildDistribution() []Distribution { return nil }
func (n *Values) String() string {
	return fmt.Sprintf("Values rows=%d [%s]", len(n.Rows), fieldNames(n.Out.Fields()))
}

func (n *Filter) Partitioning() Partitioning                { return n.Input.Partitioning() }
func (n *Filter) RequiredChildDistribution() []Distribution { return []Distribution{{}} }
func (n *Filter) String() string                            { return fmt.Sprintf("Filter %v", n.Predicate) }

func (n *Project) Partitioning() Partitioning {
	p := n.Input.Partitioning()
	if p.Kind != HashPartitioning {
		return p
	}
	keys, ok := keysThrough(p.Keys, n.Exprs)
	if !ok {
		return unknown(p.Count)
	}
	return Partitioning{Kind: HashPartitioning, Keys: keys, Count: p.Count}
}
func (n *Project) RequiredChildDistribution() []Distribution { return []Distribution{{}} }
func (n *Project) String() string {
	parts := make([]string, len(n.Exprs))
	for i, e := range n.Exprs {
		parts[i] = fmt.Sprintf("%v AS %s", e, n.Out.Field(i).Name)
	}
	return "Project " + strings.Join(parts, ", ")
}

func (n *HashAggregate) Partitioning() Partitioning {
	p := n.Input.Partitioning()
	if p.Count == 1 {
		return single()
	}
	if n.Mode == ops.AggPartial || len(n.GroupBy) == 0 {
		return unknown(p.Count)
	}
	// Final/Single: rows of one group are in one partition (the required
	// distribution) and the keys are the first output columns.
	keys := make([]expr.Expr, len(n.GroupBy))
	for i, g := range n.GroupBy {
		keys[i] = expr.NewColumn(i, n.Out.Field(i).Name, g.DataType())
	}
	return Partitioning{Kind: HashPartitioning, Keys: keys, Count: p.Count}
}
func (n *HashAggregate) RequiredChildDistribution() []Distribution {
	switch {
	case n.Mode == ops.AggPartial:
		return []Distribution{{}}
	case len(n.GroupBy) == 0:
		return []Distribution{{Kind: SingleDistribution}}
	}
	return []Distribution{{Kind: HashDistribution, Keys: n.GroupBy}}
}
func (n *HashAggregate) String() string {
	aggs := make([]string, len(n.Aggs))
	for i, a := range n.Aggs {
		aggs[i] = aggString(a)
	}
	return fmt.Sprintf("HashAggregate mode=%s group=%v aggs=[%s]", n.Mode, n.GroupBy, strings.Join(aggs, ", "))
}

func aggString(a ops.AggSpec) string {
	d := ""
	if a.Distinct {
		d = "DISTINCT "
	}
	s := fmt.Sprintf("%s(%s%v)", a.Func, d, a.Args)
	if a.Filter != nil {
		s += fmt.Sprintf(" filter %v", a.Filter)
	}
	return s
}

func (n *HashJoin) Partitioning() Partitioning {
	p := n.Left.Partitioning()
	if p.Count == 1 {
		return single()
	}
	switch n.Type {
	case ops.RightJoin, ops.FullJoin:
		// Null-extended rows carry NULL left keys wherever their right row was.
		return unknown(p.Count)
	}
	if !n.Broadcast {
		p = Partitioning{Kind: HashPartitioning, Keys: n.LeftKeys, Count: p.Count}
	}
	// Left columns come first, so the left's keys keep their indices unless
	// a projection moves or drops them.
	if n.Proj == nil || p.Kind != HashPartitioning {
		return p
	}
	cols := make([]expr.Expr, len(n.Proj))
	for i, c := range n.Proj {
		f := n.Out.Field(i)
		cols[i] = expr.NewColumn(c, f.Name, f.Type)
	}
	keys, ok := keysThrough(p.Keys, cols)
	if !ok {
		return unknown(p.Count)
	}
	return Partitioning{Kind: HashPartitioning, Keys: keys, Count: p.Count}
}
func (n *HashJoin) RequiredChildDistribution() []Distribution {
	if n.Broadcast {
		return []Distribution{{}, {Kind: BroadcastDistribution}}
	}
	return []Distribution{{Kind: HashDistribution, Keys: n.LeftKeys}, {Kind: HashDistribution, Keys: n.RightKeys}}
}
func (n *HashJoin) String() string {
	s := fmt.Sprintf("HashJoin %s", n.Type)
	if n.Broadcast {
		s += " broadcast"
	} else {
		s += " partitioned"
	}
	keys := make([]string, len(n.LeftKeys))
	for i := range n.LeftKeys {
		op := "="
		if i < len(n.NullEqual) && n.NullEqual[i] {
			op = "<=>"
		}
		keys[i] = fmt.Sprintf("%v %s %v", n.LeftKeys[i], op, n.RightKeys[i])
	}
	s += " on [" + strings.Join(keys, ", ") + "]"
	if n.Filter != nil {
		s += fmt.Sprintf(" filter=%v", n.Filter)
	}
	if n.NullAware {
		s += " null-aware"
		if n.StrictKeys != nil {
			s += fmt.Sprintf(" strict=%v", n.StrictKeys)
		}
	}
	if n.Proj != nil {
		names := make([]string, len(n.Proj))
		for i, f := range n.Out.Fields() {
			names[i] = f.Name
		}
		s += " out=[" + strings.Join(names, ", ") + "]"
	}
	return s
}

func (n *NestedLoopJoin) Partitioning() Partitioning {
	if n.Type == ops.RightJoin || n.Type == ops.FullJoin {
		return single()
	}
	return n.Left.Partitioning()
}
func (n *NestedLoopJoin) RequiredChildDistribution() []Distribution {
	if n.Type == ops.RightJoin || n.Type == ops.FullJoin {
		return []Distribution{{Kind: SingleDistribution}, {Kind: SingleDistribution}}
	}
	return []Distribution{{}, {Kind: BroadcastDistribution}}
}
func (n *NestedLoopJoin) String() string {
	s := fmt.Sprintf("NestedLoopJoin %s", n.Type)
	if n.Condition != nil {
		s += fmt.Sprintf(" on %v", n.Condition)
	}
	return s
}

func (n *Sort) Partitioning() Partitioning                { return n.Input.Partitioning() }
func (n *Sort) RequiredChildDistribution() []Distribution { return []Distribution{{}} }
func (n *Sort) String() string {
	keys := make([]string, len(n.Keys))
	for i, k := range n.Keys {
		dir := "ASC"
		if k.Desc {
			dir = "DESC"
		}
		nulls := "NULLS LAST"
		if k.NullsFirst {
			nulls = "NULLS FIRST"
		}
		keys[i] = fmt.Sprintf("%v %s %s", k.Expr, dir, nulls)
	}
	s := "Sort [" + strings.Join(keys, ", ") + "]"
	if n.Fetch >= 0 {
		s += fmt.Sprintf(" fetch=%d", n.Fetch)
	}
	return s
}

func (n *Limit) Partitioning() Partitioning {
	if n.Local {
		return n.Input.Partitioning()
	}
	return single()
}
func (n *Limit) RequiredChildDistribution() []Distribution {
	if n.Local {
		return []Distribution{{}}
	}
	return []Distribution{{Kind: SingleDistribution}}
}
func (n *Limit) String() string {
	s := fmt.Sprintf("Limit offset=%d count=%d", n.Offset, n.Count)
	if n.Local {
		s += " local"
	}
	return s
}

func (n *Union) Partitioning() Partitioning {
	total := 0
	for _, in := range n.Inputs {
		total += in.Partitioning().Count
	}
	return unknown(total)
}
func (n *Union) RequiredChildDistribution() []Distribution {
	return make([]Distribution, len(n.Inputs))
}
func (n *Union) String() string { return fmt.Sprintf("Union inputs=%d", len(n.Inputs)) }

func (n *Window) Partitioning() Partitioning { return n.Input.Partitioning() }
func (n *Window) RequiredChildDistribution() []Distribution {
	if len(n.Funcs) == 0 || len(n.Funcs[0].PartitionBy) == 0 {
		return []Distribution{{Kind: SingleDistribution}}
	}
	return []Distribution{{Kind: HashDistribution, Keys: n.Funcs[0].PartitionBy}}
}
func (n *Window) String() string {
	fs := make([]string, len(n.Funcs))
	for i, f := range n.Funcs {
		fs[i] = fmt.Sprintf("%s(%v) partition=%v order=%d", f.Func, f.Args, f.PartitionBy, len(f.OrderBy))
	}
	return "Window [" + strings.Join(fs, ", ") + "]"
}

func (n *Exchange) Partitioning() Partitioning                { return n.Target }
func (n *Exchange) RequiredChildDistribution() []Distribution { return []Distribution{{}} }
func (n *Exchange) String() string {
	if n.Broadcast {
		return "Exchange broadcast"
	}
	return fmt.Sprintf("Exchange %v", n.Target)
}

func (n *ShuffleWrite) Partitioning() Partitioning                { return n.Target }
func (n *ShuffleWrite) RequiredChildDistribution() []Distribution { return []Distribution{{}} }
func (n *ShuffleWrite) String() string {
	if n.Broadcast {
		return fmt.Sprintf("ShuffleWrite stage=%d broadcast", n.Stage)
	}
	return fmt.Sprintf("ShuffleWrite stage=%d %v", n.Stage, n.Target)
}

func (n *ShuffleRead) Partitioning() Partitioning {
	if n.Broadcast {
		return single()
	}
	return n.Part
}
func (n *ShuffleRead) RequiredChildDistribution() []Distribution { return nil }
func (n *ShuffleRead) String() string {
	if n.Broadcast {
		return fmt.Sprintf("ShuffleRead stage=%d broadcast", n.Stage)
	}
	return fmt.Sprintf("ShuffleRead stage=%d %v", n.Stage, n.Part)
}
