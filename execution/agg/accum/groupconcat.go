package accum

import (
	"encoding/binary"
	"slices"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/qerr"
)

// groupConcatMaxLen is MySQL's default group_concat_max_len: results are
// truncated to this many bytes.
const groupConcatMaxLen = 1024

// groupConcat keeps every (group, value) entry and, with ORDER BY, the sort
// key columns; Final sorts and joins per group.
type groupConcat struct {
	sep      string
	distinct bool
	nval     int
	desc, nf []bool
	grp      []uint32
	vals     []string
	ord      []int
	keys     [][]arrow.Array
	base     int
	seen     map[string]struct{}
	bytes    int64
	groups   int
}

func newGroupConcat(s Spec) *groupConcat {
	sep := s.Separator
	a := &groupConcat{sep: sep, distinct: s.Distinct, nval: s.valueArgs(), desc: s.OrderDesc,
		nf: s.OrderNullsFirst, keys: make([][]arrow.Array, len(s.OrderDesc))}
	if a.distinct {
		a.seen = map[string]struct{}{}
	}
	return a
}

func (a *groupConcat) Resize(n int) { a.groups = max(a.groups, n) }
func (a *groupConcat) Bytes() int64 {
	return a.bytes + int64(cap(a.grp))*4 + int64(cap(a.vals))*16 + int64(cap(a.ord))*8
}

func (a *groupConcat) Update(groups []uint32, args []arrow.Array) error {
	vals := args[:a.nval]
	var sb strings.Builder
	var gk [4]byte
	for i, g := range groups {
		if !allValid(vals, i) {
			continue
		}
		sb.Reset()
		for _, v := range vals {
			if s, ok := v.(*array.String); ok {
				sb.WriteString(s.Value(i))
			} else {
				sb.WriteString(v.ValueStr(i))
			}
		}
		s := sb.String()
		if a.distinct {
			binary.LittleEndian.PutUint32(gk[:], g)
			k := string(gk[:]) + s
			if _, dup := a.seen[k]; dup {
				continue
			}
			a.seen[k] = struct{}{}
			a.bytes += int64(len(k)) + 16
		}
		a.grp = append(a.grp, g)
		a.vals = append(a.vals, s)
		a.ord = append(a.ord, a.base+i)
		a.bytes += int64(len(s))
	}
	for k := range a.keys {
		key := args[a.nval+k]
		key.Retain()
		a.keys[k] = append(a.keys[k], key)
	}
	a.base += len(groups)
	return nil
}

func (a *groupConcat) Merge([]uint32, []arrow.Array) error {
	return qerr.New(qerr.Internal, "group_concat cannot be merged")
}

func (a *groupConcat) State(memory.Allocator) ([]arrow.Array, error) {
	return nil, qerr.New(qerr.Internal, "group_concat has no partial state")
}

func (a *groupConcat) Final(mem memory.Allocator) (arrow.Array, error) {
	idx := make([]int, len(a.grp))
	for i := range idx {
		idx[i] = i
	}
	cmps := make([]execution.Comparator, len(a.keys))
	for k, chunks := range a.keys {
		var col arrow.Array
		if len(chunks) == 0 {
			continue // no input rows: nothing to sort
		}
		if len(chunks) == 1 {
			col = chunks[0]
			col.Retain()
		} else {
			var err error
			if col, err = array.Concatenate(chunks, mem); err != nil {
				return nil, err
			}
		}
		defer col.Release()
		cmps[k] = execution.NewComparator(col, a.desc[k], a.nf[k])
	}
	slices.SortStableFunc(idx, func(x, y int) int {
		if a.grp[x] != a.grp[y] {
			if a.grp[x] < a.grp[y] {
				return -1
			}
			return 1
		}
		for _, c := range cmps {
			if r := c(a.ord[x], a.ord[y]); r != 0 {
				return r
			}
		}
		return 0
	})
	b := array.NewStringBuilder(mem)
	defer b.Release()
	var sb strings.Builder
	p := 0
	for g := 0; g < a.groups; g++ {
		if p >= len(idx) || a.grp[idx[p]] != uint32(g) {
			b.AppendNull()
			continue
		}
		sb.Reset()
		first := true
		for ; p < len(idx) && a.grp[idx[p]] == uint32(g); p++ {
			if !first {
				sb.WriteString(a.sep)
			}
			first = false
			sb.WriteString(a.vals[idx[p]])
		}
		s := sb.String()
		if len(s) > groupConcatMaxLen {
			s = s[:groupConcatMaxLen]
		}
		b.Append(s)
	}
	return b.NewArray(), nil
}

func (a *groupConcat) Release() {
	for _, chunks := range a.keys {
		for _, c := range chunks {
			c.Release()
		}
	}
	a.keys = nil
}
