package cluster

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"
)

// TaskStats collects the task attempts of one distributed query as the
// coordinator saw them end (EXPLAIN ANALYZE): which node ran each, the rows
// and shuffle bytes it wrote and how long it took. Set Job.Tasks to one to
// collect; queries that stay on one node record nothing.
type TaskStats struct {
	mu    sync.Mutex
	tasks []TaskStat
}

// TaskStat is one ended task attempt.
type TaskStat struct {
	Stage, Partition, Attempt int
	Node                      string
	Rows                      int64 // rows written to the shuffle (final stage: sent)
	Bytes                     int64 // shuffle bytes written (0 for the final stage)
	Elapsed                   time.Duration
	Failed                    bool
}

// NewTaskStats returns an empty collector.
func NewTaskStats() *TaskStats { return &TaskStats{} }

func (s *TaskStats) add(t TaskStat) {
	if s == nil {
		return
	}
	s.mu.Lock()
	s.tasks = append(s.tasks, t)
	s.mu.Unlock()
}

// Tasks returns the recorded attempts.
func (s *TaskStats) Tasks() []TaskStat {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]TaskStat(nil), s.tasks...)
}

// NodeStat sums a stage's task attempts on one node.
type NodeStat struct {
	Node                 string
	Tasks, Failed        int
	Rows, Bytes          int64
	TaskTime, MaxElapsed time.Duration
}

// ByNode sums stage's attempts per node, sorted by node name.
func (s *TaskStats) ByNode(stage int) []NodeStat {
	m := map[string]*NodeStat{}
	for _, t := range s.Tasks() {
		if t.Stage != stage {
			continue
		}
		n := m[t.Node]
		if n == nil {
			n = &NodeStat{Node: t.Node}
			m[t.Node] = n
		}
		if t.Failed {
			n.Failed++
		} else {
			n.Tasks++
			n.Rows += t.Rows
			n.Bytes += t.Bytes
		}
		n.TaskTime += t.Elapsed
		n.MaxElapsed = max(n.MaxElapsed, t.Elapsed)
	}
	out := make([]NodeStat, 0, len(m))
	for _, n := range m {
		out = append(out, *n)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Node < out[j].Node })
	return out
}

// FormatStage renders stage's per-node lines for EXPLAIN ANALYZE, each
// prefixed by indent ("" when the stage ran no recorded task).
func (s *TaskStats) FormatStage(stage int, indent string) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	for _, n := range s.ByNode(stage) {
		fmt.Fprintf(&b, "%snode %s: tasks=%d rows=%d shuffled=%s task_time=%s max_task=%s", indent, n.Node, n.Tasks, n.Rows, formatBytes(n.Bytes),
			n.TaskTime.Round(time.Microsecond), n.MaxElapsed.Round(time.Microsecond))
		if n.Failed > 0 {
			fmt.Fprintf(&b, " failed_attempts=%d", n.Failed)
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func formatBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1fKiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%dB", n)
}
