package logical

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/quiverdb/quiver/planner/parse"
	"github.com/quiverdb/quiver/qerr"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden")

func bindSQL(t *testing.T, sql string) (Node, error) {
	t.Helper()
	stmt, err := parse.ParseOne(sql)
	if err != nil {
		return nil, err
	}
	env := &Env{Catalog: newFakeCatalog(), CurrentSchema: "tpch", Funcs: fakeFuncs{},
		Now: time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC), SQL: sql}
	rs, ok := stmt.(ast.ResultSetNode)
	if !ok {
		t.Fatalf("not a query: %s", sql)
	}
	return NewBinder(context.Background(), env).BindQuery(rs)
}

func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s: plan differs from golden\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

func TestTPCHGolden(t *testing.T) {
	files, err := filepath.Glob("/work/shared/tpch/queries/q*.sql")
	if err != nil || len(files) != 22 {
		t.Skipf("TPC-H queries not found (%v)", err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		t.Run(name, func(t *testing.T) {
			sql, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			q := string(sql)
			if name == "q13" {
				// The MySQL grammar has no derived-table column lists.
				q = strings.Replace(q, "count(o_orderkey)", "count(o_orderkey) AS c_count", 1)
				q = strings.Replace(q, "AS c_orders (c_custkey,\n        c_count)", "AS c_orders", 1)
			}
			n, err := bindSQL(t, q)
			if err != nil {
				t.Fatalf("bind: %v", err)
			}
			checkGolden(t, "tpch_"+name, Format(n))
		})
	}
}

func TestQueryGolden(t *testing.T) {
	queries := []struct{ name, sql string }{
		{"no_from", "SELECT 1 + 2 AS x, 'a', NULL, 1.50, DATE '2020-01-02'"},
		{"star_using", "SELECT * FROM nation JOIN region ON n_regionkey = r_regionkey"},
		{"using_left", "SELECT * FROM t AS x LEFT JOIN t AS y USING (a)"},
		{"natural", "SELECT * FROM t x NATURAL JOIN t y"},
		{"qualified_star", "SELECT r.*, n_name FROM nation n, region r WHERE n.n_regionkey = r.r_regionkey"},
		{"group_alias_ordinal", "SELECT n_regionkey AS r, count(*) FROM nation GROUP BY 1 ORDER BY r DESC"},
		{"group_expr", "SELECT a + 1, count(*) FROM t GROUP BY a + 1 HAVING count(*) > 1"},
		{"order_hidden", "SELECT n_name FROM nation ORDER BY n_regionkey, n_name LIMIT 5, 10"},
		{"distinct", "SELECT DISTINCT n_regionkey FROM nation"},
		{"union", "SELECT a FROM t UNION SELECT l_quantity FROM lineitem ORDER BY 1 LIMIT 3"},
		{"union_all3", "SELECT 1 UNION ALL SELECT 2 UNION ALL SELECT 3"},
		{"cte_twice", "WITH c AS (SELECT a FROM t) SELECT * FROM c x JOIN c y ON x.a = y.a"},
		{"view", "SELECT k FROM nv WHERE n_name = 'X'"},
		{"window", "SELECT a, row_number() OVER w, sum(a) OVER (PARTITION BY b ORDER BY a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) FROM t WINDOW w AS (ORDER BY a)"},
		{"not_in_exists", "SELECT a FROM t WHERE a NOT IN (SELECT n_nationkey FROM nation) AND NOT EXISTS (SELECT 1 FROM region WHERE r_regionkey = t.a)"},
		{"case_between", "SELECT CASE a WHEN 1 THEN 'x' ELSE b END, IF(a > 1, 1.5, 2), a BETWEEN 1 AND 3 FROM t"},
		{"params", "SELECT a FROM t WHERE a = ? AND b LIKE ?"},
		{"interval", "SELECT l_shipdate + INTERVAL 3 DAY, extract(year FROM l_shipdate) FROM lineitem"},
		{"group_concat", "SELECT b, group_concat(DISTINCT a ORDER BY a DESC SEPARATOR ';') FROM t GROUP BY b"},
		{"derived", "SELECT s.x FROM (SELECT a AS x FROM t) AS s WHERE s.x > 1"},
	}
	for _, q := range queries {
		t.Run(q.name, func(t *testing.T) {
			n, err := bindSQL(t, q.sql)
			if err != nil {
				t.Fatalf("bind: %v", err)
			}
			checkGolden(t, q.name, Format(n))
		})
	}
}

func TestBindErrors(t *testing.T) {
	for _, tc := range []struct {
		sql  string
		kind qerr.Kind
		msg  string
	}{
		{"SELECT x FROM t", qerr.NotFound, "Unknown column 'x' in 'field list'"},
		{"SELECT a FROM t WHERE zz = 1", qerr.NotFound, "Unknown column 'zz' in 'where clause'"},
		{"SELECT a FROM t ORDER BY zz", qerr.NotFound, "Unknown column 'zz' in 'order clause'"},
		{"SELECT a FROM t GROUP BY zz", qerr.NotFound, "Unknown column 'zz' in 'group statement'"},
		{"SELECT count(*) FROM t HAVING zz > 1", qerr.NotFound, "Unknown column 'zz' in 'having clause'"},
		{"SELECT 1 FROM t x JOIN t y ON zz = 1", qerr.NotFound, "Unknown column 'zz' in 'on clause'"},
		{"SELECT a FROM t x, t y", qerr.InvalidArgument, "Column 'a' in field list is ambiguous"},
		{"SELECT * FROM nope", qerr.NotFound, "Table 'tpch.nope' doesn't exist"},
		{"SELECT nofunc(a) FROM t", qerr.NotFound, "FUNCTION tpch.nofunc does not exist"},
		{"SELECT a FROM t WHERE count(*) > 1", qerr.InvalidArgument, "Invalid use of group function"},
		{"SELECT sum(count(a)) FROM t", qerr.InvalidArgument, "Invalid use of group function"},
		{"SELECT (SELECT a, b FROM t) FROM t", qerr.InvalidArgument, "Operand should contain 1 column(s)"},
		{"SELECT a FROM t UNION SELECT a, b FROM t", qerr.InvalidArgument, "The used SELECT statements have a different number of columns"},
		{"SELECT a, b FROM t GROUP BY a", qerr.InvalidArgument, "Expression #2 of SELECT list is not in GROUP BY clause and contains nonaggregated column 'tpch.t.b' which is not functionally dependent on columns in GROUP BY clause; this is incompatible with sql_mode=only_full_group_by"},
		{"SELECT a, count(*) FROM t", qerr.InvalidArgument, "Expression #1 of SELECT list is not in GROUP BY clause and contains nonaggregated column 'tpch.t.a' which is not functionally dependent on columns in GROUP BY clause; this is incompatible with sql_mode=only_full_group_by"},
		{"WITH RECURSIVE c AS (SELECT 1 FROM c) SELECT * FROM c", qerr.InvalidArgument, "Recursive Common Table Expression 'c' should contain a UNION"},
		{"WITH RECURSIVE c AS (SELECT 1 AS n UNION ALL SELECT count(*) FROM c) SELECT * FROM c", qerr.InvalidArgument, "Recursive Common Table Expression 'c' can contain neither aggregation nor window functions in recursive query block"},
		{"SELECT * FROM (SELECT 1)", qerr.InvalidArgument, "Every derived table must have its own alias"},
		{"SELECT DISTINCT a FROM t ORDER BY b", qerr.InvalidArgument, "Expression #1 of ORDER BY clause is not in SELECT list, references column 'b' which is not in SELECT list; this is incompatible with DISTINCT"},
	} {
		_, err := bindSQL(t, tc.sql)
		var qe *qerr.Error
		if !errors.As(err, &qe) {
			t.Errorf("%s: want *qerr.Error, got %v", tc.sql, err)
			continue
		}
		if qe.Kind != tc.kind || qe.Msg != tc.msg {
			t.Errorf("%s:\n got  %v %q\n want %v %q", tc.sql, qe.Kind, qe.Msg, tc.kind, tc.msg)
		}
	}
}

func TestFreshIDsPerReference(t *testing.T) {
	n, err := bindSQL(t, "WITH c AS (SELECT a FROM t) SELECT x.a, y.a FROM c x, c y")
	if err != nil {
		t.Fatal(err)
	}
	fs := n.Schema().Fields
	if len(fs) != 2 || fs[0].ID == fs[1].ID {
		t.Errorf("CTE references share IDs: %v", n.Schema())
	}
}

func TestNowWithFsp(t *testing.T) {
	now := time.Date(2024, 3, 15, 10, 20, 30, 123456789, time.UTC)
	fsp := func(n int64) []ast.ExprNode { return []ast.ExprNode{ast.NewValueExpr(n, "", "")} }
	for _, tc := range []struct {
		args []ast.ExprNode
		want int // microseconds kept
	}{{nil, 0}, {fsp(0), 0}, {fsp(3), 123000}, {fsp(6), 123456}} {
		got, err := nowWithFsp(now, "now", tc.args)
		if err != nil {
			t.Fatal(err)
		}
		if got.Nanosecond()/1000 != tc.want || got.Second() != 30 {
			t.Errorf("fsp %v: got %v, want µs %d", tc.args, got, tc.want)
		}
	}
	if _, err := nowWithFsp(now, "now", fsp(7)); err == nil || !strings.Contains(err.Error(), "Too-big precision 7") {
		t.Errorf("NOW(7): %v", err)
	}
}
