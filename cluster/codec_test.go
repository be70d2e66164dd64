package cluster_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/quiverdb/quiver/catalog"
	"github.com/quiverdb/quiver/cluster"
	"github.com/quiverdb/quiver/execution"
	"github.com/quiverdb/quiver/execution/expr"
	"github.com/quiverdb/quiver/integration/tpch"
	"github.com/quiverdb/quiver/planner"
	"github.com/quiverdb/quiver/planner/optimizer"
	"github.com/quiverdb/quiver/planner/parse"
	"github.com/quiverdb/quiver/planner/physical"
	"github.com/quiverdb/quiver/planner/stages"
	"go.uber.org/zap"
)

const (
	sf001Dir     = "../testdata/tpch-sf0.01"
	tpchDir      = "../integration/tpch"
	sf001Answers = "../integration/tpch/answers/sf0.01"
	partitions   = 4 // more than the cores: exchanges, hash joins and splits get exercised
)

func openCatalog(t testing.TB, dir string) *catalog.Catalog {
	t.Helper()
	cat, err := catalog.Open(context.Background(), catalog.Options{DataDir: dir, DefaultSchema: "tpch"}, zap.NewNop())
	if err != nil {
		t.Fatal(err)
	}
	return cat
}

// compiled is one query planned as the engine plans it.
type compiled struct {
	plan   physical.Plan // before the stage cut (holds the Exchanges)
	graph  *stages.Graph
	header []string
}

func compile(t testing.TB, cat *catalog.Catalog, sql string, broadcastRows int64) compiled {
	t.Helper()
	return compileWith(t, cat, sql, physical.Options{TargetPartitions: partitions, BroadcastThresholdRows: broadcastRows})
}

func compileWith(t testing.TB, cat *catalog.Catalog, sql string, opts physical.Options) compiled {
	t.Helper()
	ctx := context.Background()
	st, err := parse.ParseOne(sql)
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	stmt, err := planner.Bind(ctx, st, &planner.BindEnv{Catalog: cat, CurrentSchema: "tpch", Now: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), SQL: sql})
	if err != nil {
		t.Fatalf("bind: %v", err)
	}
	q, ok := stmt.(*planner.Query)
	if !ok {
		t.Fatalf("%T is not a query", stmt)
	}
	opt, err := optimizer.Optimize(ctx, q.Plan, optimizer.Options{})
	if err != nil {
		t.Fatalf("optimize: %v", err)
	}
	phys, err := physical.Build(ctx, opt, opts)
	if err != nil {
		t.Fatalf("physical: %v", err)
	}
	g, err := stages.Cut(phys)
	if err != nil {
		t.Fatalf("stages: %v", err)
	}
	var header []string
	for _, f := range q.Plan.Schema().ToArrow().Fields() {
		header = append(header, f.Name)
	}
	return compiled{plan: phys, graph: g, header: header}
}

// roundTrip encodes and decodes every stage root, checks the decoded plan
// prints as the original and encodes to the same bytes, and returns the
// graph of decoded stages and the largest fragment's size.
func roundTrip(t testing.TB, cat *catalog.Catalog, g *stages.Graph) (*stages.Graph, int) {
	t.Helper()
	out := &stages.Graph{}
	largest := 0
	for _, st := range g.Stages {
		cover(st.Root)
		b, err := cluster.EncodePlan(st.Root)
		if err != nil {
			t.Fatalf("stage %d: encode: %v\n%s", st.ID, err, physical.Format(st.Root))
		}
		largest = max(largest, len(b))
		p, err := cluster.DecodePlan(context.Background(), b, cluster.CatalogResolver(cat))
		if err != nil {
			t.Fatalf("stage %d: decode: %v\n%s", st.ID, err, physical.Format(st.Root))
		}
		if got, want := physical.Format(p), physical.Format(st.Root); got != want {
			t.Fatalf("stage %d: decoded plan differs:\n%s\nwant:\n%s", st.ID, got, want)
		}
		b2, err := cluster.EncodePlan(p)
		if err != nil {
			t.Fatalf("stage %d: re-encode: %v", st.ID, err)
		}
		if string(b2) != string(b) {
			t.Fatalf("stage %d: re-encoding the decoded plan gives other bytes (%d vs %d)", st.ID, len(b2), len(b))
		}
		out.Stages = append(out.Stages, &stages.Stage{ID: st.ID, Root: p, Partitions: st.Partitions, Inputs: st.Inputs})
	}
	return out, largest
}

// roundTripPlan checks a whole physical plan (Exchanges included) survives.
func roundTripPlan(t testing.TB, cat *catalog.Catalog, p physical.Plan) {
	t.Helper()
	cover(p)
	b, err := cluster.EncodePlan(p)
	if err != nil {
		t.Fatalf("encode: %v\n%s", err, physical.Format(p))
	}
	d, err := cluster.DecodePlan(context.Background(), b, cluster.CatalogResolver(cat))
	if err != nil {
		t.Fatalf("decode: %v\n%s", err, physical.Format(p))
	}
	if got, want := physical.Format(d), physical.Format(p); got != want {
		t.Fatalf("decoded plan differs:\n%s\nwant:\n%s", got, want)
	}
}

// covered records which node, expression and literal kinds the tests
// round-tripped (TestCodecCoverage checks none is missing).
var covered = map[string]bool{}

func cover(p physical.Plan) {
	k := fmt.Sprintf("%T", p)
	covered[k] = true
	var exprs []expr.Expr
	switch n := p.(type) {
	case *physical.HashAggregate:
		covered[k+" "+n.Mode.String()] = true
		exprs = append(exprs, n.GroupBy...)
		for _, a := range n.Aggs {
			covered["agg "+a.Func] = true
			exprs = append(exprs, a.Args...)
			if a.Filter != nil {
				exprs = append(exprs, a.Filter)
			}
		}
	case *physical.HashJoin:
		covered[fmt.Sprintf("%s %s broadcast=%v", k, n.Type, n.Broadcast)] = true
		if n.NullAware {
			covered[k+" null-aware"] = true
		}
		if n.Proj != nil {
			covered[k+" proj"] = true
		}
		if slices.Contains(n.NullEqual, true) {
			covered[k+" null-equal"] = true
		}
		exprs = append(append(exprs, n.LeftKeys...), n.RightKeys...)
		if n.Filter != nil {
			exprs = append(exprs, n.Filter)
		}
	case *physical.NestedLoopJoin:
		covered[fmt.Sprintf("%s %s", k, n.Type)] = true
		if n.Condition != nil {
			exprs = append(exprs, n.Condition)
		}
	case *physical.Window:
		for _, f := range n.Funcs {
			covered["window "+f.Func] = true
			if f.Frame != nil {
				covered[fmt.Sprintf("window frame rows=%v", f.Frame.Rows)] = true
			}
			exprs = append(append(exprs, f.Args...), f.PartitionBy...)
		}
	case *physical.Filter:
		exprs = append(exprs, n.Predicate)
	case *physical.Project:
		exprs = append(exprs, n.Exprs...)
	case *physical.Scan:
		exprs = append(exprs, n.Filters...)
	case *physical.Values:
		for _, r := range n.Rows {
			exprs = append(exprs, r...)
		}
	case *physical.Sort:
		for _, sk := range n.Keys {
			exprs = append(exprs, sk.Expr)
		}
	}
	var walk func(e expr.Expr)
	walk = func(e expr.Expr) {
		covered[fmt.Sprintf("%T", e)] = true
		switch e := e.(type) {
		case *expr.Literal:
			covered["literal "+e.Value.DataType().String()] = true
		case *expr.Call:
			for _, a := range e.Args {
				walk(a)
			}
		case *expr.CastExpr:
			walk(e.Input)
		case *expr.CaseExpr:
			for _, x := range append(append([]expr.Expr{}, e.Whens...), e.Thens...) {
				walk(x)
			}
			if e.Else != nil {
				walk(e.Else)
			}
		}
	}
	for _, e := range exprs {
		walk(e)
	}
	for _, c := range p.Children() {
		cover(c)
	}
}

// run executes a stage graph on the local scheduler and renders its rows;
// a checked allocator proves the decoded operators free what they allocate.
func run(t testing.TB, g *stages.Graph) ([][]string, error) {
	t.Helper()
	ctx := context.Background()
	mem := memory.NewCheckedAllocator(memory.NewGoAllocator())
	s := cluster.NewScheduler(2, zap.NewNop())
	stream, err := s.Run(ctx, &cluster.Job{QueryID: "codec-test", Graph: g, Alloc: execution.NewQueryAllocator(mem, 0), Log: zap.NewNop()})
	if err != nil {
		return nil, err
	}
	var rows [][]string
	for {
		b, err := stream.Next(ctx)
		if errors.Is(err, execution.EOF) {
			break
		}
		if err != nil {
			stream.Close()
			return nil, err
		}
		rows = append(rows, tpch.Rows([]arrow.RecordBatch{b})...)
		b.Release()
	}
	if err := stream.Close(); err != nil {
		return nil, err
	}
	mem.AssertSize(t, 0)
	return rows, nil
}

func sortedRows(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = strings.Join(r, "|")
	}
	slices.Sort(out)
	return out
}

// joinModes plans joins with the default broadcast threshold (small build
// sides broadcast) and with broadcasts off (every join partitioned).
var joinModes = []struct {
	name string
	rows int64
}{{"broadcast", 0}, {"partitioned", -1}}

// TestCodecTPCH: every TPC-H query's stages survive encode+decode, and the
// decoded stages give the reference answers and the same rows as the
// original stages.
func TestCodecTPCH(t *testing.T) {
	cat := openCatalog(t, sf001Dir)
	largest, largestQ := 0, ""
	for _, mode := range joinModes {
		for q := 1; q <= 22; q++ {
			name := fmt.Sprintf("q%02d", q)
			t.Run(mode.name+"/"+name, func(t *testing.T) {
				sql, err := tpch.ReadQuery(tpchDir, name)
				if err != nil {
					t.Fatal(err)
				}
				c := compile(t, cat, sql, mode.rows)
				roundTripPlan(t, cat, c.plan)
				dec, size := roundTrip(t, cat, c.graph)
				if size > largest {
					largest, largestQ = size, name
				}
				got, err := run(t, dec)
				if err != nil {
					t.Fatalf("decoded stages: %v", err)
				}
				msg, err := tpch.Check(sf001Answers, name, c.header, got)
				if err != nil {
					t.Fatal(err)
				}
				if msg != "" {
					t.Fatalf("decoded stages: %s", msg)
				}
				want, err := run(t, c.graph)
				if err != nil {
					t.Fatalf("original stages: %v", err)
				}
				if !slices.Equal(sortedRows(got), sortedRows(want)) {
					t.Fatalf("decoded and original stages disagree")
				}
			})
		}
	}
	t.Logf("largest stage fragment at SF 0.01: %d bytes (%s)", largest, largestQ)
	if largest > 64<<10 {
		t.Errorf("largest fragment is %d bytes; fragments must stay small", largest)
	}
}

// codecQueries cover what TPC-H does not: windows and frames, set
// operations (null-equal keys), NOT IN (null-aware anti join), scalar and
// correlated subqueries, nested-loop joins, every aggregate, VALUES, system
// tables, and literals of every kind.
var codecQueries = []string{
	// windows
	`SELECT n_regionkey, n_name, ROW_NUMBER() OVER (PARTITION BY n_regionkey ORDER BY n_name) rn, RANK() OVER (ORDER BY n_regionkey) rk, DENSE_RANK() OVER (ORDER BY n_regionkey) dr FROM nation`,
	`SELECT n_name, SUM(n_nationkey) OVER (PARTITION BY n_regionkey ORDER BY n_nationkey ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) s, AVG(n_nationkey) OVER (ORDER BY n_nationkey RANGE BETWEEN 2 PRECEDING AND CURRENT ROW) a FROM nation`,
	`SELECT n_name, LAG(n_name, 1, 'none') OVER (ORDER BY n_nationkey) l, LEAD(n_nationkey) OVER (PARTITION BY n_regionkey ORDER BY n_nationkey) ld, FIRST_VALUE(n_name) OVER (PARTITION BY n_regionkey ORDER BY n_name) fv, LAST_VALUE(n_name) OVER (PARTITION BY n_regionkey ORDER BY n_name ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) lv, NTH_VALUE(n_name, 2) OVER (PARTITION BY n_regionkey ORDER BY n_name) nv FROM nation`,
	`SELECT n_name, NTILE(3) OVER (ORDER BY n_nationkey) t, PERCENT_RANK() OVER (ORDER BY n_regionkey) pr, CUME_DIST() OVER (ORDER BY n_regionkey) cd, COUNT(*) OVER () c, COUNT(n_comment) OVER (PARTITION BY n_regionkey) cc FROM nation`,
	`SELECT o_orderdate, SUM(o_totalprice) OVER (ORDER BY o_custkey RANGE BETWEEN 3 PRECEDING AND 2 FOLLOWING) s FROM orders WHERE o_orderkey < 200`,
	// set operations
	`SELECT n_regionkey FROM nation UNION SELECT r_regionkey FROM region`,
	`SELECT n_regionkey FROM nation UNION ALL SELECT r_regionkey FROM region`,
	`SELECT n_regionkey FROM nation INTERSECT SELECT r_regionkey FROM region WHERE r_regionkey < 3`,
	`SELECT n_nationkey FROM nation EXCEPT SELECT s_nationkey FROM supplier WHERE s_suppkey < 20`,
	`SELECT NULLIF(n_regionkey, 2) k FROM nation INTERSECT SELECT NULLIF(r_regionkey, 2) FROM region`,
	// subqueries
	`SELECT c_name FROM customer WHERE c_custkey NOT IN (SELECT o_custkey FROM orders) ORDER BY c_name LIMIT 10`,
	`SELECT c_name FROM customer WHERE c_custkey IN (SELECT o_custkey FROM orders WHERE o_totalprice > 400000)`,
	`SELECT s_name, (SELECT COUNT(*) FROM partsupp WHERE ps_suppkey = s_suppkey) cnt FROM supplier WHERE s_suppkey < 10`,
	`SELECT n_name FROM nation n WHERE EXISTS (SELECT 1 FROM supplier s WHERE s.s_nationkey = n.n_nationkey AND s.s_acctbal > 9000)`,
	`SELECT r_name, (SELECT MAX(n_name) FROM nation WHERE n_regionkey = r_regionkey) m FROM region`,
	`SELECT n_name, n_regionkey IN (SELECT r_regionkey FROM region WHERE r_name LIKE 'A%') in_a FROM nation`,
	// joins
	`SELECT n1.n_name, n2.n_name FROM nation n1 JOIN nation n2 ON n1.n_nationkey < n2.n_nationkey AND n1.n_regionkey = 1 AND n2.n_regionkey = 2`,
	`SELECT r_name, n_name FROM region LEFT JOIN nation ON n_regionkey = r_regionkey AND n_name LIKE 'A%'`,
	`SELECT r_name, n_name FROM region RIGHT JOIN nation ON n_regionkey = r_regionkey AND r_name <> 'ASIA'`,
	`SELECT r_name, n_name FROM region CROSS JOIN nation WHERE n_nationkey < 3`,
	`SELECT a.r_regionkey, b.n_regionkey FROM region a JOIN nation b ON a.r_regionkey <=> b.n_regionkey WHERE b.n_nationkey < 4`,
	`SELECT c_custkey, o_orderkey FROM customer LEFT JOIN orders ON c_custkey = o_custkey AND o_totalprice > c_acctbal * 30 WHERE c_custkey < 40`,
	// aggregates
	`SELECT l_returnflag, COUNT(*), COUNT(l_tax), COUNT(DISTINCT l_suppkey), SUM(l_quantity), AVG(l_discount), MIN(l_shipdate), MAX(l_comment), ANY_VALUE(l_linestatus) FROM lineitem GROUP BY l_returnflag`,
	`SELECT n_regionkey, STDDEV_SAMP(n_nationkey), STDDEV_POP(n_nationkey), VAR_SAMP(n_nationkey), VAR_POP(n_nationkey), STD(n_nationkey), STDDEV(n_nationkey), VARIANCE(n_nationkey) FROM nation GROUP BY n_regionkey`,
	`SELECT n_regionkey, BIT_AND(n_nationkey), BIT_OR(n_nationkey), BIT_XOR(n_nationkey), GROUP_CONCAT(n_name ORDER BY n_name DESC SEPARATOR ';'), GROUP_CONCAT(DISTINCT n_regionkey) FROM nation GROUP BY n_regionkey`,
	`SELECT COUNT(*), SUM(DISTINCT n_regionkey), AVG(DISTINCT n_regionkey) FROM nation`,
	`SELECT o_orderpriority, SUM(o_totalprice) s FROM orders GROUP BY o_orderpriority HAVING SUM(o_totalprice) > 1000 ORDER BY s DESC LIMIT 2 OFFSET 1`,
	// literals, casts, CASE, functions
	`SELECT CAST(12.345 AS DECIMAL(20,4)) d, 123456789012345678901234567.89 big, DATE '1995-03-15' dt, TIMESTAMP '2001-02-03 04:05:06.789' ts, TIME '12:34:56' tm, x'CAFE' bin, NULL n, 'str' s, 1.5e3 f, -7 i, TRUE b`,
	`SELECT o_orderkey, CASE WHEN o_totalprice > 200000 THEN 'big' WHEN o_totalprice > 100000 THEN 'mid' END c, CAST(o_orderdate AS CHAR) ds, DATE_ADD(o_orderdate, INTERVAL 1 MONTH) nm, o_orderdate + INTERVAL '1-2' YEAR_MONTH ym, EXTRACT(YEAR FROM o_orderdate) y FROM orders WHERE o_orderkey < 50 AND o_comment LIKE '%the%' AND o_orderstatus IN ('F', 'O')`,
	`SELECT UPPER(n_name), CONCAT(n_name, '-', n_regionkey), SUBSTRING(n_comment, 3, 5), COALESCE(NULL, n_name), n_nationkey DIV 3, n_nationkey / 7, n_nationkey % 4, HEX(n_name), MD5(n_name), n_name REGEXP '^A' FROM nation`,
	`SELECT 1 a, 'x' b UNION ALL SELECT 2, 'y' UNION ALL SELECT NULL, NULL`,
	`SELECT 1 + 1, 'x'`,
	`SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'tpch' ORDER BY table_name`,
	// recursive CTEs (work tables rebound on decode)
	`WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c WHERE n < 10) SELECT SUM(n), COUNT(*) FROM c`,
	`WITH RECURSIVE r (k, d) AS (SELECT n_nationkey, 0 FROM nation WHERE n_nationkey = 0 UNION SELECT n.n_nationkey, r.d + 1 FROM nation n JOIN r ON n.n_nationkey = r.k + 5) SELECT k, d FROM r`,
	`WITH RECURSIVE a (x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM a WHERE x < 3) SELECT x, (SELECT COUNT(*) FROM nation WHERE n_regionkey = x) FROM a`,
	`WITH big AS (SELECT o_custkey, SUM(o_totalprice) t FROM orders GROUP BY o_custkey) SELECT c_name, t FROM customer JOIN big ON c_custkey = o_custkey ORDER BY t DESC, c_name LIMIT 5`,
}

// TestCodecQueries round-trips the stages of codecQueries and runs both.
func TestCodecQueries(t *testing.T) {
	cat := openCatalog(t, sf001Dir)
	for _, mode := range joinModes {
		for i, sql := range codecQueries {
			t.Run(fmt.Sprintf("%s/%d", mode.name, i), func(t *testing.T) {
				c := compile(t, cat, sql, mode.rows)
				roundTripPlan(t, cat, c.plan)
				dec, _ := roundTrip(t, cat, c.graph)
				want, err := run(t, c.graph)
				if err != nil {
					t.Fatalf("original stages: %v\n%s", err, sql)
				}
				got, err := run(t, dec)
				if err != nil {
					t.Fatalf("decoded stages: %v\n%s", err, sql)
				}
				if !slices.Equal(sortedRows(got), sortedRows(want)) {
					t.Fatalf("decoded stages give other rows:\n%v\nwant:\n%v\n%s", got, want, sql)
				}
				if len(want) == 0 {
					t.Fatalf("query returns no rows; make it return some: %s", sql)
				}
			})
		}
	}
}

// TestCodecFragmentSizeSF1 reports the largest stage fragment at SF 1 (set
// QUIVER_CODEC_SF1_DIR to a data dir holding tpch/, e.g. /tmp/tpch-sf1).
func TestCodecFragmentSizeSF1(t *testing.T) {
	dir := os.Getenv("QUIVER_CODEC_SF1_DIR")
	if dir == "" {
		t.Skip("QUIVER_CODEC_SF1_DIR not set")
	}
	if _, err := os.Stat(filepath.Join(dir, "tpch")); err != nil {
		t.Skip(err)
	}
	cat := openCatalog(t, dir)
	for _, parts := range []int{4, 64} {
		for _, mode := range joinModes {
			largest, largestQ := 0, ""
			for q := 1; q <= 22; q++ {
				name := fmt.Sprintf("q%02d", q)
				sql, err := tpch.ReadQuery(tpchDir, name)
				if err != nil {
					t.Fatal(err)
				}
				c := compileWith(t, cat, sql, physical.Options{TargetPartitions: parts, BroadcastThresholdRows: mode.rows})
				_, size := roundTrip(t, cat, c.graph)
				if size > largest {
					largest, largestQ = size, name
				}
			}
			t.Logf("largest stage fragment at SF 1, %d partitions, %s joins: %d bytes (%s)", parts, mode.name, largest, largestQ)
			if largest > 64<<10 {
				t.Errorf("largest fragment is %d bytes; fragments must stay small", largest)
			}
		}
	}
}

// TestCodecCoverage runs after the query tests (same file, declared last)
// and checks they exercised every node, join kind, aggregate mode,
// aggregate and window function, expression and literal kind.
func TestCodecCoverage(t *testing.T) {
	if len(covered) == 0 {
		t.Skip("run with TestCodecTPCH and TestCodecQueries")
	}
	want := []string{
		"*physical.Scan", "*physical.MemoryScan", "*physical.Values", "*physical.Filter", "*physical.Project",
		"*physical.HashAggregate Single", "*physical.HashAggregate Partial", "*physical.HashAggregate Final",
		"*physical.HashJoin Inner broadcast=true", "*physical.HashJoin Inner broadcast=false",
		"*physical.HashJoin null-aware", "*physical.HashJoin null-equal", "*physical.HashJoin proj",
		"*physical.NestedLoopJoin", "*physical.Sort", "*physical.Limit", "*physical.Union", "*physical.Window",
		"*physical.Exchange", "*physical.ShuffleWrite", "*physical.ShuffleRead", "*physical.RecursiveCTE", "*physical.WorkTable",
		"*expr.Column", "*expr.Literal", "*expr.Call", "*expr.CastExpr", "*expr.CaseExpr",
		"window frame rows=true", "window frame rows=false",
		"literal decimal(20, 4)", "literal date32", "literal timestamp[us]", "literal time64[us]", "literal binary",
		"literal null", "literal utf8", "literal float64", "literal int64",
	}
	for _, f := range []string{"count", "sum", "avg", "min", "max", "stddev_samp", "stddev_pop", "var_samp", "var_pop",
		"group_concat", "bit_and", "bit_or", "bit_xor", "any_value"} {
		want = append(want, "agg "+f)
	}
	for _, f := range []string{"row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead",
		"first_value", "last_value", "nth_value", "sum", "avg", "count"} {
		want = append(want, "window "+f)
	}
	var missing []string
	for _, w := range want {
		if !covered[w] {
			missing = append(missing, w)
		}
	}
	if len(missing) > 0 {
		keys := make([]string, 0, len(covered))
		for k := range covered {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		t.Errorf("not covered: %v\ncovered: %v", missing, keys)
	}
}
