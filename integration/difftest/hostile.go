package main

import (
	"fmt"
	"strings"
)

// hostileQueries are edge inputs a test suite throws at a SQL engine. Each
// must give a result or a clear error on Quiver, never a crash.
func hostileQueries() []query {
	var qs []string
	ins := make([]string, 5000)
	for i := range ins {
		ins[i] = fmt.Sprint(i)
	}
	qs = append(qs,
		"SELECT COUNT(*) FROM t1 x WHERE x.a IN ("+strings.Join(ins, ", ")+")",
		"SELECT "+strings.Repeat("(", 500)+"1"+strings.Repeat(")", 500),
		"SELECT COUNT(*) FROM t1 x WHERE "+strings.Repeat("x.a = 1 OR ", 1000)+"x.a = 2",
		"SELECT "+strings.Repeat("1 + ", 2000)+"1",
		"SELECT "+strings.Repeat("-", 300)+"1",
		"SELECT "+strings.Repeat("NOT ", 300)+"1",
		"SELECT "+strings.Repeat("ABS(", 300)+"1"+strings.Repeat(")", 300),
		"SELECT x.id FROM t1 x ORDER BY 1 LIMIT 18446744073709551615",
		"SELECT x.id FROM t1 x ORDER BY 1 LIMIT 9223372036854775807 OFFSET 9223372036854775807",
		"SELECT x.id FROM t1 x ORDER BY 1 LIMIT 3 OFFSET 18446744073709551614",
		"SELECT x.id FROM t1 x LIMIT 0",
		"SELECT COUNT(*) FROM (SELECT x.id FROM t1 x LIMIT 0) y",
		"SELECT 9223372036854775807 + 1",
		"SELECT -9223372036854775807 - 2",
		"SELECT 9223372036854775807 * 2",
		"SELECT -(-9223372036854775808)",
		"SELECT ABS(-9223372036854775808)",
		"SELECT 4611686018427387904 * 2",
		"SELECT x.b * 9223372036854775807 FROM t1 x WHERE x.b > 1",
		"SELECT SUM(x.b) + 9223372036854775807 FROM t1 x",
		"SELECT 18446744073709551615 + 1",
		"SELECT CAST(18446744073709551615 AS SIGNED)",
		"SELECT 1/0, 1 DIV 0, 1 % 0, 1.5/0, 1e0/0, MOD(5, 0)",
		"SELECT x.a / 0 FROM t1 x",
		"SELECT CAST('abc' AS SIGNED), CAST('12abc' AS SIGNED), CAST('' AS SIGNED), CAST(' 7 ' AS SIGNED)",
		"SELECT CAST('1e3' AS SIGNED), CAST('-0' AS SIGNED), CAST('99999999999999999999' AS SIGNED)",
		"SELECT CAST('abc' AS DECIMAL(10,2)), CAST('1.999' AS DECIMAL(10,2)), CAST('12345678901' AS DECIMAL(10,2))",
		"SELECT CAST('abc' AS DOUBLE), CAST('1.5x' AS DOUBLE), CAST('' AS DOUBLE)",
		"SELECT CAST('2024-02-30' AS DATE), CAST('not a date' AS DATE), CAST('2024-1-5' AS DATE)",
		"SELECT CAST('2024-01-01 25:00:00' AS DATETIME)",
		"SELECT '10' + 5, 'abc' + 1, '1.5' * 2, '' + 0",
		"SELECT COUNT(*), SUM(x.a), AVG(x.d), MIN(x.s), MAX(x.dt), COUNT(DISTINCT x.a), GROUP_CONCAT(x.s) FROM e x",
		"SELECT x.a, COUNT(*) FROM e x GROUP BY x.a",
		"SELECT STDDEV_POP(x.f), VAR_SAMP(x.a), BIT_AND(x.a), BIT_OR(x.a) FROM e x",
		"SELECT (SELECT x.a FROM e x), (SELECT COUNT(*) FROM e x), EXISTS (SELECT 1 FROM e x)",
		"SELECT 1 IN (SELECT x.a FROM e x), 1 NOT IN (SELECT x.a FROM e x), NULL IN (SELECT x.a FROM e x), NULL NOT IN (SELECT x.a FROM e x)",
		"SELECT 1 NOT IN (1, NULL), 2 NOT IN (1, NULL), NULL IN (), 1 IN (NULL)",
		"SELECT SUM(NULL), AVG(NULL), MIN(NULL), COUNT(NULL), MAX(NULL) FROM t1 x",
		"SELECT x.id, NULL AS n FROM t1 x WHERE NULL IS NULL ORDER BY 1",
		"SELECT COUNT(*) FROM t1 x WHERE x.a = NULL",
		"SELECT 'é' = 'e', 'ß' < 't', LENGTH('日本'), CHAR_LENGTH('日本'), UPPER('éß'), LOWER('ÀÉ'), REVERSE('日本語')",
		"SELECT SUBSTRING('日本語', 2, 1), LEFT('héllo', 2), LPAD('日', 3, 'é'), INSTR('日本語', '語'), HEX('é')",
		"SELECT `weird col` FROM (SELECT 1 AS `weird col`) `my table`",
		"SELECT `x y`.`a b` FROM (SELECT 2 AS `a b`) AS `x y`",
		"SELECT 1 AS ```q```",
		"SELECT '"+strings.Repeat("x", 100000)+"' = ''",
		"SELECT REPEAT('ab', 100000) = ''",
		"SELECT LENGTH(REPEAT('ab', 1000000))",
		"SELECT 1e308 * 10, -1e308 * 10, 1e-400",
		"SELECT 0.1 + 0.2 = 0.3, 0.1e0 + 0.2e0 = 0.3e0",
		"SELECT 99999999999999999999999999999999999999999999999999999999999999999 + 1",
		"SELECT CAST(1 AS DECIMAL(65,30)) / 3",
		"SELECT 1/3*3, 10/4, 7 DIV 2, -7 DIV 2, -7 % 3, 7 % -3, -7.5 % 2",
		"SELECT ROUND(2.5), ROUND(-2.5), ROUND(2.5e0), ROUND(-2.5e0), ROUND(1234.5678, -2), TRUNCATE(-1.99, 0)",
		"SELECT DATE_ADD(DATE '9999-12-31', INTERVAL 1 DAY), DATE_SUB(DATE '1000-01-01', INTERVAL 1 DAY)",
		"SELECT DATE_ADD(DATE '2024-01-31', INTERVAL 1 MONTH), DATE_ADD(DATE '2024-02-29', INTERVAL 1 YEAR)",
		"SELECT x.id FROM t1 x WHERE x.id BETWEEN 5 AND 2",
		"SELECT x.id FROM t1 x ORDER BY x.id DESC LIMIT 1, 2",
		"SELECT * FROM t1 x, t2 y, t3 z WHERE x.id = y.id AND y.id = z.id ORDER BY 1",
		"SELECT COUNT(*) FROM t1 x, t1 y, t1 z, t1 w",
		"SELECT x.s, COUNT(*) FROM t1 x GROUP BY x.s HAVING COUNT(*) > 1 ORDER BY 1",
		"SELECT (SELECT y.a FROM t2 y)",
		"SELECT x.a FROM t1 x WHERE x.a = (SELECT y.a FROM t2 y)",
		"SELECT NULLIF(NULL, 1), COALESCE(), IFNULL(NULL, NULL)",
		"SELECT GREATEST(1, NULL), LEAST('a', 'b', NULL), GREATEST(1, 2.5, 3e0)",
		"SELECT CASE 1 WHEN NULL THEN 'a' ELSE 'b' END, CASE NULL WHEN NULL THEN 'a' ELSE 'b' END",
		"SELECT SUM(x.b) OVER (ORDER BY x.id ROWS BETWEEN 9223372036854775807 PRECEDING AND CURRENT ROW) FROM t1 x",
		"SELECT x.id, LAG(x.a, 0) OVER (ORDER BY x.id), LEAD(x.a, 100) OVER (ORDER BY x.id), NTILE(3) OVER (ORDER BY x.id) FROM t1 x",
		"SELECT x.id FROM t1 x WHERE x.s LIKE '%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%b'",
		"SELECT 'a' LIKE 'a\\\\', 'a\\\\' LIKE 'a\\\\\\\\', '%' LIKE '\\\\%'",
		"SELECT CONCAT(NULL, 'a'), CONCAT_WS(NULL, 'a'), CONCAT_WS(',', NULL, 'a', NULL)",
		"SELECT CAST(-1 AS UNSIGNED), CAST(1.5 AS SIGNED), CAST(-1.5 AS SIGNED), CAST(2.5e0 AS SIGNED)",
		"SELECT 1 FROM t1 x HAVING 1",
		"SELECT x.id FROM t1 x UNION SELECT y.id FROM t2 y ORDER BY 1 LIMIT 100",
		"SELECT DISTINCT x.a, x.a FROM t1 x ORDER BY 1",
		"SELECT x.id, x.id FROM t1 x ORDER BY 1 LIMIT 2",
		"SELECT 1 UNION SELECT 'a' UNION SELECT 2.5",
		"SELECT -0.0, -0e0, 0.0 = -0.0",
		"SELECT CAST(NULL AS SIGNED), CAST(NULL AS DATE), NULL + 1, NULL = NULL, NULL <=> NULL",
		"SELECT 'abc' < 'abd', 'abc' < 'ab', '' < 'a', 'Z' < 'a'",
		"SELECT 10 = '10', 10 = '10abc', '1e1' = 10, 'abc' = 0",
		"SELECT DATE '2024-01-01' = '2024-01-01', DATE '2024-01-01' < '2024-1-2', TIMESTAMP '2024-01-01 00:00:00' = DATE '2024-01-01'",
		"SELECT DATEDIFF('2024-03-01', '2024-02-01'), DAYOFWEEK('2024-02-29'), LAST_DAY('2023-02-10')",
		"SELECT x.id FROM t1 x WHERE x.id IN (SELECT y.id FROM t2 y WHERE y.id IN (SELECT z.id FROM t3 z WHERE z.id IN (SELECT w.id FROM t1 w WHERE w.id = x.id))) ORDER BY 1",
	)
	out := make([]query, len(qs))
	for i, s := range qs {
		out[i] = query{sql: s, ordered: topLevelOrderBy(s)}
	}
	return out
}
