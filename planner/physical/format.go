package physical

import (
	"fmt"
	"strings"

	"github.com/quiverdb/quiver/execution"
)

// FormatAnalyzed renders p like Format with each operator's EXPLAIN ANALYZE
// metrics (summed over partitions), looked up by node pointer in m: rows
// and batches it produced, time spent in its Next calls (its inputs'
// included) and its peak memory (see execution.OperatorMetrics).
func FormatAnalyzed(p Plan, m *execution.MetricsSet) string {
	var b strings.Builder
	var walk func(Plan, int)
	walk = func(p Plan, depth int) {
		b.WriteString(strings.Repeat("  ", depth))
		b.WriteString(p.String())
		if om, ok := metricsOf(m, p); ok {
			fmt.Fprintf(&b, "  [rows=%d batches=%d time=%s peak_mem=%s", om.Rows, om.Batches, om.Elapsed.Round(1000), humanBytes(om.PeakMemory))
			if om.SpillFiles > 0 {
				fmt.Fprintf(&b, " spilled %s in %d files", humanBytes(om.SpilledBytes), om.SpillFiles)
			}
			b.WriteByte(']')
		}
		b.WriteByte('\n')
		for _, c := range p.Children() {
			walk(c, depth+1)
		}
	}
	walk(p, 0)
	return b.String()
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for v := n / unit; v >= unit; v /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func metricsOf(m *execution.MetricsSet, p Plan) (execution.OperatorMetrics, bool) {
	if m == nil {
		return execution.OperatorMetrics{}, false
	}
	return m.Get(p)
}
