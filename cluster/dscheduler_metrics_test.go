package cluster_test

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// analyzedOps parses EXPLAIN ANALYZE text of a distributed query into, per
// stage and node, the summed rows of the operators whose line starts with
// op (e.g. "Scan"), and the nodes' read/written summary lines.
type analyzed struct {
	rows    map[string]map[int]map[string]int64 // op → stage → node → rows
	summary map[int]map[string]string           // stage → node → summary line
}

var (
	stageLine   = regexp.MustCompile(`^Stage (\d+) `)
	nodeLine    = regexp.MustCompile(`^\s+node (\S+): (tasks=.*)$`)
	opRowsField = regexp.MustCompile(`^\s+(\w+).*\[rows=(\d+) batches=(\d+) `)
)

func parseAnalyzed(text string) analyzed {
	a := analyzed{rows: map[string]map[int]map[string]int64{}, summary: map[int]map[string]string{}}
	stage, node := -1, ""
	for _, line := range strings.Split(text, "\n") {
		if m := stageLine.FindStringSubmatch(line); m != nil {
			stage, _ = strconv.Atoi(m[1])
			node = ""
			continue
		}
		if m := nodeLine.FindStringSubmatch(line); m != nil && stage >= 0 {
			node = m[1]
			if a.summary[stage] == nil {
				a.summary[stage] = map[string]string{}
			}
			a.summary[stage][node] = m[2]
			continue
		}
		if m := opRowsField.FindStringSubmatch(line); m != nil && node != "" {
			n, _ := strconv.ParseInt(m[2], 10, 64)
			byStage := a.rows[m[1]]
			if byStage == nil {
				byStage = map[int]map[string]int64{}
				a.rows[m[1]] = byStage
			}
			if byStage[stage] == nil {
				byStage[stage] = map[string]int64{}
			}
			byStage[stage][node] += n
		}
	}
	return a
}

// EXPLAIN ANALYZE of a distributed query shows, per stage and per node,
// the operators' metrics as the node that ran the tasks measured them
// (workers send them back with the task result): the scan rows summed over
// all nodes are the table's rows, nodes other than the coordinator report
// operator rows, and the bytes a stage's tasks wrote to the shuffle are
// read by the stage that consumes them.
func TestDistributedExplainAnalyzeOperatorMetrics(t *testing.T) {
	nodes := startCluster(t, 3, clusterOpts{})
	coord := nodes[0]
	_, rows, err := query(t, coord.eng, "EXPLAIN ANALYZE SELECT o_orderpriority, COUNT(*) FROM lineitem JOIN orders ON l_orderkey = o_orderkey GROUP BY o_orderpriority")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, r := range rows {
		lines = append(lines, r[0])
	}
	text := strings.Join(lines, "\n")
	if testing.Verbose() {
		t.Log("\n" + text)
	}
	a := parseAnalyzed(text)
	var scanned int64
	remote := false
	for _, byNode := range a.rows["Scan"] {
		for node, n := range byNode {
			scanned += n
			if node != coord.name && n > 0 {
				remote = true
			}
		}
	}
	if want := int64(60175 + 15000); scanned != want {
		t.Errorf("scan rows over all nodes and stages: %d, want %d (lineitem + orders)\n%s", scanned, want, text)
	}
	if !remote {
		t.Errorf("no node other than %s reported scan rows\n%s", coord.name, text)
	}
	// Every node line carries written and read bytes; some stage read what
	// others wrote.
	read := false
	for _, byNode := range a.summary {
		for node, s := range byNode {
			if !regexp.MustCompile(`written=\d+(\.\d)?[KMG]?i?B read=\d+(\.\d)?[KMG]?i?B `).MatchString(s) {
				t.Errorf("stage line of %s: %q", node, s)
			}
			if regexp.MustCompile(`read=[1-9]`).MatchString(s) {
				read = true
			}
		}
	}
	if !read {
		t.Errorf("no stage reported shuffle bytes read\n%s", text)
	}
}
