package cluster

import "context"

// SetAfterStage installs a hook run by the coordinator after each producer
// stage succeeded (tests kill nodes there).
func SetAfterStage(d *Dist, fn func(query string, stage int)) { d.afterStage = fn }

// SetTaskHook installs a hook run by the coordinator as each task attempt
// starts and ends (tests order stages' tasks with it).
func SetTaskHook(d *Dist, fn func(query string, stage, partition int, start bool)) { d.taskHook = fn }

// DropOutputs loses the outputs of query on this node (as a restarted node
// would), without marking the query ended.
func (s *ShuffleStore) DropOutputs(query string) { s.dropQuery(query) }

// HoldSlots takes every task slot of a node's scheduler until release:
// tasks sent to the node meanwhile wait for a slot (and count as running).
func HoldSlots(s *Scheduler) (release func()) {
	n := cap(s.slots)
	for range n {
		s.slots <- struct{}{}
	}
	return func() {
		for range n {
			<-s.slots
		}
	}
}

// WatchPeer is watchPeer: the context a call to node runs under.
func WatchPeer(d *Dist, ctx context.Context, node string) (context.Context, func()) {
	return d.watchPeer(ctx, node)
}
