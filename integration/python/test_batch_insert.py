"""cursor.executemany sends all parameter rows in one DoPut: the server runs a
prepared INSERT … VALUES over them as one INSERT (one commit, one part file)."""

import time

import pyarrow as pa
import pytest


def part_files(server, table):
    return sorted((server.data / "test" / table).glob("*.parquet"))


def test_executemany_is_one_insert(server, conn):
    n = 5000
    rows = [(i, f"r{i}", None if i % 7 == 0 else i * 0.5) for i in range(1, n + 1)]
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE test.py_many (id INT NOT NULL, name VARCHAR(8), f DOUBLE, k INT DEFAULT 3)")
        start = time.perf_counter()
        cur.executemany("INSERT INTO test.py_many (id, name, f) VALUES (?, ?, ?)", rows)
        print(f"executemany of {n} rows: {time.perf_counter() - start:.3f} s")
        assert cur.rowcount == n
        cur.execute("SELECT COUNT(*), SUM(id), COUNT(f), MAX(name), MIN(k), MAX(k) FROM test.py_many")
        assert cur.fetchall() == [(n, n * (n + 1) // 2, n - n // 7, "r999", 3, 3)]
        cur.execute("SELECT id, name, f FROM test.py_many WHERE id IN (7, 8) ORDER BY id")
        assert cur.fetchall() == [(7, "r7", None), (8, "r8", 4.0)]
    assert len(part_files(server, "py_many")) == 1


def test_executemany_bad_row_writes_nothing(server, conn):
    import adbc_driver_manager

    rows = [(i, "toolong" if i == 123 else "ok") for i in range(1, 301)]
    with conn.cursor() as cur:
        cur.execute("CREATE TABLE test.py_many_bad (id INT NOT NULL, name VARCHAR(3))")
        with pytest.raises(adbc_driver_manager.Error, match="Data too long for column 'name' at row 123"):
            cur.executemany("INSERT INTO test.py_many_bad VALUES (?, ?)", rows)
        cur.execute("SELECT COUNT(*) FROM test.py_many_bad")
        assert cur.fetchall() == [(0,)]
    assert part_files(server, "py_many_bad") == []


def test_ingest_still_appends_whole_batches(server, conn):
    data = pa.table({"id": pa.array(range(1000), pa.int64()), "s": pa.array([f"v{i}" for i in range(1000)])})
    with conn.cursor() as cur:
        assert cur.adbc_ingest("py_many_ingest", data, mode="create", db_schema_name="test") == 1000
        assert cur.adbc_ingest("py_many_ingest", data, mode="append", db_schema_name="test") == 1000
        cur.execute("SELECT COUNT(*), SUM(id) FROM test.py_many_ingest")
        assert cur.fetchall() == [(2000, 2 * 999 * 1000 // 2)]
