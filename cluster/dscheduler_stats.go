package cluster

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/planner/physical"
)

// TaskStats collects the task attempts of one distributed query as the
// coordinator saw them end (EXPLAIN ANALYZE): which node ran each, the rows
// and shuffle bytes it wrote and read, how long it took and, with
// Job.Metrics set, its operators' metrics (workers send them back with the
// task result). Set Job.Tasks to one to collect; queries that stay on one
// node record nothing.
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
	ReadBytes                 int64 // shuffle bytes read
	Elapsed                   time.Duration
	Failed                    bool
	Ops                       []OpMetric // when Job.Metrics is set
}

// OpMetric is one operator's metrics in one task. Op is the operator's
// index in the pre-order walk of the stage plan (the same on every node:
// the fragment codec keeps the tree's shape), Name its type, which the
// coordinator checks against its own plan before merging.
type OpMetric struct {
	Op   int
	Name string
	execution.OperatorMetrics
}

// preorder lists p's operators, root first.
func preorder(p physical.Plan) []physical.Plan {
	out := []physical.Plan{p}
	for _, c := range p.Children() {
		out = append(out, preorder(c)...)
	}
	return out
}

func opName(p physical.Plan) string { return fmt.Sprintf("%T", p) }

// operatorMetrics lists the metrics m recorded for root's operators.
func operatorMetrics(root physical.Plan, m *execution.MetricsSet) []OpMetric {
	if m == nil {
		return nil
	}
	var out []OpMetric
	for i, p := range preorder(root) {
		if om, ok := m.Get(p); ok {
			out = append(out, OpMetric{Op: i, Name: opName(p), OperatorMetrics: om})
		}
	}
	return out
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
	ReadBytes            int64
	TaskTime, MaxElapsed time.Duration
	ops                  [][]OpMetric // of the succeeded attempts
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
			n.ReadBytes += t.ReadBytes
			n.ops = append(n.ops, t.Ops)
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

// FormatStage renders stage's lines for EXPLAIN ANALYZE, each prefixed
// by indent ("" when the stage ran no recorded task): per node that ran its
// tasks, what they wrote and read, then root's operator tree with the
// metrics of that node's succeeded tasks merged (when collected).
func (s *TaskStats) FormatStage(stage int, root physical.Plan, indent string) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	ops := preorder(root)
	for _, n := range s.ByNode(stage) {
		fmt.Fprintf(&b, "%snode %s: tasks=%d rows=%d written=%s read=%s task_time=%s max_task=%s", indent, n.Node, n.Tasks, n.Rows,
			formatBytes(n.Bytes), formatBytes(n.ReadBytes), n.TaskTime.Round(time.Microsecond), n.MaxElapsed.Round(time.Microsecond))
		if n.Failed > 0 {
			fmt.Fprintf(&b, " failed_attempts=%d", n.Failed)
		}
		b.WriteByte('\n')
		m := execution.NewMetricsSet()
		merged := false
		for _, task := range n.ops {
			for _, o := range task {
				if o.Op < len(ops) && opName(ops[o.Op]) == o.Name {
					m.Add(ops[o.Op], o.OperatorMetrics)
					merged = true
				}
			}
		}
		if !merged {
			continue
		}
		for _, line := range strings.Split(strings.TrimRight(physical.FormatAnalyzed(root, m), "\n"), "\n") {
			b.WriteString(indent + "  " + line + "\n")
		}
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

// taskMetrics is the metrics set of one task the coordinator runs itself
// (nil unless EXPLAIN ANALYZE): per task, so that its figures can be
// reported by node like a worker's.
func (q *dquery) taskMetrics() *execution.MetricsSet {
	if q.job.Metrics == nil {
		return nil
	}
	return execution.NewMetricsSet()
}

// keepMetrics adds a local task's metrics to the query's set and returns
// them as a worker would report them.
func (q *dquery) keepMetrics(root physical.Plan, m *execution.MetricsSet) []OpMetric {
	ops := operatorMetrics(root, m)
	nodes := preorder(root)
	for _, o := range ops {
		q.job.Metrics.Add(nodes[o.Op], o.OperatorMetrics)
	}
	return ops
}
