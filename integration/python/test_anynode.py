"""ADBC behind a per-call load balancer: three real `quiver serve` nodes (one
cluster: users file, cluster secret, shared data directory) behind the test
proxy (integration/lbproxy), which sends every RPC to the next node. The
driver logs in on one node and each later call may land on another: the
token, prepared statements with parameters, the session and ingest must hold.

LBPROXY_BIN names the proxy binary (`make test-python` builds it); without
it the test builds one with `go build`."""

import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from pathlib import Path

import adbc_driver_flightsql.dbapi as flight_sql
import pyarrow as pa
import pytest

from conftest import REPO, SF001, die_with_tests, free_port, quiver_bin

NODES = ("n1", "n2", "n3")


def wait_port(addr: str, proc: subprocess.Popen, log: Path, what: str) -> None:
    host, port = addr.split(":")
    deadline = time.time() + 30
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}:\n{log.read_text()}")
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                return
        except OSError:
            if time.time() > deadline:
                raise RuntimeError(f"{what} did not listen within 30 s:\n{log.read_text()}")
            time.sleep(0.05)


def lbproxy_bin(tmp: Path) -> str:
    b = os.environ.get("LBPROXY_BIN")
    if b:
        return b
    out = tmp / "lbproxy"
    subprocess.run(["go", "build", "-o", str(out), "./integration/lbproxy/cmd/lbproxy"], cwd=REPO, check=True)
    return str(out)


def connect(addr: str, password: str = "pw-alice"):
    return flight_sql.connect(f"grpc://{addr}", db_kwargs={"username": "alice", "password": password},
                              autocommit=True)


def rows(conn, sql, params=None):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall()


@pytest.fixture(scope="module")
def cluster():
    tmp = Path(tempfile.mkdtemp(prefix="quiver-pytest-anynode-"))
    procs = []
    try:
        binary = quiver_bin(tmp)
        users = tmp / "users"
        subprocess.run([binary, "user", "add", "--users", str(users), "alice"],
                       input="pw-alice\n", text=True, check=True, capture_output=True)
        secret = tmp / "secret"
        secret.write_text("python-anynode-secret\n")
        data = tmp / "data"
        shutil.copytree(SF001, data)
        (data / "test").mkdir()
        addrs, gossip = [], []
        for name in NODES:
            addr = f"127.0.0.1:{free_port()}"
            g = f"127.0.0.1:{free_port()}"
            args = [binary, "serve", "--listen", addr, "--data", str(data), "--default-schema", "tpch",
                    "--users", str(users), "--cluster-secret-file", str(secret), "--node-name", name,
                    "--cluster-listen", f"127.0.0.1:{free_port()}", "--gossip-listen", g,
                    "--work-dir", str(tmp / f"work-{name}"), "--parallelism", "2", "--log-level", "warn"]
            if gossip:
                args += ["--join", gossip[0]]
            log = tmp / f"{name}.log"
            with open(log, "w") as fh:
                p = subprocess.Popen(args, stdout=fh, stderr=subprocess.STDOUT, preexec_fn=die_with_tests)
            procs.append(p)
            wait_port(addr, p, log, f"quiver serve {name}")
            addrs.append(addr)
            gossip.append(g)
        # Session changes go to the members a node knows: wait for all three.
        deadline = time.time() + 40
        for addr in addrs:
            while True:
                with connect(addr) as c:
                    alive = rows(c, "SELECT node_name FROM system.nodes WHERE state = 'alive' ORDER BY node_name")
                if [r[0] for r in alive] == list(NODES):
                    break
                if time.time() > deadline:
                    raise RuntimeError(f"cluster did not form on {addr}: {alive}")
                time.sleep(0.2)
        proxy_addr = f"127.0.0.1:{free_port()}"
        calls = tmp / "calls.jsonl"
        plog = tmp / "lbproxy.log"
        with open(plog, "w") as fh:
            proxy = subprocess.Popen([lbproxy_bin(tmp), "-listen", proxy_addr, "-backends", ",".join(addrs),
                                      "-log", str(calls)], stdout=fh, stderr=subprocess.STDOUT,
                                     preexec_fn=die_with_tests)
        procs.append(proxy)
        wait_port(proxy_addr, proxy, plog, "lbproxy")
        yield {"addrs": addrs, "proxy": proxy_addr, "calls": calls, "data": data}
    finally:
        for p in procs:
            p.kill()
            p.wait()
        shutil.rmtree(tmp, ignore_errors=True)


def read_calls(path: Path):
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def test_adbc_behind_load_balancer(cluster):
    with connect(cluster["addrs"][0]) as direct, connect(cluster["proxy"]) as conn:
        start = len(read_calls(cluster["calls"]))

        # Parameters, several times: prepare, bind, execute and fetch spread over the nodes.
        for key in range(6):
            got = rows(conn, "SELECT n_name, n_regionkey FROM nation WHERE n_nationkey = ?", (key,))
            want = rows(direct, f"SELECT n_name, n_regionkey FROM nation WHERE n_nationkey = {key}")
            assert got == want and len(want) == 1, key

        with conn.cursor() as cur:
            cur.execute("SELECT n_nationkey, n_name FROM nation ORDER BY n_nationkey")
            table = cur.fetch_arrow_table()
        with direct.cursor() as cur:
            cur.execute("SELECT n_nationkey, n_name FROM nation ORDER BY n_nationkey")
            assert table.equals(cur.fetch_arrow_table())

        objects = conn.adbc_get_objects(depth="tables", db_schema_filter="tpch").read_all().to_pylist()
        tables = {t["table_name"] for cat in objects for s in cat["catalog_db_schemas"] or []
                  for t in s["db_schema_tables"] or []}
        assert {"nation", "region", "lineitem"} <= tables

        # Ingest, then read it back from every node.
        data = pa.table({"k": pa.array([1, 2, 3, 4], pa.int64()), "s": ["a", "b", "c", "d"]})
        with conn.cursor() as cur:
            assert cur.adbc_ingest("py_ingested", data, mode="create", db_schema_name="test") == 4
        for _ in range(3):
            assert rows(conn, "SELECT count(*), sum(k) FROM test.py_ingested") == [(4, 10)]

        # USE through the driver (a prepared statement) holds on every node.
        rows(conn, "USE test")
        for _ in range(3):
            assert rows(conn, "SELECT count(*) FROM py_ingested") == [(4,)]

        calls = read_calls(cluster["calls"])[start:]
        per_node = Counter(c["backend"] for c in calls)
        assert set(per_node) == {0, 1, 2}, per_node
        prepared = Counter(c["backend"] for c in calls if c.get("command") == "CommandPreparedStatementQuery")
        assert set(prepared) == {0, 1, 2}, f"prepared statement calls per node: {prepared}"


def test_wrong_password_behind_load_balancer(cluster):
    with pytest.raises(Exception, match="(?i)unauthenticated"):
        with connect(cluster["proxy"], password="nope") as conn:
            rows(conn, "SELECT 1")
