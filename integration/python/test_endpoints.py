"""Per-partition result endpoints (--advertise-endpoints) with the ADBC driver.

Three real `quiver serve` processes form a cluster over TPC-H SF 0.01 with
lineitem rewritten in small row groups (so a scan has several partitions).
A query without ORDER BY then has one endpoint per partition, located at
different nodes; ADBC fetches every endpoint from its location (in
parallel) and must return the same table as the single-stream answer.
"""

import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from conftest import SF001, die_with_tests, free_port, quiver_bin

QUERY = ("SELECT l_orderkey, l_linenumber, l_quantity, l_extendedprice, l_shipdate, "
         "l_shipmode, l_quantity > 25 AS big FROM lineitem")


def _wait_listening(proc, addr, log):
    host, port = addr.split(":")
    deadline = time.time() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"quiver serve exited:\n{Path(log.name).read_text()}")
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return
        except OSError:
            if time.time() > deadline:
                raise RuntimeError("quiver serve did not start listening in 30 s")
            time.sleep(0.05)


@pytest.fixture(scope="module")
def cluster():
    tmp = Path(tempfile.mkdtemp(prefix="quiver-endpoints-"))
    data = tmp / "data"
    shutil.copytree(SF001, data)
    li = data / "tpch" / "lineitem.parquet"
    pq.write_table(pq.read_table(li), li, row_group_size=2000)
    binary = quiver_bin(tmp)
    nodes = []
    try:
        seed = None
        for i in range(3):
            addr = f"127.0.0.1:{free_port()}"
            gossip = f"127.0.0.1:{free_port()}"
            log = open(tmp / f"n{i + 1}.log", "w+")
            args = [binary, "serve", "--listen", addr, "--data", str(data), "--default-schema", "tpch",
                    "--node-name", f"n{i + 1}", "--cluster-listen", f"127.0.0.1:{free_port()}",
                    "--gossip-listen", gossip, "--cluster-secret", "py-endpoints-secret",
                    "--work-dir", str(tmp / f"work{i + 1}"), "--parallelism", "4", "--partition-rows", "1000",
                    "--advertise-endpoints", "--log-level", "warn"]
            if seed:
                args += ["--join", seed]
            seed = seed or gossip
            proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_tests)
            nodes.append((proc, addr, log))
            _wait_listening(proc, addr, log)
        yield [f"grpc://{addr}" for _, addr, _ in nodes]
    finally:
        for proc, _, log in nodes:
            proc.kill()
            proc.wait()
            log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _connect(uri):
    import adbc_driver_flightsql.dbapi as flight_sql

    return flight_sql.connect(uri, autocommit=True)


def _fetch(uri, sql):
    with _connect(uri) as conn, conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetch_arrow_table()


def _by_key(t: pa.Table) -> pa.Table:
    return t.take(pc.sort_indices(t, sort_keys=[("l_orderkey", "ascending"), ("l_linenumber", "ascending")]))


def test_adbc_reads_partition_endpoints_from_every_node(cluster):
    n1, n2, _ = cluster
    deadline = time.time() + 30
    while _fetch(n1, "SELECT COUNT(*) AS n FROM system.nodes WHERE state = 'alive'")["n"][0].as_py() != 3:
        assert time.time() < deadline, "the three nodes did not form a cluster"
        time.sleep(0.2)

    # The single-stream answer (ORDER BY: one endpoint), coordinated by n2
    # so that n1's system.tasks holds only the partitioned query.
    reference = _fetch(n2, QUERY + " ORDER BY l_orderkey, l_linenumber")
    assert reference.num_rows == 60175

    with _connect(n1) as conn, conn.cursor() as cur:
        cur.execute(QUERY)
        got = cur.fetch_arrow_table()
    assert got.schema == reference.schema
    assert got.schema.field("big").type == pa.int64()
    assert _by_key(got).equals(reference)

    # n1 coordinated the query: it recorded which node served each partition.
    served = _fetch(n1, "SELECT node, COUNT(*) AS partitions FROM system.tasks "
                        "WHERE state = 'succeeded' GROUP BY node ORDER BY node").to_pylist()
    print("partitions served per node:", served)
    assert len(served) >= 2, f"ADBC read every partition from one node: {served}"


def test_adbc_incremental_execution_gets_partition_endpoints(cluster):
    """ADBC's incremental mode (adbc.statement.exec.incremental) runs the
    query with PollFlightInfo: it reports progress, and the completed poll
    carries the per-partition endpoints, which read (each at its node)
    give the single-stream answer."""
    import adbc_driver_manager

    n1, n2, _ = cluster
    reference = _fetch(n2, QUERY + " ORDER BY l_orderkey, l_linenumber")
    partitions, progress = [], []
    with _connect(n1) as conn, conn.cursor() as cur:
        cur.adbc_statement.set_options(**{adbc_driver_manager.StatementOptions.INCREMENTAL.value: "true"})
        deadline = time.time() + 60
        while True:
            new, _ = cur.adbc_execute_partitions(QUERY)
            partitions += new
            progress.append(cur.adbc_statement.get_option_float(adbc_driver_manager.StatementOptions.PROGRESS.value))
            if progress[-1] >= 1.0:
                break
            assert time.time() < deadline, f"the poll did not complete: progress {progress}"
        print("incremental progress:", progress, "partitions:", len(partitions))
        assert len(partitions) >= 2, f"the completed poll gave {len(partitions)} endpoint(s)"
        tables = []
        for p in partitions:
            cur.adbc_read_partition(p)
            tables.append(cur.fetch_arrow_table())
    got = pa.concat_tables(tables)
    assert got.schema == reference.schema
    assert _by_key(got).equals(reference)
