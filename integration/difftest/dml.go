package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// A script is a statement sequence run on both engines from an empty
// schema "dml". After every statement both must agree on success or
// failure (and a query's result must match); at the end, every table the
// script names in check must hold the same rows.
type script struct {
	name  string
	stmts []string
	check []string // tables (or views) to compare at the end
}

func dmlScripts() []script {
	const base = "CREATE TABLE t (id INT NOT NULL, a INT, b VARCHAR(5), c DECIMAL(5,2), d DATE)"
	const fill = "INSERT INTO t VALUES (1, 10, 'x', 1.50, '2024-01-31'), (2, 20, 'y', 2.25, NULL), (3, NULL, NULL, NULL, '2000-02-29')"
	s := []script{
		{"insert column list and defaults", []string{
			"CREATE TABLE t (id INT NOT NULL, a INT DEFAULT 7, b VARCHAR(5) DEFAULT 'dflt', c DECIMAL(5,2))",
			"INSERT INTO t (id) VALUES (1)", "INSERT INTO t (c, id) VALUES (1.5, 2)", "INSERT INTO t (id, a) VALUES (3, NULL)",
			"INSERT INTO t VALUES (4, DEFAULT, DEFAULT, DEFAULT)", "INSERT INTO t (id, a) VALUES (5, DEFAULT)",
			"INSERT INTO t (id, id) VALUES (6, 6)", "INSERT INTO t (id, nope) VALUES (7, 7)", "INSERT INTO t (id, a) VALUES (8)",
			"INSERT INTO t VALUES (9, 1)", "INSERT INTO t () VALUES ()",
		}, []string{"t"}},
		{"column defaults", []string{
			"CREATE TABLE t (id INT NOT NULL DEFAULT 0, a DECIMAL(5,2) DEFAULT 1.555, b VARCHAR(5) NOT NULL DEFAULT 'ab', c INT DEFAULT NULL, d DATE DEFAULT '2024-02-29', e DOUBLE DEFAULT -1.5e0, f INT DEFAULT 3)",
			"INSERT INTO t (c) VALUES (1)", "INSERT INTO t VALUES (DEFAULT, DEFAULT, DEFAULT, DEFAULT, DEFAULT, DEFAULT, DEFAULT)",
			"INSERT INTO t (id, b) VALUES (2, DEFAULT), (3, 'x')", "INSERT INTO t (id) SELECT 10 + c FROM t WHERE c IS NOT NULL",
			"INSERT INTO t (id, b) VALUES (4, NULL)", "UPDATE t SET b = DEFAULT WHERE id = 3",
			"CREATE TABLE bad1 (x INT NOT NULL DEFAULT NULL)", "CREATE TABLE bad2 (x INT NOT NULL DEFAULT 1.5e300)",
			"CREATE TABLE bad3 (x INT DEFAULT 'abc')", "CREATE TABLE bad4 (x VARCHAR(2) DEFAULT 'abc')",
			"SELECT column_name, column_default, is_nullable FROM information_schema.columns WHERE table_schema = 'dml' AND table_name = 't' ORDER BY ordinal_position",
		}, []string{"t"}},
		{"strict mode errors", []string{base,
			"INSERT INTO t VALUES (NULL, 1, 'a', 1, NULL)", "INSERT INTO t (a) VALUES (1)",
			"INSERT INTO t VALUES (1, 2147483648, 'a', 1, NULL)", "INSERT INTO t VALUES (2, -2147483649, 'a', 1, NULL)",
			"INSERT INTO t VALUES (3, 1, 'toolong', 1, NULL)", "INSERT INTO t VALUES (4, 1, 'a', 1000.00, NULL)",
			"INSERT INTO t VALUES (5, 1, 'a', 1.555, NULL)", "INSERT INTO t VALUES (6, 'abc', 'a', 1, NULL)",
			"INSERT INTO t VALUES (7, '12', 'a', '1.5', '2024-02-30')", "INSERT INTO t VALUES (8, '12', 'a', '1.5', '2024-02-29')",
			"INSERT INTO t VALUES (9, 1.5, 'a', 1, NULL)", "INSERT INTO t VALUES (10, 2.5, 'a', -999.99, 20240105)",
			"INSERT INTO t VALUES (11, 1, 12345, 1, NULL)", "INSERT INTO t VALUES (12, 1, 123456, 1, NULL)",
			"INSERT INTO t VALUES (13, 1, 'ok', 1, NULL), (14, 1, 'toolong', 1, NULL)",
			"INSERT INTO t VALUES (15, 1, 'abcd ', 1, NULL)", "INSERT INTO t VALUES (16, 1, 'abcde ', 1, NULL)",
			"INSERT INTO t VALUES (17, 1, '日本語日本', 1, NULL)", "INSERT INTO t VALUES (18, 1, '日本語日本語', 1, NULL)",
			"INSERT INTO t VALUES (19, 1, 'a', 1, 'junk')", "INSERT INTO t VALUES (20, 1, 'a', 'junk', NULL)",
		}, []string{"t"}},
		{"integer ranges", []string{
			"CREATE TABLE r (ti TINYINT, si SMALLINT, ui INT UNSIGNED, bi BIGINT, ub BIGINT UNSIGNED)",
			"INSERT INTO r VALUES (127, 32767, 4294967295, 9223372036854775807, 18446744073709551615)",
			"INSERT INTO r VALUES (128, 0, 0, 0, 0)", "INSERT INTO r VALUES (0, -32769, 0, 0, 0)", "INSERT INTO r VALUES (0, 0, -1, 0, 0)",
			"INSERT INTO r VALUES (0, 0, 0, 9223372036854775808, 0)", "INSERT INTO r VALUES (0, 0, 0, 0, -1)",
			"INSERT INTO r VALUES (-128, -32768, 0, -9223372036854775808, 0)", "INSERT INTO r VALUES (126.5, 0, 0, 0, 0)",
			"UPDATE r SET ti = ti + 1 WHERE ti = 127", "UPDATE r SET ui = ui - 1 WHERE ui = 0", "UPDATE r SET ti = ti - 1",
		}, []string{"r"}},
		{"insert select and multi-row", []string{base, fill,
			"CREATE TABLE u (id INT, a BIGINT, b VARCHAR(10))",
			"INSERT INTO u SELECT id, a * 2, CONCAT(b, '!') FROM t", "INSERT INTO u (id) SELECT id + 10 FROM t WHERE a IS NOT NULL",
			"INSERT INTO u SELECT * FROM u", "INSERT INTO u (b, id) SELECT 'z', COUNT(*) FROM t",
			"INSERT INTO u SELECT id, a FROM t", "INSERT INTO t (id, b) SELECT id, b FROM u WHERE id > 100",
			"INSERT INTO t (id, b) SELECT id + 100, b FROM u",
		}, []string{"t", "u"}},
		{"update set order", []string{base, fill,
			"UPDATE t SET a = a + 1, c = a", "UPDATE t SET b = 'q', a = LENGTH(b)", "UPDATE t SET a = id * 100 WHERE a IS NULL",
			"UPDATE t SET d = d + INTERVAL 1 MONTH", "UPDATE t SET c = c * 1000", "UPDATE t SET id = NULL WHERE id = 1",
			"UPDATE t SET b = 'toolong' WHERE id = 2", "UPDATE t SET nope = 1", "UPDATE t SET a = 5 WHERE 0",
			"UPDATE t SET a = a * 2 ORDER BY id DESC LIMIT 1", "UPDATE t SET c = c + 0.004",
		}, []string{"t"}},
		{"same-table subqueries (1093)", []string{base, fill,
			"UPDATE t SET a = 0 WHERE id IN (SELECT id FROM t WHERE a > 10)",
			"DELETE FROM t WHERE a = (SELECT MAX(a) FROM t)",
			"UPDATE t SET a = (SELECT COUNT(*) FROM t)",
			"DELETE FROM t WHERE id IN (SELECT id FROM (SELECT id FROM t WHERE a > 10) x)",
			"CREATE TABLE u (id INT)", "INSERT INTO u VALUES (1), (3)",
			"UPDATE t SET a = -1 WHERE id IN (SELECT id FROM u)", "DELETE FROM t WHERE EXISTS (SELECT 1 FROM u WHERE u.id = t.id + 1)",
			"UPDATE t SET b = (SELECT MAX(id) FROM u) WHERE id = 2",
			"INSERT INTO t (id) SELECT id + 50 FROM t",
		}, []string{"t", "u"}},
		{"delete order by limit", []string{base, fill, "INSERT INTO t (id, a) VALUES (4, 5), (5, 40), (6, 5)",
			"DELETE FROM t ORDER BY a DESC LIMIT 1", "DELETE FROM t WHERE a = 5 ORDER BY id LIMIT 1", "DELETE FROM t LIMIT 0",
			"DELETE FROM t WHERE b IS NULL ORDER BY id DESC LIMIT 1", "DELETE FROM t WHERE nope = 1", "DELETE FROM t WHERE id > 100",
		}, []string{"t"}},
		{"truncate and drop", []string{base, fill, "TRUNCATE TABLE t", "INSERT INTO t (id) VALUES (9)", "TRUNCATE t",
			"DROP TABLE IF EXISTS nope", "DROP TABLE nope", "DROP TABLE IF EXISTS t, nope", "CREATE TABLE t (x INT)", "INSERT INTO t VALUES (1)",
			"TRUNCATE TABLE nope", "CREATE VIEW v AS SELECT 1 AS x", "TRUNCATE TABLE v", "CREATE TABLE t (y INT)", "CREATE TABLE IF NOT EXISTS t (y INT)",
		}, []string{"t"}},
		{"create table as select types", []string{base, fill,
			"CREATE TABLE c1 AS SELECT id, a + 1 AS a1, c * 2 AS c2, SUM(a) AS s, AVG(c) AS av, COUNT(*) AS n, CONCAT(b, 'x') AS bx, d FROM t GROUP BY id, a, c, b, d",
			"CREATE TABLE c2 AS SELECT 1 AS one, 1.5 AS dec1, 1e0 AS f, 'abc' AS s, DATE '2024-01-01' AS dd, NULL AS n",
			"CREATE TABLE c3 AS SELECT a / 3 AS q, a DIV 3 AS qi, ROUND(c, 1) AS r, IFNULL(a, 'z') AS ifn FROM t",
			"CREATE TABLE c1 AS SELECT 1", "CREATE TABLE c4 AS SELECT 1 AS x, 2 AS x",
			"CREATE TABLE c5 AS SELECT SUM(a) AS si, SUM(c) AS sd, AVG(a) AS ai, AVG(c) AS ad, COUNT(*) AS n, MAX(b) AS mb, MIN(d) AS md, GROUP_CONCAT(b) AS gc, STDDEV(a) AS sa, BIT_OR(a) AS bo FROM t",
			"CREATE TABLE c6 AS SELECT CEIL(c) AS ce, FLOOR(1.5) AS fl, ROUND(c) AS r0, ROUND(c, 1) AS r1, TRUNCATE(a, -1) AS ta, ABS(c) AS ab, a % 3 AS m3, c % 1 AS mc, a DIV 2 AS dv, -a AS na, a * c AS ac, a + 1.5 AS ap, IF(a > 1, a, c) AS ia, COALESCE(a, c) AS ca, CASE WHEN a > 1 THEN 'x' ELSE 'yy' END AS cs, LENGTH(b) AS lb, CONCAT(a, b) AS cab, GREATEST(a, c) AS gac FROM t",
			"CREATE TABLE c7 AS SELECT DATE_ADD(d, INTERVAL 1 DAY) AS dd, DATE_ADD(d, INTERVAL 1 HOUR) AS dh, DATEDIFF(d, d) AS ddf, YEAR(d) AS y, DATE_FORMAT(d, '%Y') AS df, LAST_DAY(d) AS ld, CAST(a AS CHAR) AS ch, CAST(c AS SIGNED) AS cs, CAST(c AS DECIMAL(6,1)) AS cd FROM t WHERE id = 1",
			"SELECT table_name, column_name, data_type, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = 'dml' AND table_name IN ('c1', 'c2', 'c3', 'c5', 'c6', 'c7') ORDER BY table_name, ordinal_position",
		}, []string{"c1", "c2", "c3", "c5", "c6", "c7"}},
		{"alter table", []string{base, fill,
			"ALTER TABLE t ADD COLUMN e INT DEFAULT 5", "ALTER TABLE t ADD COLUMN f VARCHAR(3)", "ALTER TABLE t DROP COLUMN b",
			"ALTER TABLE t ADD COLUMN a INT", "ALTER TABLE t DROP COLUMN nope", "ALTER TABLE t RENAME COLUMN a TO a2",
			"INSERT INTO t (id, a2) VALUES (4, 44)", "ALTER TABLE t RENAME TO t2", "INSERT INTO t2 (id) VALUES (5)",
		}, []string{"t2"}},
		{"views over views", []string{base, fill,
			"CREATE VIEW v1 AS SELECT id, a * 2 AS a2 FROM t WHERE a IS NOT NULL", "CREATE VIEW v2 AS SELECT id, a2 + 1 AS a3 FROM v1",
			"CREATE VIEW v1 AS SELECT 1", "CREATE OR REPLACE VIEW v1 AS SELECT id, a AS a2 FROM t", "INSERT INTO t (id, a) VALUES (7, 70)",
			"CREATE VIEW v3 (x, y) AS SELECT id, a FROM t", "CREATE VIEW v4 AS SELECT nope FROM t", "DROP VIEW IF EXISTS nope", "DROP VIEW nope",
		}, []string{"v1", "v2", "v3"}},
		{"keys and self-reference", []string{
			"CREATE TABLE k (id INT PRIMARY KEY, u VARCHAR(3) UNIQUE, v INT)",
			"INSERT INTO k VALUES (1, 'a', 10), (2, 'b', 20)", "INSERT INTO k VALUES (1, 'c', 30)", "INSERT INTO k VALUES (3, 'a', 30)",
			"INSERT INTO k VALUES (4, 'd', 1), (4, 'e', 2)", "INSERT INTO k (u) VALUES ('f')", "UPDATE k SET id = 2 WHERE id = 1",
			"INSERT INTO k SELECT id + 10, CONCAT(u, 'x'), v FROM k", "UPDATE k SET v = u, u = v WHERE id = 1",
			"UPDATE k SET v = v + 1 ORDER BY id DESC LIMIT 2", "DELETE FROM k WHERE v > (SELECT 15)",
		}, []string{"k"}},
		{"views and drops", []string{base, fill,
			"CREATE VIEW v AS SELECT id, a FROM t ORDER BY id DESC", "INSERT INTO v VALUES (9, 9)", "UPDATE v SET a = 0", "DELETE FROM v",
			"DROP TABLE v", "DROP VIEW t", "SELECT * FROM v", "DROP TABLE t", "SELECT * FROM v", "DROP VIEW v", "DROP VIEW IF EXISTS v",
			"CREATE TABLE t2 (x INT)", "CREATE VIEW t2 AS SELECT 1", "CREATE TABLE t3 (x INT, X INT)", "CREATE TABLE t4 (x INT, y NOSUCHTYPE)",
			"CREATE TABLE t5 (x VARCHAR(0), y CHAR(0), z DECIMAL(10,10), w DECIMAL(5,6))", "CREATE TABLE t6 (x FLOAT(10,2), y BIT(3), z YEAR, e ENUM('a'))",
		}, []string{"t2"}},
	}
	return s
}

// shapeQueries compare the metadata statements' output shape and contents
// for the tables the DDL scripts leave behind.
func shapeQueries() []string {
	return []string{
		"SHOW COLUMNS FROM t LIKE 'b'", "DESCRIBE t c", "SHOW CREATE TABLE t", "SHOW TABLES",
		"SELECT table_name, table_type FROM information_schema.tables WHERE table_schema = 'dml' ORDER BY table_name",
		"SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default, character_maximum_length, numeric_precision, numeric_scale FROM information_schema.columns WHERE table_schema = 'dml' ORDER BY table_name, ordinal_position",
	}
}

// runDML runs every script on both engines and reports the differences.
func runDML(ctx context.Context, q *quiver, m *mariaDB, verbose bool) (fails int, err error) {
	scripts := dmlScripts()
	scripts = append(scripts, script{name: "metadata", stmts: append([]string{
		"CREATE TABLE t (id INT NOT NULL, a INT DEFAULT 7, b VARCHAR(5), c DECIMAL(5,2) DEFAULT 1.50, d DATE, e DOUBLE, f BIGINT UNSIGNED, g TEXT, h DATETIME)",
		"CREATE VIEW v AS SELECT id FROM t",
	}, shapeQueries()...)})
	for _, sc := range scripts {
		for _, s := range []string{"DROP DATABASE IF EXISTS dml", "CREATE DATABASE dml DEFAULT CHARSET utf8mb4 COLLATE utf8mb4_nopad_bin", "USE dml"} {
			if err := m.exec(ctx, s); err != nil {
				return fails, fmt.Errorf("MariaDB: %s: %v", s, err)
			}
			// Quiver: a schema is a directory; USE is per session.
			qs, _, _ := strings.Cut(strings.Replace(s, "DATABASE", "SCHEMA", 1), " DEFAULT")
			if e := q.exec(ctx, qs); e != nil && !strings.HasPrefix(s, "DROP") {
				return fails, fmt.Errorf("Quiver: %s: %v", s, e)
			}
		}
		for _, st := range sc.stmts {
			if verbose {
				fmt.Printf("-- [%s] %s\n", sc.name, st)
			}
			qctx, cancel := context.WithTimeout(ctx, 60*time.Second)
			var qr, mr result
			if isQuery(st) {
				qr, mr = q.query(qctx, st), m.query(qctx, st)
			} else {
				qr.err, mr.err = q.exec(qctx, st), m.exec(qctx, st)
			}
			cancel()
			diff := compare(qr, mr, true)
			if diff == "" && (qr.err != nil) != (mr.err != nil) {
				diff = "error on one side"
			}
			if diff != "" {
				fails++
				fmt.Printf("=== DIFFERENCE [%s]\n%s\n--- %s\n--- Quiver:\n%s--- MariaDB:\n%s\n", sc.name, st, diff, render(qr), render(mr))
			} else if verbose && (qr.err != nil) {
				fmt.Printf("   both failed: Quiver %v | MariaDB %v\n", qr.err, mr.err)
			}
		}
		for _, tbl := range sc.check {
			st := "SELECT * FROM " + tbl
			qr, mr := q.query(ctx, st), m.query(ctx, st)
			if diff := compare(qr, mr, false); diff != "" {
				fails++
				fmt.Printf("=== DIFFERENCE [%s] final contents of %s\n--- %s\n--- Quiver:\n%s--- MariaDB:\n%s\n", sc.name, tbl, diff, render(qr), render(mr))
			}
		}
	}
	for _, s := range []string{"USE test"} {
		m.exec(ctx, s)
		q.exec(ctx, s)
	}
	return fails, nil
}

func isQuery(s string) bool {
	u := strings.ToUpper(strings.TrimSpace(s))
	for _, p := range []string{"SELECT", "SHOW", "DESCRIBE", "WITH"} {
		if strings.HasPrefix(u, p) {
			return true
		}
	}
	return false
}
