package cluster

import (
	"context"
	"errors"
	"time"

	"go.uber.org/zap"
)

// Graceful leave. A node that leaves (SIGTERM) first tells the cluster it
// is leaving (Membership.AnnounceLeaving: coordinators stop placing tasks
// here), then Drain refuses the tasks that still arrive — the coordinator
// places them elsewhere without counting a failed attempt — lets the
// running ones finish and keeps serving this node's shuffle output until
// the queries that own it ended (their coordinators release it) or the
// timeout passed. Only then does the node leave gossip and close.

// errNodeLeaving is a task refused by a node that is leaving.
var errNodeLeaving = errors.New("node is leaving the cluster")

// Drain stops taking new tasks and waits, until ctx ends, for this node's
// running tasks to finish and for its shuffle output to be released by
// the queries that read it. It returns ctx's error when it gave up
// waiting (the remaining work is canceled by Close).
func (d *Dist) Drain(ctx context.Context) error {
	d.mu.Lock()
	d.draining = true
	d.mu.Unlock()
	start := time.Now()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		running := d.RunningTasks()
		held := len(d.store.Queries())
		coordinating := d.coordinating()
		if running == 0 && held == 0 && coordinating == 0 {
			d.log.Info("drained: no running tasks, no shuffle output held", zap.Duration("took", time.Since(start)))
			return nil
		}
		select {
		case <-ctx.Done():
			d.log.Warn("leaving before the work here ended", zap.Int64("running_tasks", running), zap.Int("queries_with_output", held),
				zap.Int("coordinating", coordinating), zap.Error(ctx.Err()))
			return ctx.Err()
		case <-tick.C:
		}
	}
}

// Draining reports whether the node refuses new tasks.
func (d *Dist) Draining() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.draining
}

func (d *Dist) coordinating() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return len(d.queries)
}
