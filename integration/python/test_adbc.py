"""Python ADBC (adbc-driver-flightsql) + pyarrow against a real `quiver serve`."""

import datetime as dt
import os
import threading
import time
from decimal import Decimal

import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pyarrow as pa
import pytest


def test_connect_and_query(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT n_nationkey, n_name FROM nation ORDER BY n_nationkey LIMIT 3")
        t = cur.fetch_arrow_table()
    assert t.column_names == ["n_nationkey", "n_name"]
    assert t.schema.field("n_nationkey").type == pa.int64()
    assert t.column("n_name").to_pylist() == ["ALGERIA", "ARGENTINA", "BRAZIL"]


def test_dbapi_fetch(conn):
    with conn.cursor() as cur:
        cur.execute("SELECT r_regionkey, r_name FROM region ORDER BY 1")
        assert [d[0] for d in cur.description] == ["r_regionkey", "r_name"]
        assert cur.fetchone() == (0, "AFRICA")
        assert cur.fetchmany(2) == [(1, "AMERICA"), (2, "ASIA")]
        assert cur.fetchall() == [(3, "EUROPE"), (4, "MIDDLE EAST")]


@pytest.mark.parametrize("sql,params,want", [
    ("SELECT n_name FROM nation WHERE n_nationkey = ?", (7,), [("GERMANY",)]),
    ("SELECT n_name FROM nation WHERE n_name LIKE ? ORDER BY 1", ("UNITED%",),
     [("UNITED KINGDOM",), ("UNITED STATES",)]),
    ("SELECT COUNT(*) FROM lineitem WHERE l_discount > ? AND l_shipdate < ?",
     (0.09, dt.date(1993, 1, 1)), [(714,)]),
    ("SELECT COUNT(*) FROM orders WHERE o_totalprice BETWEEN ? AND ?",
     (Decimal("1000.00"), Decimal("2000.50")), [(34,)]),
    ("SELECT ? + 1, CONCAT(?, 'x'), ? IS NULL", (41, "a", None), [(42, "ax", True)]),
    ("SELECT id FROM clients.alltypes WHERE ts = ?", (dt.datetime(2024, 2, 29, 12, 34, 56, 789012),), [(1,)]),
    ("SELECT id FROM clients.alltypes WHERE bin = ?", (b"\x00\xff",), [(1,)]),
    ("SELECT id FROM clients.alltypes WHERE b = ? ORDER BY id", (True,), [(1,), (3,)]),
])
def test_parameters(conn, sql, params, want):
    with conn.cursor() as cur:
        cur.execute(sql, parameters=params)
        assert [tuple(r) for r in cur.fetchall()] == want


def test_parameters_executed_twice_on_one_prepared_statement(conn):
    with conn.cursor() as cur:
        sql = "SELECT r_name FROM region WHERE r_regionkey = ?"
        cur.execute(sql, parameters=(1,))
        assert cur.fetchall() == [("AMERICA",)]
        cur.execute(sql, parameters=(3,))
        assert cur.fetchall() == [("EUROPE",)]


def test_bare_parameter(conn):
    """A parameter with no type from context takes the bound value's type."""
    with conn.cursor() as cur:
        cur.execute("SELECT ? AS p", parameters=(5,))
        assert cur.fetchall() == [(5,)]
        cur.execute("SELECT ? AS p, ? AS q", parameters=("five", 2.5))
        t = cur.fetch_arrow_table()
        assert t.to_pylist() == [{"p": "five", "q": 2.5}]
        assert str(t.schema.field("p").type) == "string"
        assert str(t.schema.field("q").type) == "double"
        cur.execute("SELECT ? AS p", parameters=(None,))
        assert cur.fetchall() == [(None,)]


def test_ddl_dml(conn):
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE test.py_dml (id BIGINT, name VARCHAR(20), amount DECIMAL(10,2))")
        cur.execute("INSERT INTO test.py_dml VALUES (1, 'a', 1.50), (2, 'b', NULL)")
        assert cur.rowcount == 2
        cur.executemany("INSERT INTO test.py_dml VALUES (?, ?, ?)",
                        [(3, "c", Decimal("3.25")), (4, None, Decimal("-1.00"))])
        cur.execute("SELECT id, name, amount FROM test.py_dml ORDER BY id")
        assert cur.fetchall() == [(1, "a", Decimal("1.50")), (2, "b", None),
                                  (3, "c", Decimal("3.25")), (4, None, Decimal("-1.00"))]
        cur.execute("DROP TABLE test.py_dml")


def test_get_info(conn):
    info = conn.adbc_get_info()
    assert info["vendor_name"] == "Quiver"
    assert info["vendor_version"]
    assert info["vendor_arrow_version"].startswith("18.")
    assert info["driver_name"] == "ADBC Flight SQL Driver - Go"


def test_get_objects(conn):
    objs = conn.adbc_get_objects(depth="all", db_schema_filter="tpch", table_name_filter="nat%").read_all()
    catalogs = objs.to_pylist()
    assert [c["catalog_name"] for c in catalogs] == ["def"]
    schemas = catalogs[0]["catalog_db_schemas"]
    assert [s["db_schema_name"] for s in schemas] == ["tpch"]
    tables = schemas[0]["db_schema_tables"]
    assert [(t["table_name"], t["table_type"]) for t in tables] == [("nation", "BASE TABLE")]
    cols = tables[0]["table_columns"]
    assert [(c["column_name"], c["ordinal_position"], c["xdbc_type_name"]) for c in cols] == [
        ("n_nationkey", 1, "BIGINT"), ("n_name", 2, "VARCHAR"), ("n_regionkey", 3, "BIGINT"),
        ("n_comment", 4, "VARCHAR")]
    # every schema at depth db_schemas
    objs = conn.adbc_get_objects(depth="db_schemas").read_all().to_pylist()
    names = {s["db_schema_name"] for s in objs[0]["catalog_db_schemas"]}
    assert {"tpch", "test", "clients", "information_schema"} <= names


def test_get_objects_column_types(conn):
    objs = conn.adbc_get_objects(depth="columns", db_schema_filter="clients",
                                 table_name_filter="alltypes").read_all().to_pylist()
    cols = objs[0]["catalog_db_schemas"][0]["db_schema_tables"][0]["table_columns"]
    got = {c["column_name"]: c["xdbc_type_name"] for c in cols}
    assert got == {"id": "INT", "i8": "TINYINT", "i16": "SMALLINT", "i32": "INT", "i64": "BIGINT",
                   "u32": "INT UNSIGNED", "f32": "FLOAT", "f64": "DOUBLE", "dec": "DECIMAL",
                   "big": "DECIMAL", "s": "VARCHAR", "b": "BIGINT", "bin": "VARBINARY",
                   "d": "DATE", "ts": "DATETIME"}


def test_get_table_schema(conn):
    s = conn.adbc_get_table_schema("alltypes", db_schema_filter="clients")
    assert s.names == ["id", "i8", "i16", "i32", "i64", "u32", "f32", "f64", "dec", "big", "s", "b",
                       "bin", "d", "ts"]
    assert s.field("dec").type == pa.decimal128(12, 3)
    assert s.field("ts").type == pa.timestamp("us")
    # A BOOLEAN column is described as what SELECT returns for it (1/0).
    cur = conn.cursor()
    cur.execute("SELECT b FROM clients.alltypes")
    assert s.field("b").type == cur.fetch_arrow_table().schema.field("b").type == pa.int64()
    cur.close()
    md = s.field("dec").metadata
    assert md[b"ARROW:FLIGHT:SQL:TYPE_NAME"] == b"DECIMAL"
    assert md[b"ARROW:FLIGHT:SQL:PRECISION"] == b"12"
    assert md[b"ARROW:FLIGHT:SQL:SCALE"] == b"3"
    with pytest.raises(adbc_driver_manager.DatabaseError):
        conn.adbc_get_table_schema("no_such_table", db_schema_filter="clients")


def test_get_table_types(conn):
    assert conn.adbc_get_table_types() == ["BASE TABLE", "SYSTEM VIEW", "VIEW"]


def test_errors(conn):
    with conn.cursor() as cur:
        with pytest.raises(adbc_driver_manager.ProgrammingError, match="syntax"):
            cur.execute("SELEC 1")
        with pytest.raises(adbc_driver_manager.ProgrammingError, match="doesn't exist"):
            cur.execute("SELECT * FROM no_such_table")
        with pytest.raises(adbc_driver_manager.ProgrammingError):
            cur.execute("SELECT n_name FROM nation WHERE n_nationkey = ?", parameters=(1, 2))
        # The connection is still good after errors.
        cur.execute("SELECT COUNT(*) FROM region")
        assert cur.fetchone() == (5,)


def test_bad_address():
    with pytest.raises(adbc_driver_manager.Error):
        c = flight_sql.connect("grpc://127.0.0.1:1", autocommit=True)
        try:
            with c.cursor() as cur:
                cur.execute("SELECT 1")
        finally:
            c.close()


def cpu_seconds(pid: int) -> float:
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


LONG_QUERY = ("SELECT COUNT(*) FROM lineitem a JOIN lineitem b ON a.l_quantity + b.l_quantity > 0 "
              "WHERE a.l_orderkey + b.l_orderkey < 0")


def start_long_query(conn):
    cur = conn.cursor()
    err = []

    def run():
        try:
            cur.execute(LONG_QUERY)
            cur.fetchall()
        except Exception as e:  # noqa: BLE001 - the test inspects it
            err.append(e)

    t = threading.Thread(target=run)
    t.start()
    time.sleep(1.5)
    assert t.is_alive(), "the long query finished before it could be cancelled"
    return cur, t, err


def test_cancel(private_server):
    """adbc_cancel makes the running call fail promptly with a cancellation
    error; the connection stays usable."""
    conn = flight_sql.connect(private_server.uri, autocommit=True)
    try:
        cur, t, err = start_long_query(conn)
        start = time.time()
        cur.adbc_cancel()
        t.join(10)
        assert not t.is_alive(), "query still running 10 s after cancel"
        assert time.time() - start < 3, "cancel took more than 3 s"
        assert err, "cancelled query returned a result"
        assert isinstance(err[0], adbc_driver_manager.OperationalError), repr(err[0])
        assert "cancel" in str(err[0]).lower(), str(err[0])
        cur.close()
        with conn.cursor() as cur2:
            cur2.execute("SELECT COUNT(*) FROM nation")
            assert cur2.fetchone() == (25,)
    finally:
        conn.close()


def test_cancel_stops_server_work(private_server):
    """After a cancel the server stops working on the query within about a second."""
    conn = flight_sql.connect(private_server.uri, autocommit=True)
    try:
        cur, t, err = start_long_query(conn)
        cur.adbc_cancel()
        t.join(10)
        time.sleep(1.0)
        c1 = cpu_seconds(private_server.proc.pid)
        time.sleep(1.0)
        c2 = cpu_seconds(private_server.proc.pid)
        assert c2 - c1 < 0.3, f"server still busy 1 s after cancel ({c2 - c1:.2f} CPU s in 1 s)"
    finally:
        conn.close()


def test_ingest_create_append_replace(conn):
    data = pa.table({
        "id": pa.array([1, 2, 3], pa.int64()),
        "name": pa.array(["a", None, "c"], pa.string()),
        "amount": pa.array([Decimal("1.25"), Decimal("-2.50"), None], pa.decimal128(10, 2)),
        "day": pa.array([dt.date(2024, 1, 1), None, dt.date(2024, 12, 31)], pa.date32()),
        "ok": pa.array([True, False, None], pa.bool_()),
    })
    with conn.cursor() as cur:
        assert cur.adbc_ingest("py_ingest", data, mode="create", db_schema_name="test") == 3
        cur.execute("SELECT id, name, amount, day, ok FROM test.py_ingest ORDER BY id")
        assert cur.fetch_arrow_table().to_pylist() == data.to_pylist()
        with pytest.raises(adbc_driver_manager.Error):
            cur.adbc_ingest("py_ingest", data, mode="create", db_schema_name="test")
        assert cur.adbc_ingest("py_ingest", data.slice(0, 2), mode="append", db_schema_name="test") == 2
        cur.execute("SELECT COUNT(*) FROM test.py_ingest")
        assert cur.fetchone() == (5,)
        assert cur.adbc_ingest("py_ingest", data.slice(2), mode="replace", db_schema_name="test") == 1
        cur.execute("SELECT id FROM test.py_ingest")
        assert cur.fetchall() == [(3,)]
        assert cur.adbc_ingest("py_ingest2", data, mode="create_append", db_schema_name="test") == 3
        assert cur.adbc_ingest("py_ingest2", data, mode="create_append", db_schema_name="test") == 3
        cur.execute("SELECT COUNT(*) FROM test.py_ingest2")
        assert cur.fetchone() == (6,)


def test_pandas_style_batches(conn):
    """fetch_record_batch streams; many batches arrive for a big result."""
    with conn.cursor() as cur:
        cur.execute("SELECT l_orderkey, l_comment FROM lineitem")
        rdr = cur.fetch_record_batch()
        rows = sum(b.num_rows for b in rdr)
    assert rows == 60175
