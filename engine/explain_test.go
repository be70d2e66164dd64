package engine

import (
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/quiverdb/quiver/qerr"
)

var analyzedLine = regexp.MustCompile(`^\s*(\w+).*\[rows=(\d+) batches=(\d+) time=\S+ peak_mem=([\d.]+)(B|KiB|MiB|GiB)\]$`)

type analyzedOp struct {
	name          string
	rows, batches int64
	peak          float64 // bytes
}

// analyze runs EXPLAIN ANALYZE sql and returns its operators top-down.
func analyze(t *testing.T, e *Engine, s *Session, sql string) []analyzedOp {
	t.Helper()
	var ops []analyzedOp
	for _, l := range run(t, e, s, "EXPLAIN ANALYZE "+sql) {
		m := analyzedLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		rows, _ := strconv.ParseInt(m[2], 10, 64)
		batches, _ := strconv.ParseInt(m[3], 10, 64)
		peak, _ := strconv.ParseFloat(m[4], 64)
		peak *= map[string]float64{"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}[m[5]]
		ops = append(ops, analyzedOp{m[1], rows, batches, peak})
	}
	if len(ops) == 0 {
		t.Fatalf("EXPLAIN ANALYZE %s: no operator lines", sql)
	}
	return ops
}

func findOp(t *testing.T, ops []analyzedOp, name string) analyzedOp {
	t.Helper()
	for _, o := range ops {
		if o.name == name {
			return o
		}
	}
	t.Fatalf("no %s in %v", name, ops)
	return analyzedOp{}
}

// TestExplainAnalyzePerOperator checks that rows, batches and peak memory
// are each operator's own, not the query's.
func TestExplainAnalyzePerOperator(t *testing.T) {
	e, s := tpchEngine(t)
	scan := findOp(t, analyze(t, e, s, "SELECT * FROM nation"), "Scan")
	if scan.rows != 25 || scan.batches < 1 || scan.peak <= 0 {
		t.Errorf("nation scan: %+v, want 25 rows, batches and memory", scan)
	}

	// 1000 groups in the aggregate's hash table; the filter above only
	// holds its 217-row output.
	ops := analyze(t, e, s, "SELECT o_custkey, COUNT(*) c FROM orders GROUP BY o_custkey HAVING c > 20")
	agg, filter := findOp(t, ops, "HashAggregate"), findOp(t, ops, "Filter")
	if agg.rows != 1000 || filter.rows != 217 {
		t.Errorf("rows: aggregate %d (want 1000), filter %d (want 217)", agg.rows, filter.rows)
	}
	if agg.peak <= filter.peak || filter.peak <= 0 {
		t.Errorf("peak memory: aggregate %.0f, filter %.0f; want aggregate > filter > 0", agg.peak, filter.peak)
	}
	if e.MemoryInUse() != 0 || e.MemoryLost() != 0 {
		t.Errorf("%d bytes still accounted, %d held by queries when they ended, after EXPLAIN ANALYZE", e.MemoryInUse(), e.MemoryLost())
	}
}

// TestExplainSections checks that EXPLAIN prints the logical, physical and
// stage plans of the query.
func TestExplainSections(t *testing.T) {
	e, s := tpchEngine(t)
	text := strings.Join(run(t, e, s, "EXPLAIN SELECT l_returnflag, COUNT(*) FROM lineitem WHERE l_quantity > 3 GROUP BY l_returnflag"), "\n")
	for _, want := range []string{"== Logical plan ==", "== Physical plan ==", "== Stages ==", "Stage 0", "Scan tpch.lineitem", "HashAggregate", "l_quantity > 3"} {
		if !strings.Contains(text, want) {
			t.Errorf("EXPLAIN lacks %q:\n%s", want, text)
		}
	}
	if _, err := e.Execute(context.Background(), s, "EXPLAIN SELECT * FROM nosuch", nil); qerr.KindOf(err) != qerr.NotFound {
		t.Errorf("EXPLAIN of an unknown table: %v", err)
	}
}
