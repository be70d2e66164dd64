"""Fixtures: a real `quiver serve` process over a copy of the TPC-H SF 0.01 data.

QUIVER_BIN names the binary (`make test-python` builds it); without it the
fixture builds one with `go build` into a temporary directory.
"""

import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SF001 = REPO / "testdata" / "tpch-sf0.01"
CLIENTS_TESTDATA = REPO / "integration" / "testdata" / "clients"


def die_with_tests() -> None:
    """preexec_fn: the kernel kills the child when pytest dies (Linux), so a
    killed or timed-out test run leaves no server behind."""
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def quiver_bin(tmp: Path) -> str:
    b = os.environ.get("QUIVER_BIN")
    if b:
        return b
    out = tmp / "quiver"
    subprocess.run(["go", "build", "-o", str(out), "./cmd/quiver"], cwd=REPO, check=True)
    return str(out)


class Server:
    def __init__(self, proc, addr, data, log):
        self.proc, self.addr, self.data, self.log = proc, addr, data, log

    @property
    def uri(self) -> str:
        return f"grpc://{self.addr}"

    def output(self) -> str:
        self.log.flush()
        return Path(self.log.name).read_text(errors="replace")


def start_server(tmp: Path, *extra: str) -> Server:
    data = tmp / "data"
    shutil.copytree(SF001, data)
    (data / "test").mkdir()
    (data / "clients").mkdir()
    shutil.copy(CLIENTS_TESTDATA / "alltypes.parquet", data / "clients" / "alltypes.parquet")
    addr = f"127.0.0.1:{free_port()}"
    log = open(tmp / "server.log", "w+")
    proc = subprocess.Popen(
        [quiver_bin(tmp), "serve", "--listen", addr, "--data", str(data),
         "--default-schema", "tpch", "--log-level", "warn", *extra],
        stdout=log, stderr=subprocess.STDOUT, preexec_fn=die_with_tests)
    deadline = time.time() + 30
    host, port = addr.split(":")
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"quiver serve exited with {proc.returncode}:\n"
                               + Path(log.name).read_text())
        try:
            with socket.create_connection((host, int(port)), timeout=0.5):
                break
        except OSError:
            if time.time() > deadline:
                proc.kill()
                raise RuntimeError("quiver serve did not start listening in 30 s")
            time.sleep(0.05)
    return Server(proc, addr, data, log)


def stop_server(srv: Server, grace: float = 20) -> None:
    srv.proc.terminate()
    try:
        srv.proc.wait(timeout=grace)
    except subprocess.TimeoutExpired:
        srv.proc.kill()
        srv.proc.wait()
        raise RuntimeError("quiver serve did not stop on SIGTERM")
    srv.log.close()


@pytest.fixture(scope="session")
def server():
    tmp = Path(tempfile.mkdtemp(prefix="quiver-pytest-"))
    srv = start_server(tmp)
    try:
        yield srv
    finally:
        stop_server(srv)
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture()
def private_server():
    """A server of its own, for tests that may leave it busy (cancellation);
    killed at the end."""
    tmp = Path(tempfile.mkdtemp(prefix="quiver-pytest-"))
    srv = start_server(tmp)
    try:
        yield srv
    finally:
        srv.proc.kill()
        srv.proc.wait()
        srv.log.close()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture()
def conn(server):
    import adbc_driver_flightsql.dbapi as flight_sql

    c = flight_sql.connect(server.uri, autocommit=True)
    try:
        yield c
    finally:
        c.close()
