package cluster

import (
	"context"
	"encoding/json"
	"sync"
	"time"

	"go.uber.org/zap"
)

// Node-wide slots. Placement weighs a node by every query's tasks on it,
// not only the placing query's: the tasks this node's queries run there
// (placed, exact), plus what others run there — for this node its peers'
// tasks (exact), for a peer the count it last reported (on each run-task
// reply, TaskResult.node_tasks; or on a ping when no reply came for
// loadTTL) minus this node's own tasks there at that moment.

// loadTTL is how long a peer's reported load is trusted.
const loadTTL = time.Second

// pingTimeout bounds the load refresh at a query's start.
const pingTimeout = 300 * time.Millisecond

type peerLoad struct {
	others int64 // tasks there not placed by this node
	at     time.Time
}

// reserve counts a task placed on node (pick does it for the others).
func (d *Dist) reserve(node string) {
	d.mu.Lock()
	d.placed[node]++
	d.mu.Unlock()
}

// unplace frees the slot pick reserved; reported is the node's task count
// from the task's reply (0: none, e.g. a task run here or a failed call).
func (d *Dist) unplace(node string, reported int64) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if reported > 0 && node != d.cfg.NodeName {
		// The replying task still counts on both sides.
		d.loads[node] = peerLoad{others: max(reported-int64(d.placed[node]), 0), at: time.Now()}
	}
	if d.placed[node]--; d.placed[node] <= 0 {
		delete(d.placed, node)
	}
}

// loadLocked is the tasks running (or reserved) on node, every query's.
func (d *Dist) loadLocked(node string) int64 {
	n := int64(d.placed[node])
	if node == d.cfg.NodeName {
		return n + d.peerTasksLocked()
	}
	if l, ok := d.loads[node]; ok && time.Since(l.at) < loadTTL {
		n += l.others
	}
	return n
}

func (d *Dist) peerTasksLocked() int64 {
	n := 0
	for _, wq := range d.work {
		n += len(wq.tasks)
	}
	return int64(n)
}

// NodeTasks is the tasks this node runs now, every query's: its own
// queries' and its peers' (ping and system.nodes report it).
func (d *Dist) NodeTasks() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return int64(d.placed[d.cfg.NodeName]) + d.peerTasksLocked()
}

// refreshLoads pings, in parallel, the peers whose load is older than
// loadTTL (at a query's start: one ping per peer per loadTTL at most, none
// per placement).
func (d *Dist) refreshLoads(ctx context.Context) {
	now := time.Now()
	var stale []Node
	d.mu.Lock()
	for _, n := range d.cfg.Members() {
		if n.Name != d.cfg.NodeName && n.InternalAddr != "" && n.State.Live() && now.Sub(d.loads[n.Name].at) >= loadTTL {
			stale = append(stale, n)
		}
	}
	d.mu.Unlock()
	if len(stale) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, pingTimeout)
	defer cancel()
	var wg sync.WaitGroup
	for _, n := range stale {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var reply []byte
			if err := d.callAction(ctx, n.InternalAddr, ActionPing, nil, &reply); err != nil {
				d.log.Debug("load ping", zap.String("node", n.Name), zap.Error(err))
				return
			}
			var info PingInfo
			if json.Unmarshal(reply, &info) != nil || info.RunningTasks < 0 {
				return
			}
			d.mu.Lock()
			d.loads[n.Name] = peerLoad{others: max(info.RunningTasks-int64(d.placed[n.Name]), 0), at: time.Now()}
			d.mu.Unlock()
		}()
	}
	wg.Wait()
}
