package physical

import (
	"math"

	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/planner/logical"
)

// Selectivity guesses used when statistics say nothing better.
const (
	unknownTableRows  = 1000
	filterSelectivity = 0.25
)

// TableRows is the row count of a table from its statistics (files' row
// counts when the table-level figure is unknown).
func TableRows(t *catalog.Table) float64 {
	if t == nil {
		return unknownTableRows
	}
	if t.Stats.RowCount >= 0 && (t.Stats.RowCount > 0 || len(t.Files) == 0) {
		return float64(t.Stats.RowCount)
	}
	var n int64
	for _, f := range t.Files {
		if f.NumRows < 0 {
			return unknownTableRows
		}
		n += f.NumRows
	}
	if len(t.Files) == 0 {
		return unknownTableRows
	}
	return float64(n)
}

// EstimateRows guesses the output cardinality of a logical plan from table
// statistics with fixed selectivities. Joins on equality keys assume a
// key/foreign-key relationship: |L|·|R| / min(base(L), base(R)).
func EstimateRows(n logical.Node) float64 {
	rows, _ := estimate(n)
	return rows
}

// estimate returns (rows, base): base is the unfiltered size of the largest
// table underneath, the denominator of key/foreign-key join estimates.
func estimate(n logical.Node) (float64, float64) {
	switch n := n.(type) {
	case *logical.Scan:
		base := TableRows(n.Table)
		rows := base * math.Pow(filterSelectivity, float64(len(n.Filters)))
		if n.Limit >= 0 && float64(n.Limit) < rows {
			rows = float64(n.Limit)
		}
		return rows, base
	case *logical.Values:
		return float64(len(n.Rows)), float64(len(n.Rows))
	case *logical.Filter:
		rows, base := estimate(n.Input)
		return rows * math.Pow(filterSelectivity, float64(len(logical.SplitAnd(n.Predicate)))), base
	case *logical.Aggregate:
		rows, base := estimate(n.Input)
		if len(n.GroupBy) == 0 {
			return 1, 1
		}
		return math.Max(1, rows/4), base
	case *logical.Join:
		l, lb := estimate(n.Left)
		r, rb := estimate(n.Right)
		switch n.Type {
		case logical.SemiJoin:
			// Key/foreign-key again: a left row survives when its key is
			// among the r rows the right keeps of its min(lb, rb) keys (so
			// IN (… HAVING …) shrinks the left and its later joins broadcast).
			return l * math.Min(1, r/math.Max(1, math.Min(lb, rb))), lb
		case logical.AntiJoin, logical.MarkJoin:
			return l, lb
		case logical.LeftSingleJoin:
			return l, lb
		}
		var rows float64
		if n.Condition == nil || n.Type == logical.CrossJoin && n.Condition == nil {
			rows = l * r
		} else {
			rows = l * r / math.Max(1, math.Min(lb, rb))
		}
		switch n.Type {
		case logical.LeftJoin:
			rows = math.Max(rows, l)
		case logical.RightJoin:
			rows = math.Max(rows, r)
		case logical.FullJoin:
			rows = math.Max(rows, l+r)
		}
		return rows, math.Max(lb, rb)
	case *logical.Limit:
		rows, base := estimate(n.Input)
		if n.Count >= 0 && float64(n.Count) < rows {
			rows = float64(n.Count)
		}
		return rows, base
	case *logical.SetOp:
		var rows, base float64
		for _, in := range n.Inputs {
			r, b := estimate(in)
			rows += r
			base = math.Max(base, b)
		}
		return rows, base
	}
	// Project, Sort, Window: cardinality of the (single) input.
	if ch := n.Children(); len(ch) == 1 {
		return estimate(ch[0])
	}
	return unknownTableRows, unknownTableRows
}
