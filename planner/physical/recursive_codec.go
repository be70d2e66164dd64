package physical

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/qerr"
)

// Hooks for the plan-fragment codec (cluster/codec.go), which rebuilds a
// recursive CTE on another node: the RecursiveCTE and the WorkTables under
// its Recursive input share an unexported slot, identified by a work id.

// WorkID is the id of the work table the CTE feeds.
func (n *RecursiveCTE) WorkID() int { return n.work.id }

// WorkID is the id of the recursive CTE this work table reads.
func (n *WorkTable) WorkID() int { return n.work.id }

// NewWorkTable returns a work table reading CTE id; it reads nothing until
// NewRecursiveCTE binds it.
func NewWorkTable(id int, out *arrow.Schema) *WorkTable {
	return &WorkTable{Out: out, work: &workSlot{id: id}}
}

// NewRecursiveCTE returns the recursive CTE with work id, binding every
// WorkTable of that id under recursive (not under a nested CTE of the same
// id) to its slot. The recursive input must read its work table.
func NewRecursiveCTE(id int, anchor, recursive Plan, distinct bool, out *arrow.Schema) (*RecursiveCTE, error) {
	if anchor.Partitioning().Count != 1 || recursive.Partitioning().Count != 1 {
		return nil, qerr.New(qerr.Internal, "internal: recursive CTE inputs are not single-partition")
	}
	slot := &workSlot{id: id}
	bound := 0
	var bind func(p Plan)
	bind = func(p Plan) {
		switch n := p.(type) {
		case *WorkTable:
			if n.work.id == id {
				n.work = slot
				bound++
			}
			return
		case *RecursiveCTE:
			if n.work.id == id {
				return
			}
		}
		for _, c := range p.Children() {
			bind(c)
		}
	}
	bind(recursive)
	if bound == 0 {
		return nil, qerr.New(qerr.Internal, "internal: recursive CTE %d without its work table", id)
	}
	return &RecursiveCTE{Anchor: anchor, Recursive: recursive, Distinct: distinct, Out: out, work: slot}, nil
}
