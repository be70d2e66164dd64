-- Shared queries that every client suite (Go, Python ADBC, Java JDBC) runs against
-- `quiver serve` over testdata/tpch-sf0.01 (schema tpch, the default) plus
-- clients/alltypes.parquet as table clients.alltypes. Each suite renders the
-- results in the canonical text form described in README.md and compares them
-- with expected.txt. A query starts at a line `-- name: <name>` and runs to the next.

-- name: all_types
SELECT * FROM clients.alltypes ORDER BY id

-- name: literals
SELECT 1 AS one, -7 / 2 AS q, 7 DIV 2 AS d, 2.50 * 3 AS dm, CAST(0.5 AS DOUBLE) AS f,
       DATE '2024-02-29' AS dt, TIMESTAMP '2024-02-29 01:02:03.5' AS ts, X'00ABff' AS hx,
       'it''s' AS s, '' AS e, NULL AS n, 1 < 2 AS yes, 1 > 2 AS no

-- name: expressions
SELECT id, i64 DIV 3 AS i64_div, i32 + i16 AS isum, u32 + 1 AS u_plus, f64 * 2 AS f64x2,
       `dec` * 2 AS dec2, big - `dec` AS decdiff, CONCAT(s, '|') AS s2, UPPER(s) AS up,
       CHAR_LENGTH(s) AS chars, LENGTH(bin) AS binlen, NOT b AS nb,
       DATEDIFF(d, DATE '1970-01-01') AS days, YEAR(ts) AS y, COALESCE(s, 'none') AS s_or
FROM clients.alltypes ORDER BY id

-- name: filter_nulls
SELECT id, i8, s FROM clients.alltypes WHERE i8 IS NULL OR i8 > 0 ORDER BY id DESC

-- name: empty
SELECT id, s, d FROM clients.alltypes WHERE id < 0

-- name: tpch_pricing
SELECT l_returnflag, l_linestatus, SUM(l_quantity) AS sum_qty,
       SUM(l_extendedprice * (1 - l_discount)) AS sum_disc_price, AVG(l_discount) AS avg_disc,
       COUNT(*) AS count_order
FROM lineitem WHERE l_shipdate <= DATE '1998-09-02'
GROUP BY l_returnflag, l_linestatus ORDER BY l_returnflag, l_linestatus

-- name: tpch_join
SELECT r_name, COUNT(*) AS nations, MIN(n_name) AS first_nation
FROM nation JOIN region ON n_regionkey = r_regionkey
GROUP BY r_name ORDER BY r_name

-- name: tpch_rows
SELECT o_orderkey, o_custkey, o_orderstatus, o_totalprice, o_orderdate, o_orderpriority
FROM orders WHERE o_orderkey % 40 = 1 ORDER BY o_orderkey
