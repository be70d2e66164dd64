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

// LoadFunc reports a node's load (ping's answer); ok=false when unknown.
type LoadFunc func(ctx context.Context, n Node) (info PingInfo, ok bool)

// ProbeLoad returns a LoadFunc that answers for the local node with
// local (nil = unknown) and asks other live nodes over the internal
// service (ping).
func ProbeLoad(localName string, local func() PingInfo, sec Security) LoadFunc {
	return func(ctx context.Context, n Node) (PingInfo, bool) {
		if n.Name == localName {
			if local == nil {
				return PingInfo{}, false
			}
			return local(), true
		}
		if !n.State.Live() && n.State != StateLeaving {
			return PingInfo{}, false
		}
		c, err := Dial(ctx, n, sec)
		if err != nil {
			return PingInfo{}, false
		}
		defer c.Close()
		info, err := c.Ping(ctx)
		if err != nil || info.Instance != "" && n.Instance != "" && info.Instance != n.Instance {
			return PingInfo{}, false // not the process gossip describes
		}
		return info, true
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
	{Name: "instance", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "started", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "uptime_ms", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "query_memory_bytes", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "coordinating_queries", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "shuffle_memory_bytes", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "shuffle_spilled_bytes", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
}, nil)

// RegisterNodesTable adds system.nodes to cat: one row per node the view
// knows (departed ones for a while), with its running tasks from load
// (nil: NULL), probed in parallel with a short timeout.
func RegisterNodesTable(cat *catalog.Catalog, view NodesView, load LoadFunc) error {
	return cat.RegisterSystemTable(catalog.SystemSchema, "nodes", NodesTableColumns, func(ctx context.Context) ([]arrow.RecordBatch, error) {
		nodes := view.All()
		local := view.Local().Name
		loads := make([]PingInfo, len(nodes))
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
			optInt := func(i int, v int64, ok bool) {
				if ok && v >= 0 {
					b.Field(i).(*array.Int64Builder).Append(v)
				} else {
					b.Field(i).AppendNull()
				}
			}
			optInt(8, loads[i].RunningTasks, known[i])
			isLocal := int64(0)
			if n.Name == local {
				isLocal = 1
			}
			b.Field(9).(*array.Int64Builder).Append(isLocal)
			optStr(10, n.Instance)
			live := n.State.Live() || n.State == StateLeaving
			if n.Started.IsZero() {
				optStr(11, "")
			} else {
				b.Field(11).(*array.StringBuilder).Append(n.Started.UTC().Format("2006-01-02 15:04:05.000"))
			}
			optInt(12, time.Since(n.Started).Milliseconds(), live && !n.Started.IsZero())
			st := loads[i].Stats
			has := known[i] && st != nil
			if !has {
				st = &NodeStats{}
			}
			optInt(13, st.QueryMemory, has)
			optInt(14, st.Coordinating, has)
			optInt(15, st.ShuffleMemory, has)
			optInt(16, st.ShuffleSpilled, has)
		}
		return []arrow.RecordBatch{b.NewRecordBatch()}, nil
	})
}
