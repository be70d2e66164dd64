package cluster

import (
	"context"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/catalog"
)

// NodesView is the source of system.nodes: *Membership, or SingleNode.
type NodesView interface {
	All() []Node
	Local() Node
}

// SingleNode is the view of a node running without membership.
type SingleNode struct{ Node Node }

func (s SingleNode) All() []Node { return []Node{s.Node} }
func (s SingleNode) Local() Node { return s.Node }

// LoadFunc reports a node's running tasks; ok=false when unknown.
type LoadFunc func(ctx context.Context, n Node) (tasks int64, ok bool)

// ProbeLoad returns a LoadFunc that answers for the local node with
// localLoad (negative = unknown) and asks other live nodes over the
// internal service (ping).
func ProbeLoad(localName string, localLoad func() int64, sec Security) LoadFunc {
	return func(ctx context.Context, n Node) (int64, bool) {
		if n.Name == localName {
			if localLoad == nil {
				return 0, false
			}
			v := localLoad()
			return v, v >= 0
		}
		if !n.State.Live() && n.State != StateLeaving {
			return 0, false
		}
		c, err := Dial(ctx, n, sec)
		if err != nil {
			return 0, false
		}
		defer c.Close()
		info, err := c.Ping(ctx)
		if err != nil {
			return 0, false
		}
		return info.RunningTasks, info.RunningTasks >= 0
	}
}

// NodesTableColumns are the columns of system.nodes.
var NodesTableColumns = arrow.NewSchema([]arrow.Field{
	{Name: "node_name", Type: arrow.BinaryTypes.String},
	{Name: "flight_address", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "internal_address", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "gossip_address", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "state", Type: arrow.BinaryTypes.String},
	{Name: "cores", Type: arrow.PrimitiveTypes.Int64},
	{Name: "memory_bytes", Type: arrow.PrimitiveTypes.Int64},
	{Name: "version", Type: arrow.BinaryTypes.String},
	{Name: "running_tasks", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "is_local", Type: arrow.PrimitiveTypes.Int64},
}, nil)

// RegisterNodesTable adds system.nodes to cat: one row per node the view
// knows (departed ones for a while), with its running tasks from load
// (nil: NULL), probed in parallel with a short timeout.
func RegisterNodesTable(cat *catalog.Catalog, view NodesView, load LoadFunc) error {
	return cat.RegisterSystemTable(catalog.SystemSchema, "nodes", NodesTableColumns, func(ctx context.Context) ([]arrow.RecordBatch, error) {
		nodes := view.All()
		local := view.Local().Name
		loads := make([]int64, len(nodes))
		known := make([]bool, len(nodes))
		if load != nil {
			pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
			var wg sync.WaitGroup
			for i, n := range nodes {
				wg.Add(1)
				go func() {
					defer wg.Done()
					loads[i], known[i] = load(pctx, n)
				}()
			}
			wg.Wait()
			cancel()
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		b := array.NewRecordBuilder(memory.DefaultAllocator, NodesTableColumns)
		defer b.Release()
		optStr := func(i int, s string) {
			if s == "" {
				b.Field(i).AppendNull()
			} else {
				b.Field(i).(*array.StringBuilder).Append(s)
			}
		}
		for i, n := range nodes {
			b.Field(0).(*array.StringBuilder).Append(n.Name)
			optStr(1, n.FlightAddr)
			optStr(2, n.InternalAddr)
			optStr(3, n.GossipAddr)
			b.Field(4).(*array.StringBuilder).Append(n.State.String())
			b.Field(5).(*array.Int64Builder).Append(int64(n.Cores))
			b.Field(6).(*array.Int64Builder).Append(n.Memory)
			b.Field(7).(*array.StringBuilder).Append(n.Version)
			if known[i] {
				b.Field(8).(*array.Int64Builder).Append(loads[i])
			} else {
				b.Field(8).AppendNull()
			}
			isLocal := int64(0)
			if n.Name == local {
				isLocal = 1
			}
			b.Field(9).(*array.Int64Builder).Append(isLocal)
		}
		return []arrow.RecordBatch{b.NewRecordBatch()}, nil
	})
}
