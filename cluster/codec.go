package cluster

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/cluster/planpb"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/execution/ops"
	"github.com/quiverdb/quiver/planner/physical"
	"google.golang.org/protobuf/proto"
)

// The plan-fragment codec: a stage's physical plan to protobuf
// (cluster/planpb) and back, so a coordinator can ship the stage to the
// node that runs its tasks. Tables travel by reference: schema and name,
// the projected columns as the coordinator saw them, and per partition the
// data files (path, size, rows) and row groups to read. The receiver
// resolves the table in its own catalog (every node sees the same data
// directory at the same path), checks the files are still those, and
// reuses its own file metadata (row-group statistics); a fragment never
// carries rows and never names a file outside the resolved table.

// CodecVersion is the fragment format version; DecodePlan refuses others.
const CodecVersion = 1

// MaxPartitions bounds partition counts read from a fragment.
const MaxPartitions = 1 << 16

var (
	// ErrMalformedFragment: the bytes are not a valid plan fragment (or a
	// peer of another version wrote them).
	ErrMalformedFragment = errors.New("malformed plan fragment")
	// ErrUnsupported: EncodePlan met a node, expression or type the codec
	// does not know.
	ErrUnsupported = errors.New("plan codec: not supported")
	// ErrTableChanged: a table the fragment reads is gone or no longer has
	// the columns or files the plan was made with.
	ErrTableChanged = errors.New("table changed since the query was planned")
)

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformedFragment, fmt.Sprintf(format, args...))
}

// TableResolver finds the table a fragment names (schema and name as the
// coordinator's catalog spelled them).
type TableResolver interface {
	ResolveTable(ctx context.Context, schema, name string) (*catalog.Table, error)
}

// CatalogResolver resolves tables through a catalog.
func CatalogResolver(c *catalog.Catalog) TableResolver { return catalogResolver{c} }

type catalogResolver struct{ c *catalog.Catalog }

func (r catalogResolver) ResolveTable(ctx context.Context, schema, name string) (*catalog.Table, error) {
	return r.c.Table(ctx, schema, name)
}

// EncodePlan encodes a physical plan (normally a stage root: a
// ShuffleWrite, or the final stage's root).
func EncodePlan(p physical.Plan) ([]byte, error) {
	root, err := encodePlan(p)
	if err != nil {
		return nil, err
	}
	return proto.MarshalOptions{Deterministic: true}.Marshal(&planpb.Fragment{Version: CodecVersion, Root: root})
}

// DecodePlan decodes a fragment written by EncodePlan, resolving its tables
// through r. Malformed input yields an error wrapping ErrMalformedFragment,
// a table that changed one wrapping ErrTableChanged; it never panics.
func DecodePlan(ctx context.Context, data []byte, r TableResolver) (physical.Plan, error) {
	var f planpb.Fragment
	if err := proto.Unmarshal(data, &f); err != nil {
		return nil, malformed("%v", err)
	}
	if f.Version != CodecVersion {
		return nil, malformed("fragment version %d, this node reads version %d", f.Version, CodecVersion)
	}
	d := &decoder{ctx: ctx, r: r, tables: map[[2]string]*catalog.Table{}}
	return d.plan(f.Root)
}

var joinTypes = map[ops.JoinType]planpb.JoinType{
	ops.InnerJoin: planpb.JoinType_JOIN_INNER, ops.LeftJoin: planpb.JoinType_JOIN_LEFT,
	ops.RightJoin: planpb.JoinType_JOIN_RIGHT, ops.FullJoin: planpb.JoinType_JOIN_FULL,
	ops.CrossJoin: planpb.JoinType_JOIN_CROSS, ops.SemiJoin: planpb.JoinType_JOIN_SEMI,
	ops.AntiJoin: planpb.JoinType_JOIN_ANTI, ops.MarkJoin: planpb.JoinType_JOIN_MARK,
	ops.LeftSingleJoin: planpb.JoinType_JOIN_LEFT_SINGLE,
}

var aggModes = map[ops.AggMode]planpb.AggMode{
	ops.AggSingle: planpb.AggMode_AGG_SINGLE, ops.AggPartial: planpb.AggMode_AGG_PARTIAL, ops.AggFinal: planpb.AggMode_AGG_FINAL,
}

var partKinds = map[physical.PartitioningKind]planpb.PartitioningKind{
	physical.UnknownPartitioning: planpb.PartitioningKind_PARTITIONING_UNKNOWN,
	physical.HashPartitioning:    planpb.PartitioningKind_PARTITIONING_HASH,
	physical.SinglePartition:     planpb.PartitioningKind_PARTITIONING_SINGLE,
}

func encodeJoinType(t ops.JoinType) (planpb.JoinType, error) {
	if v, ok := joinTypes[t]; ok {
		return v, nil
	}
	return 0, fmt.Errorf("%w: join type %d", ErrUnsupported, t)
}

func decodeJoinType(t planpb.JoinType) (ops.JoinType, error) {
	if v, ok := reverse(joinTypes)[t]; ok {
		return v, nil
	}
	return 0, malformed("unknown join type %d", t)
}

func encodePartitioning(p physical.Partitioning) (*planpb.Partitioning, error) {
	k, ok := partKinds[p.Kind]
	if !ok {
		return nil, fmt.Errorf("%w: partitioning kind %d", ErrUnsupported, p.Kind)
	}
	keys, err := encodeExprs(p.Keys)
	if err != nil {
		return nil, err
	}
	return &planpb.Partitioning{Kind: k, Keys: keys, Count: int32(p.Count)}, nil
}

func decodePartitioning(pp *planpb.Partitioning) (physical.Partitioning, error) {
	if pp == nil {
		return physical.Partitioning{}, malformed("missing partitioning")
	}
	k, ok := reverse(partKinds)[pp.Kind]
	if !ok {
		return physical.Partitioning{}, malformed("unknown partitioning kind %d", pp.Kind)
	}
	if pp.Count < 0 || pp.Count > MaxPartitions {
		return physical.Partitioning{}, malformed("partition count %d", pp.Count)
	}
	keys, err := decodeExprs(pp.Keys)
	if err != nil {
		return physical.Partitioning{}, err
	}
	return physical.Partitioning{Kind: k, Keys: keys, Count: int(pp.Count)}, nil
}

func encodePlans(ps []physical.Plan) ([]*planpb.PlanNode, error) {
	out := make([]*planpb.PlanNode, len(ps))
	for i, p := range ps {
		n, err := encodePlan(p)
		if err != nil {
			return nil, err
		}
		out[i] = n
	}
	return out, nil
}

func encodePlan(p physical.Plan) (*planpb.PlanNode, error) {
	if p == nil {
		return nil, fmt.Errorf("%w: nil plan", ErrUnsupported)
	}
	sub := func(in physical.Plan) (*planpb.PlanNode, error) { return encodePlan(in) }
	switch n := p.(type) {
	case *physical.Scan:
		s, err := encodeScan(n)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_Scan{Scan: s}}, nil
	case *physical.MemoryScan:
		t, err := encodeTableRef(n.Table, n.Columns)
		if err != nil {
			return nil, err
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_MemoryScan{MemoryScan: &planpb.MemoryScanNode{Table: t, Out: out}}}, nil
	case *physical.Values:
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		v := &planpb.ValuesNode{Out: out}
		for _, row := range n.Rows {
			es, err := encodeExprs(row)
			if err != nil {
				return nil, err
			}
			v.Rows = append(v.Rows, &planpb.ValuesRow{Values: es})
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_Values{Values: v}}, nil
	case *physical.Filter:
		in, err := sub(n.Input)
		if err != nil {
			return nil, err
		}
		pred, err := encodeExpr(n.Predicate)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_Filter{Filter: &planpb.FilterNode{Input: in, Predicate: pred}}}, nil
	case *physical.Project:
		in, err := sub(n.Input)
		if err != nil {
			return nil, err
		}
		es, err := encodeExprs(n.Exprs)
		if err != nil {
			return nil, err
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_Project{Project: &planpb.ProjectNode{Input: in, Exprs: es, Out: out}}}, nil
	case *physical.HashAggregate:
		in, err := sub(n.Input)
		if err != nil {
			return nil, err
		}
		mode, ok := aggModes[n.Mode]
		if !ok {
			return nil, fmt.Errorf("%w: aggregate mode %d", ErrUnsupported, n.Mode)
		}
		group, err := encodeExprs(n.GroupBy)
		if err != nil {
			return nil, err
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		a := &planpb.HashAggregateNode{Input: in, Mode: mode, GroupBy: group, Out: out}
		for _, spec := range n.Aggs {
			pa, err := encodeAggSpec(spec)
			if err != nil {
				return nil, err
			}
			a.Aggs = append(a.Aggs, pa)
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_HashAggregate{HashAggregate: a}}, nil
	case *physical.HashJoin:
		left, err := sub(n.Left)
		if err != nil {
			return nil, err
		}
		right, err := sub(n.Right)
		if err != nil {
			return nil, err
		}
		jt, err := encodeJoinType(n.Type)
		if err != nil {
			return nil, err
		}
		lk, err := encodeExprs(n.LeftKeys)
		if err != nil {
			return nil, err
		}
		rk, err := encodeExprs(n.RightKeys)
		if err != nil {
			return nil, err
		}
		filter, err := encodeExpr(n.Filter)
		if err != nil {
			return nil, err
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		hj := &planpb.HashJoinNode{
			Left: left, Right: right, Type: jt, LeftKeys: lk, RightKeys: rk, Filter: filter,
			NullAware: n.NullAware, Broadcast: n.Broadcast, Out: out, NullEqual: n.NullEqual,
		}
		if n.StrictKeys != nil {
			hj.HasStrictKeys, hj.StrictKeys = true, n.StrictKeys
		}
		if n.Proj != nil {
			hj.HasProj = true
			hj.Proj = make([]int32, len(n.Proj))
			for i, c := range n.Proj {
				hj.Proj[i] = int32(c)
			}
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_HashJoin{HashJoin: hj}}, nil
	case *physical.NestedLoopJoin:
		left, err := sub(n.Left)
		if err != nil {
			return nil, err
		}
		right, err := sub(n.Right)
		if err != nil {
			return nil, err
		}
		jt, err := encodeJoinType(n.Type)
		if err != nil {
			return nil, err
		}
		cond, err := encodeExpr(n.Condition)
		if err != nil {
			return nil, err
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_NestedLoopJoin{NestedLoopJoin: &planpb.NestedLoopJoinNode{
			Left: left, Right: right, Type: jt, Condition: cond, Out: out,
		}}}, nil
	case *physical.Sort:
		in, err := sub(n.Input)
		if err != nil {
			return nil, err
		}
		keys, err := encodeSortKeys(n.Keys)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_Sort{Sort: &planpb.SortNode{Input: in, Keys: keys, Fetch: n.Fetch}}}, nil
	case *physical.Limit:
		in, err := sub(n.Input)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_Limit{Limit: &planpb.LimitNode{Input: in, Offset: n.Offset, Count: n.Count, Local: n.Local}}}, nil
	case *physical.Union:
		ins, err := encodePlans(n.Inputs)
		if err != nil {
			return nil, err
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_Union{Union: &planpb.UnionNode{Inputs: ins, Out: out}}}, nil
	case *physical.Window:
		in, err := sub(n.Input)
		if err != nil {
			return nil, err
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		w := &planpb.WindowNode{Input: in, Out: out}
		for _, f := range n.Funcs {
			pf, err := encodeWindowSpec(f)
			if err != nil {
				return nil, err
			}
			w.Funcs = append(w.Funcs, pf)
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_Window{Window: w}}, nil
	case *physical.Exchange:
		in, err := sub(n.Input)
		if err != nil {
			return nil, err
		}
		target, err := encodePartitioning(n.Target)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_Exchange{Exchange: &planpb.ExchangeNode{Input: in, Target: target, Broadcast: n.Broadcast}}}, nil
	case *physical.ShuffleWrite:
		in, err := sub(n.Input)
		if err != nil {
			return nil, err
		}
		target, err := encodePartitioning(n.Target)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_ShuffleWrite{ShuffleWrite: &planpb.ShuffleWriteNode{
			Input: in, Stage: int32(n.Stage), Target: target, Broadcast: n.Broadcast,
		}}}, nil
	case *physical.ShuffleRead:
		part, err := encodePartitioning(n.Part)
		if err != nil {
			return nil, err
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_ShuffleRead{ShuffleRead: &planpb.ShuffleReadNode{
			Stage: int32(n.Stage), Partitions: int32(n.Partitions), Out: out, Broadcast: n.Broadcast, Part: part,
		}}}, nil
	case *physical.RecursiveCTE:
		anchor, err := sub(n.Anchor)
		if err != nil {
			return nil, err
		}
		rec, err := sub(n.Recursive)
		if err != nil {
			return nil, err
		}
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_RecursiveCte{RecursiveCte: &planpb.RecursiveCTENode{
			WorkId: int32(n.WorkID()), Anchor: anchor, Recursive: rec, Distinct: n.Distinct, Out: out,
		}}}, nil
	case *physical.WorkTable:
		out, err := encodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		return &planpb.PlanNode{Node: &planpb.PlanNode_WorkTable{WorkTable: &planpb.WorkTableNode{WorkId: int32(n.WorkID()), Out: out}}}, nil
	}
	return nil, fmt.Errorf("%w: plan node %T (%s)", ErrUnsupported, p, p)
}

func encodeTableRef(t *catalog.Table, columns []int) (*planpb.TableRef, error) {
	if t == nil || t.Columns == nil {
		return nil, fmt.Errorf("%w: scan without a table", ErrUnsupported)
	}
	ref := &planpb.TableRef{Schema: t.Schema, Name: t.Name}
	for _, c := range columns {
		if c < 0 || c >= t.Columns.NumFields() {
			return nil, fmt.Errorf("%w: column %d of %s.%s out of range", ErrUnsupported, c, t.Schema, t.Name)
		}
		f := t.Columns.Field(c)
		ft, err := encodeType(f.Type)
		if err != nil {
			return nil, err
		}
		ref.ColumnIndexes = append(ref.ColumnIndexes, int32(c))
		ref.Columns = append(ref.Columns, &planpb.Field{Name: f.Name, Type: ft})
	}
	return ref, nil
}

// encodeScan lists each file the splits read once (paths relative to their
// common directory) and each partition's splits as indexes into that list.
func encodeScan(n *physical.Scan) (*planpb.ScanNode, error) {
	t, err := encodeTableRef(n.Table, n.Columns)
	if err != nil {
		return nil, err
	}
	filters, err := encodeExprs(n.Filters)
	if err != nil {
		return nil, err
	}
	out, err := encodeSchema(n.Out)
	if err != nil {
		return nil, err
	}
	s := &planpb.ScanNode{Table: t, Filters: filters, Limit: n.Limit, Out: out}
	var paths []string
	index := map[string]int32{}
	for _, part := range n.Splits {
		for _, sp := range part {
			if _, ok := index[sp.File.Path]; !ok {
				index[sp.File.Path] = int32(len(paths))
				paths = append(paths, sp.File.Path)
				s.Files = append(s.Files, &planpb.FileRef{Size: sp.File.Size, NumRows: sp.File.NumRows, RowGroups: int32(len(sp.File.RowGroups))})
			}
		}
	}
	s.BaseDir = commonDir(paths)
	for i, p := range paths {
		s.Files[i].Path = p[len(s.BaseDir):]
	}
	for _, part := range n.Splits {
		pp := &planpb.ScanPartition{}
		for _, sp := range part {
			ref := &planpb.SplitRef{File: index[sp.File.Path], WholeFile: sp.RowGroups == nil}
			for _, rg := range sp.RowGroups {
				ref.RowGroups = append(ref.RowGroups, int32(rg))
			}
			pp.Splits = append(pp.Splits, ref)
		}
		s.Partitions = append(s.Partitions, pp)
	}
	return s, nil
}

// commonDir is the longest prefix of every path ending in a '/'.
func commonDir(paths []string) string {
	if len(paths) == 0 {
		return ""
	}
	prefix := paths[0]
	for _, p := range paths[1:] {
		for !strings.HasPrefix(p, prefix) {
			prefix = prefix[:len(prefix)-1]
		}
	}
	if i := strings.LastIndexByte(prefix, '/'); i >= 0 {
		return prefix[:i+1]
	}
	return ""
}

// decoder rebuilds plans; tables are resolved once per fragment.
type decoder struct {
	ctx    context.Context
	r      TableResolver
	tables map[[2]string]*catalog.Table
}

func (d *decoder) table(ref *planpb.TableRef, kind catalog.TableKind) (*catalog.Table, []int, error) {
	if ref == nil {
		return nil, nil, malformed("scan without a table")
	}
	if len(ref.ColumnIndexes) != len(ref.Columns) {
		return nil, nil, malformed("table %s.%s: %d column indexes for %d columns", ref.Schema, ref.Name, len(ref.ColumnIndexes), len(ref.Columns))
	}
	key := [2]string{ref.Schema, ref.Name}
	t, ok := d.tables[key]
	if !ok {
		if d.r == nil {
			return nil, nil, fmt.Errorf("plan codec: no table resolver for %s.%s", ref.Schema, ref.Name)
		}
		var err error
		if t, err = d.r.ResolveTable(d.ctx, ref.Schema, ref.Name); err != nil {
			return nil, nil, fmt.Errorf("%w: %s.%s: %w", ErrTableChanged, ref.Schema, ref.Name, err)
		}
		if t == nil || t.Columns == nil {
			return nil, nil, fmt.Errorf("%w: %s.%s not found", ErrTableChanged, ref.Schema, ref.Name)
		}
		d.tables[key] = t
	}
	if t.Kind != kind {
		return nil, nil, fmt.Errorf("%w: %s.%s is a %s now", ErrTableChanged, ref.Schema, ref.Name, t.Kind)
	}
	cols := make([]int, len(ref.ColumnIndexes))
	for i, c := range ref.ColumnIndexes {
		want, err := decodeField(ref.Columns[i])
		if err != nil {
			return nil, nil, err
		}
		if c < 0 || int(c) >= t.Columns.NumFields() {
			return nil, nil, fmt.Errorf("%w: %s.%s has no column %d (%s)", ErrTableChanged, ref.Schema, ref.Name, c, want.Name)
		}
		got := t.Columns.Field(int(c))
		if got.Name != want.Name || !arrow.TypeEqual(got.Type, want.Type) {
			return nil, nil, fmt.Errorf("%w: %s.%s column %d is %s %s, the plan expects %s %s", ErrTableChanged, ref.Schema, ref.Name, c, got.Name, got.Type, want.Name, want.Type)
		}
		cols[i] = int(c)
	}
	return t, cols, nil
}

func (d *decoder) scan(s *planpb.ScanNode) (physical.Plan, error) {
	t, cols, err := d.table(s.Table, catalog.BaseTable)
	if err != nil {
		return nil, err
	}
	out, err := decodeSchema(s.Out)
	if err != nil {
		return nil, err
	}
	if out.NumFields() != len(cols) {
		return nil, malformed("scan of %d columns with %d output fields", len(cols), out.NumFields())
	}
	filters, err := decodeExprs(s.Filters)
	if err != nil {
		return nil, err
	}
	if s.Limit < -1 {
		return nil, malformed("scan limit %d", s.Limit)
	}
	if len(s.Partitions) > MaxPartitions {
		return nil, malformed("scan of %d partitions", len(s.Partitions))
	}
	byPath := make(map[string]catalog.File, len(t.Files))
	for _, f := range t.Files {
		byPath[f.Path] = f
	}
	files := make([]catalog.File, len(s.Files))
	for i, pf := range s.Files {
		if pf == nil {
			return nil, malformed("missing file reference")
		}
		path := s.BaseDir + pf.Path
		f, ok := byPath[path]
		if !ok {
			return nil, fmt.Errorf("%w: %s.%s no longer has file %s", ErrTableChanged, t.Schema, t.Name, path)
		}
		if f.Size != pf.Size || f.NumRows != pf.NumRows || len(f.RowGroups) != int(pf.RowGroups) {
			return nil, fmt.Errorf("%w: %s.%s file %s was replaced (size %d rows %d row groups %d, planned with %d, %d, %d)",
				ErrTableChanged, t.Schema, t.Name, path, f.Size, f.NumRows, len(f.RowGroups), pf.Size, pf.NumRows, pf.RowGroups)
		}
		files[i] = f
	}
	splits := make([][]catalog.Split, len(s.Partitions))
	for i, pp := range s.Partitions {
		if pp == nil {
			return nil, malformed("missing scan partition")
		}
		for _, ref := range pp.Splits {
			if ref == nil || ref.File < 0 || int(ref.File) >= len(files) {
				return nil, malformed("split of unknown file %v", ref)
			}
			f := files[ref.File]
			sp := catalog.Split{File: f}
			if !ref.WholeFile {
				sp.RowGroups = make([]int, len(ref.RowGroups))
				for j, rg := range ref.RowGroups {
					if rg < 0 || (len(f.RowGroups) > 0 && int(rg) >= len(f.RowGroups)) {
						return nil, malformed("row group %d of %s out of range", rg, f.Path)
					}
					sp.RowGroups[j] = int(rg)
				}
			}
			splits[i] = append(splits[i], sp)
		}
	}
	return &physical.Scan{Table: t, Columns: cols, Filters: filters, Splits: splits, Limit: s.Limit, Out: out}, nil
}

func (d *decoder) plans(pns []*planpb.PlanNode) ([]physical.Plan, error) {
	out := make([]physical.Plan, len(pns))
	for i, pn := range pns {
		p, err := d.plan(pn)
		if err != nil {
			return nil, err
		}
		out[i] = p
	}
	return out, nil
}

func (d *decoder) plan(pn *planpb.PlanNode) (physical.Plan, error) {
	if pn == nil {
		return nil, malformed("missing plan node")
	}
	if err := d.ctx.Err(); err != nil {
		return nil, err
	}
	switch k := pn.Node.(type) {
	case *planpb.PlanNode_Scan:
		if k.Scan == nil {
			return nil, malformed("empty scan")
		}
		return d.scan(k.Scan)
	case *planpb.PlanNode_MemoryScan:
		n := k.MemoryScan
		if n == nil {
			return nil, malformed("empty memory scan")
		}
		t, cols, err := d.table(n.Table, catalog.SystemTable)
		if err != nil {
			return nil, err
		}
		out, err := decodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		if out.NumFields() != len(cols) {
			return nil, malformed("memory scan of %d columns with %d output fields", len(cols), out.NumFields())
		}
		return &physical.MemoryScan{Table: t, Columns: cols, Out: out}, nil
	case *planpb.PlanNode_Values:
		n := k.Values
		if n == nil {
			return nil, malformed("empty values")
		}
		out, err := decodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		rows := make([][]expr.Expr, len(n.Rows))
		for i, r := range n.Rows {
			if r == nil || len(r.Values) != out.NumFields() {
				return nil, malformed("values row %d does not have %d columns", i, out.NumFields())
			}
			if rows[i], err = decodeExprs(r.Values); err != nil {
				return nil, err
			}
		}
		return &physical.Values{Rows: rows, Out: out}, nil
	case *planpb.PlanNode_Filter:
		n := k.Filter
		if n == nil {
			return nil, malformed("empty filter")
		}
		in, err := d.plan(n.Input)
		if err != nil {
			return nil, err
		}
		pred, err := decodeExpr(n.Predicate)
		if err != nil {
			return nil, err
		}
		return &physical.Filter{Input: in, Predicate: pred}, nil
	case *planpb.PlanNode_Project:
		n := k.Project
		if n == nil {
			return nil, malformed("empty project")
		}
		in, err := d.plan(n.Input)
		if err != nil {
			return nil, err
		}
		es, err := decodeExprs(n.Exprs)
		if err != nil {
			return nil, err
		}
		out, err := decodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		if len(es) != out.NumFields() {
			return nil, malformed("project of %d expressions with %d output fields", len(es), out.NumFields())
		}
		return &physical.Project{Input: in, Exprs: es, Out: out}, nil
	case *planpb.PlanNode_HashAggregate:
		n := k.HashAggregate
		if n == nil {
			return nil, malformed("empty aggregate")
		}
		in, err := d.plan(n.Input)
		if err != nil {
			return nil, err
		}
		mode, ok := reverse(aggModes)[n.Mode]
		if !ok {
			return nil, malformed("unknown aggregate mode %d", n.Mode)
		}
		group, err := decodeExprs(n.GroupBy)
		if err != nil {
			return nil, err
		}
		out, err := decodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		if out.NumFields() < len(group) {
			return nil, malformed("aggregate of %d keys with %d output fields", len(group), out.NumFields())
		}
		aggs := make([]ops.AggSpec, len(n.Aggs))
		for i, pa := range n.Aggs {
			if aggs[i], err = decodeAggSpec(pa); err != nil {
				return nil, err
			}
		}
		return &physical.HashAggregate{Input: in, Mode: mode, GroupBy: group, Aggs: aggs, Out: out}, nil
	case *planpb.PlanNode_HashJoin:
		n := k.HashJoin
		if n == nil {
			return nil, malformed("empty hash join")
		}
		left, right, jt, out, err := d.join(n.Left, n.Right, n.Type, n.Out)
		if err != nil {
			return nil, err
		}
		lk, err := decodeExprs(n.LeftKeys)
		if err != nil {
			return nil, err
		}
		rk, err := decodeExprs(n.RightKeys)
		if err != nil {
			return nil, err
		}
		if len(lk) != len(rk) || (len(n.NullEqual) > 0 && len(n.NullEqual) != len(lk)) {
			return nil, malformed("hash join with %d left keys, %d right keys, %d null-equal flags", len(lk), len(rk), len(n.NullEqual))
		}
		filter, err := decodeOptExpr(n.Filter)
		if err != nil {
			return nil, err
		}
		var nullEq []bool
		if len(n.NullEqual) > 0 {
			nullEq = n.NullEqual
		}
		var strict []bool
		if n.HasStrictKeys {
			if len(n.StrictKeys) != len(lk) {
				return nil, malformed("hash join with %d keys and %d strict-key flags", len(lk), len(n.StrictKeys))
			}
			strict = append([]bool{}, n.StrictKeys...)
		} else if len(n.StrictKeys) > 0 {
			return nil, malformed("hash join strict keys without has_strict_keys")
		}
		var proj []int
		if n.HasProj {
			width := left.Schema().NumFields() + right.Schema().NumFields()
			if len(n.Proj) != out.NumFields() {
				return nil, malformed("hash join projecting %d columns with %d output fields", len(n.Proj), out.NumFields())
			}
			proj = make([]int, len(n.Proj))
			for i, c := range n.Proj {
				if c < 0 || int(c) >= width || (i > 0 && c <= n.Proj[i-1]) {
					return nil, malformed("hash join projection %v over %d columns", n.Proj, width)
				}
				proj[i] = int(c)
			}
		} else if len(n.Proj) > 0 {
			return nil, malformed("hash join projection without has_proj")
		}
		return &physical.HashJoin{Left: left, Right: right, Type: jt, LeftKeys: lk, RightKeys: rk, Filter: filter,
			NullAware: n.NullAware, StrictKeys: strict, Broadcast: n.Broadcast, Out: out, NullEqual: nullEq, Proj: proj}, nil
	case *planpb.PlanNode_NestedLoopJoin:
		n := k.NestedLoopJoin
		if n == nil {
			return nil, malformed("empty nested loop join")
		}
		left, right, jt, out, err := d.join(n.Left, n.Right, n.Type, n.Out)
		if err != nil {
			return nil, err
		}
		cond, err := decodeOptExpr(n.Condition)
		if err != nil {
			return nil, err
		}
		return &physical.NestedLoopJoin{Left: left, Right: right, Type: jt, Condition: cond, Out: out}, nil
	case *planpb.PlanNode_Sort:
		n := k.Sort
		if n == nil {
			return nil, malformed("empty sort")
		}
		in, err := d.plan(n.Input)
		if err != nil {
			return nil, err
		}
		keys, err := decodeSortKeys(n.Keys)
		if err != nil {
			return nil, err
		}
		if n.Fetch < -1 {
			return nil, malformed("sort fetch %d", n.Fetch)
		}
		return &physical.Sort{Input: in, Keys: keys, Fetch: n.Fetch}, nil
	case *planpb.PlanNode_Limit:
		n := k.Limit
		if n == nil {
			return nil, malformed("empty limit")
		}
		in, err := d.plan(n.Input)
		if err != nil {
			return nil, err
		}
		if n.Offset < 0 || n.Count < -1 {
			return nil, malformed("limit offset %d count %d", n.Offset, n.Count)
		}
		return &physical.Limit{Input: in, Offset: n.Offset, Count: n.Count, Local: n.Local}, nil
	case *planpb.PlanNode_Union:
		n := k.Union
		if n == nil || len(n.Inputs) == 0 {
			return nil, malformed("union without inputs")
		}
		ins, err := d.plans(n.Inputs)
		if err != nil {
			return nil, err
		}
		out, err := decodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		return &physical.Union{Inputs: ins, Out: out}, nil
	case *planpb.PlanNode_Window:
		n := k.Window
		if n == nil {
			return nil, malformed("empty window")
		}
		in, err := d.plan(n.Input)
		if err != nil {
			return nil, err
		}
		out, err := decodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		funcs := make([]ops.WindowSpec, len(n.Funcs))
		for i, pf := range n.Funcs {
			if funcs[i], err = decodeWindowSpec(pf); err != nil {
				return nil, err
			}
		}
		return &physical.Window{Input: in, Funcs: funcs, Out: out}, nil
	case *planpb.PlanNode_Exchange:
		n := k.Exchange
		if n == nil {
			return nil, malformed("empty exchange")
		}
		in, err := d.plan(n.Input)
		if err != nil {
			return nil, err
		}
		target, err := decodePartitioning(n.Target)
		if err != nil {
			return nil, err
		}
		return &physical.Exchange{Input: in, Target: target, Broadcast: n.Broadcast}, nil
	case *planpb.PlanNode_ShuffleWrite:
		n := k.ShuffleWrite
		if n == nil {
			return nil, malformed("empty shuffle write")
		}
		in, err := d.plan(n.Input)
		if err != nil {
			return nil, err
		}
		target, err := decodePartitioning(n.Target)
		if err != nil {
			return nil, err
		}
		if n.Stage < 0 {
			return nil, malformed("shuffle write of stage %d", n.Stage)
		}
		return &physical.ShuffleWrite{Input: in, Stage: int(n.Stage), Target: target, Broadcast: n.Broadcast}, nil
	case *planpb.PlanNode_ShuffleRead:
		n := k.ShuffleRead
		if n == nil {
			return nil, malformed("empty shuffle read")
		}
		part, err := decodePartitioning(n.Part)
		if err != nil {
			return nil, err
		}
		out, err := decodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		if n.Stage < 0 || n.Partitions < 0 || n.Partitions > MaxPartitions {
			return nil, malformed("shuffle read of stage %d, %d partitions", n.Stage, n.Partitions)
		}
		return &physical.ShuffleRead{Stage: int(n.Stage), Partitions: int(n.Partitions), Out: out, Broadcast: n.Broadcast, Part: part}, nil
	case *planpb.PlanNode_RecursiveCte:
		n := k.RecursiveCte
		if n == nil {
			return nil, malformed("empty recursive CTE")
		}
		anchor, err := d.plan(n.Anchor)
		if err != nil {
			return nil, err
		}
		rec, err := d.plan(n.Recursive)
		if err != nil {
			return nil, err
		}
		out, err := decodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		cte, err := physical.NewRecursiveCTE(int(n.WorkId), anchor, rec, n.Distinct, out)
		if err != nil {
			return nil, malformed("%v", err)
		}
		return cte, nil
	case *planpb.PlanNode_WorkTable:
		n := k.WorkTable
		if n == nil {
			return nil, malformed("empty work table")
		}
		out, err := decodeSchema(n.Out)
		if err != nil {
			return nil, err
		}
		return physical.NewWorkTable(int(n.WorkId), out), nil
	}
	return nil, malformed("unknown plan node %T", pn.Node)
}

func (d *decoder) join(l, r *planpb.PlanNode, t planpb.JoinType, o *planpb.Schema) (left, right physical.Plan, jt ops.JoinType, out *arrow.Schema, err error) {
	if left, err = d.plan(l); err != nil {
		return
	}
	if right, err = d.plan(r); err != nil {
		return
	}
	if jt, err = decodeJoinType(t); err != nil {
		return
	}
	out, err = decodeSchema(o)
	return
}
