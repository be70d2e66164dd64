package cluster

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.uber.org/zap"
)

// Coordinator instances. A node restarted under the same name is a new
// process (NodeMeta.Instance): what its previous process asked of this
// node — running tasks, shuffle output — has nobody left to release it.
// Every task carries its coordinator's instance, and this node drops the
// work of an instance as soon as it learns the instance is gone: gossip
// declares it dead or left (onEvent), gossip shows the name with another
// instance (Membership reports the old one failed, then the new one
// joined), or a task of a newer instance of the coordinator arrives first
// (admit). Tasks of a gone instance are refused.

// coordRef names the coordinator of work done here: node name and
// instance ("" when the peer sent none; then the name stands for every
// instance).
type coordRef struct{ Name, Instance string }

func (c coordRef) String() string {
	if c.Instance == "" {
		return c.Name
	}
	return c.Name + " (instance " + c.Instance + ")"
}

// admit checks a task's coordinator against this node's membership view
// before the task is tracked. Two instances of one name: the one that
// started later is the live one, the other is retired. A task of a newer
// instance than gossip shows retires the old one here at once; a task of
// an older one is refused.
func (d *Dist) admit(c coordRef, started time.Time) error {
	if c.Instance == "" {
		return nil
	}
	for _, m := range d.cfg.Members() {
		if m.Name != c.Name || m.Instance == "" || m.Instance == c.Instance {
			continue
		}
		if started.After(m.Started) {
			d.retire(coordRef{Name: m.Name, Instance: m.Instance}, "a task of its newer instance arrived")
			continue
		}
		d.retire(c, "gossip shows a newer instance")
		return fmt.Errorf("coordinator %s was replaced by instance %s", c, m.Instance)
	}
	return nil
}

// retire marks coordinator c gone — its later tasks are refused — and
// drops the work this node does for it: running tasks are canceled and
// their shuffle output freed (memory and spill files). With an empty
// instance, every instance of the name is meant.
func (d *Dist) retire(c coordRef, why string) {
	d.mu.Lock()
	d.gone[c] = true
	var orphans []string
	for id, wq := range d.work {
		if wq.coordinator == c.Name && (c.Instance == "" || wq.instance == "" || wq.instance == c.Instance) {
			orphans = append(orphans, id)
		}
	}
	d.mu.Unlock()
	for _, id := range orphans {
		d.log.Info("coordinator gone: dropping its query's work", zap.String("query_id", id), zap.Stringer("coordinator", c), zap.String("why", why))
		d.cancelQuery(id)
	}
}

// coordinatorGone handles a node gossip reports dead or left: its tasks
// are refused — those of its instance, and those that carry none until the
// name joins again — and the work done here for it is dropped (for that
// instance only, when it had one: the node may be back as a new process,
// whose tasks are accepted).
func (d *Dist) coordinatorGone(n Node, why string) {
	d.mu.Lock()
	d.gone[coordRef{Name: n.Name}] = true
	d.mu.Unlock()
	d.retire(coordRef{Name: n.Name, Instance: n.Instance}, why)
}

// rejoined forgets that node's instance was gone: a node declared dead by
// a network partition comes back as the same process.
func (d *Dist) rejoined(n Node) {
	d.mu.Lock()
	delete(d.gone, coordRef{Name: n.Name, Instance: n.Instance})
	delete(d.gone, coordRef{Name: n.Name})
	d.mu.Unlock()
}

// trackWork registers a task this node runs for coordinator c's query
// (cancel stops it), unless c is gone.
func (d *Dist) trackWork(query string, c coordRef, cancel *context.CancelFunc) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return errors.New("node shutting down")
	}
	if d.gone[c] || c.Instance == "" && d.gone[coordRef{Name: c.Name}] {
		// A late task of a coordinator that died: its output would
		// never be released.
		return fmt.Errorf("coordinator %s is gone", c)
	}
	wq := d.work[query]
	if wq == nil {
		wq = &workerQuery{coordinator: c.Name, instance: c.Instance, tasks: map[*context.CancelFunc]struct{}{}}
		d.work[query] = wq
	} else if c.Instance != "" && wq.instance != "" && wq.instance != c.Instance {
		return fmt.Errorf("query %s is already run here for coordinator instance %s, not %s", query, wq.instance, c.Instance)
	}
	wq.tasks[cancel] = struct{}{}
	return nil
}
