package expr

import (
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// Common subexpression reuse: an operator rewrites its expression list with
// ShareCommon so that a subtree occurring more than once (TPC-H Q1's
// l_extendedprice * (1 - l_discount) in two aggregates) is computed once per
// batch. The cache lives for one evaluation pass: the operator calls
// Memo.Reset once it has evaluated the whole list over a batch.

// Memo holds the arrays of one operator's shared subexpressions for the
// batch being evaluated. It belongs to one operator instance (not the plan,
// which partitions execute concurrently).
type Memo struct {
	batch arrow.RecordBatch
	vals  []arrow.Array
}

// Reset releases the cached arrays; a nil Memo is a no-op.
func (m *Memo) Reset() {
	if m == nil {
		return
	}
	for i, a := range m.vals {
		if a != nil {
			a.Release()
			m.vals[i] = nil
		}
	}
	m.batch = nil
}

// Shared evaluates Input once per batch and hands out retained references.
type Shared struct {
	Input Expr
	memo  *Memo
	slot  int
}

func (s *Shared) DataType() arrow.DataType { return s.Input.DataType() }
func (s *Shared) String() string           { return s.Input.String() }

func (s *Shared) Eval(mem memory.Allocator, b arrow.RecordBatch) (arrow.Array, error) {
	m := s.memo
	if m.batch != b {
		// Safety net for a caller that forgot Reset: never serve another
		// batch's values.
		m.Reset()
		m.batch = b
	}
	if a := m.vals[s.slot]; a != nil {
		a.Retain()
		return a, nil
	}
	a, err := s.Input.Eval(mem, b)
	if err != nil {
		return nil, err
	}
	a.Retain()
	m.vals[s.slot] = a
	return a, nil
}

// ShareCommon returns exprs with every repeated non-trivial, deterministic
// subtree wrapped in a Shared node bound to a fresh Memo, or exprs unchanged
// and a nil Memo when nothing repeats. CASE is not entered: its branches
// run on row subsets, not on the batch the memo is keyed by.
func ShareCommon(exprs []Expr) ([]Expr, *Memo) {
	counts := map[string]int{}
	for _, e := range exprs {
		countSubtrees(e, counts)
	}
	slots := map[string]*Shared{}
	m := &Memo{}
	out := make([]Expr, len(exprs))
	for i, e := range exprs {
		out[i] = shareSubtrees(e, counts, slots, m)
	}
	if len(slots) == 0 {
		return exprs, nil
	}
	m.vals = make([]arrow.Array, len(slots))
	return out, m
}

func countSubtrees(e Expr, counts map[string]int) {
	k, ok := shareKey(e)
	if ok {
		counts[k]++
		if counts[k] > 1 {
			return // its subtrees were counted at the first occurrence
		}
	}
	for _, c := range children(e) {
		countSubtrees(c, counts)
	}
}

func shareSubtrees(e Expr, counts map[string]int, slots map[string]*Shared, m *Memo) Expr {
	if k, ok := shareKey(e); ok && counts[k] > 1 {
		if s, ok := slots[k]; ok {
			return s
		}
		s := &Shared{Input: rebuild(e, counts, slots, m), memo: m, slot: len(slots)}
		slots[k] = s
		return s
	}
	return rebuild(e, counts, slots, m)
}

// rebuild copies e with its children rewritten (CASE is left as is).
func rebuild(e Expr, counts map[string]int, slots map[string]*Shared, m *Memo) Expr {
	switch x := e.(type) {
	case *Call:
		nc := *x
		nc.Args = make([]Expr, len(x.Args))
		for i, a := range x.Args {
			nc.Args[i] = shareSubtrees(a, counts, slots, m)
		}
		return &nc
	case *CastExpr:
		return &CastExpr{Input: shareSubtrees(x.Input, counts, slots, m), Type: x.Type}
	}
	return e
}

func children(e Expr) []Expr {
	switch x := e.(type) {
	case *Call:
		return x.Args
	case *CastExpr:
		return []Expr{x.Input}
	}
	return nil
}

// shareKey is a structural key of e (column indexes, literal types and
// values, function names, result types); ok is false for trees not worth
// or not safe to share: bare columns and literals, volatile calls, CASE.
func shareKey(e Expr) (string, bool) {
	switch e.(type) {
	case *Call, *CastExpr:
	default:
		return "", false
	}
	var sb strings.Builder
	if !writeKey(&sb, e) {
		return "", false
	}
	return sb.String(), true
}

func writeKey(sb *strings.Builder, e Expr) bool {
	switch x := e.(type) {
	case *Column:
		sb.WriteString("#" + strconv.Itoa(x.Index) + ":" + x.Type.String())
	case *Literal:
		sb.WriteString("lit:" + x.Value.DataType().String() + ":")
		if x.Value.IsValid() {
			sb.WriteString(strconv.Quote(x.Value.String()))
		} else {
			sb.WriteString("NULL")
		}
	case *CastExpr:
		sb.WriteString("cast(")
		if !writeKey(sb, x.Input) {
			return false
		}
		sb.WriteString(" as " + x.Type.String() + ")")
	case *Call:
		if Volatile(x.Name) {
			return false
		}
		sb.WriteString(x.Name + ":" + x.Type.String() + "(")
		for _, a := range x.Args {
			if !writeKey(sb, a) {
				return false
			}
			sb.WriteString(",")
		}
		sb.WriteString(")")
	default:
		return false
	}
	return true
}
