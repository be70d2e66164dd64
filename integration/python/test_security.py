"""Authentication and TLS through ADBC, each against a server of its own
started with the `quiver serve` security flags of DESIGN.md."""

import shutil
import subprocess
import tempfile
from pathlib import Path

import adbc_driver_flightsql
import adbc_driver_flightsql.dbapi as flight_sql
import adbc_driver_manager
import pyarrow as pa
import pytest

from conftest import quiver_bin, start_server

@pytest.fixture()
def tmp():
    d = Path(tempfile.mkdtemp(prefix="quiver-pytest-sec-"))
    try:
        yield d
    finally:
        shutil.rmtree(d, ignore_errors=True)


def add_user(tmp: Path, users: Path, name: str, password: str, *flags: str) -> None:
    subprocess.run([quiver_bin(tmp), "user", "add", "--users", str(users), *flags, name],
                   input=password + "\n", text=True, check=True, capture_output=True)


def self_signed(tmp: Path):
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


def query_one(conn, sql="SELECT COUNT(*) FROM region"):
    with conn.cursor() as cur:
        cur.execute(sql)
        return cur.fetchone()


def test_basic_auth(tmp):
    users = tmp / "users"
    add_user(tmp, users, "alice", "s3cret")
    add_user(tmp, users, "reader", "r3ad", "--read-only")
    srv = start_server(tmp, "--users", str(users))
    try:
        with flight_sql.connect(srv.uri, db_kwargs={"username": "alice", "password": "s3cret"},
                                autocommit=True) as conn:
            assert query_one(conn) == (5,)
        with pytest.raises(adbc_driver_manager.Error, match="(?i)unauthenticated"):
            with flight_sql.connect(srv.uri, db_kwargs={"username": "alice", "password": "wrong"},
                                    autocommit=True) as conn:
                query_one(conn)
        with pytest.raises(adbc_driver_manager.Error, match="(?i)unauthenticated"):
            with flight_sql.connect(srv.uri, autocommit=True) as conn:
                query_one(conn)
        with flight_sql.connect(srv.uri, db_kwargs={"username": "reader", "password": "r3ad"},
                                autocommit=True) as conn:
            assert query_one(conn) == (5,)
            with pytest.raises(adbc_driver_manager.Error, match="(?i)permission"):
                with conn.cursor() as cur:
                    cur.execute("CREATE TABLE test.ro (a INT)")
    finally:
        srv.proc.kill()
        srv.proc.wait()


def test_tls(tmp):
    cert, key = self_signed(tmp)
    srv = start_server(tmp, "--tls-cert", str(cert), "--tls-key", str(key))
    try:
        uri = f"grpc+tls://{srv.addr}"
        opts = {adbc_driver_flightsql.DatabaseOptions.TLS_ROOT_CERTS.value: cert.read_text()}
        with flight_sql.connect(uri, db_kwargs=opts, autocommit=True) as conn:
            assert query_one(conn) == (5,)
        # A plaintext client gets an error, not a hang or data.
        with pytest.raises(adbc_driver_manager.Error):
            with flight_sql.connect(srv.uri, autocommit=True) as conn:
                query_one(conn)
        # An unknown CA is refused.
        with pytest.raises(adbc_driver_manager.Error):
            with flight_sql.connect(uri, autocommit=True) as conn:
                query_one(conn)
    finally:
        srv.proc.kill()
        srv.proc.wait()


def test_ingest_over_tls_with_auth(tmp):
    """adbc_ingest through TLS and login: a writer creates and appends, a
    read-only user and a wrong password are refused, nothing half-written."""
    cert, key = self_signed(tmp)
    users = tmp / "users"
    add_user(tmp, users, "alice", "s3cret")
    add_user(tmp, users, "reader", "r3ad", "--read-only")
    srv = start_server(tmp, "--users", str(users), "--tls-cert", str(cert), "--tls-key", str(key))
    uri = f"grpc+tls://{srv.addr}"
    tls = {adbc_driver_flightsql.DatabaseOptions.TLS_ROOT_CERTS.value: cert.read_text()}
    data = pa.table({"id": pa.array([1, 2, 3], pa.int64()),
                     "name": pa.array(["a", None, "c"], pa.string())})
    try:
        with flight_sql.connect(uri, db_kwargs={**tls, "username": "alice", "password": "s3cret"},
                                autocommit=True) as conn:
            with conn.cursor() as cur:
                assert cur.adbc_ingest("sec_ingest", data, mode="create", db_schema_name="test") == 3
                assert cur.adbc_ingest("sec_ingest", data.slice(0, 1), mode="append", db_schema_name="test") == 1
                cur.execute("SELECT id, name FROM test.sec_ingest ORDER BY id, name")
                assert cur.fetchall() == [(1, "a"), (1, "a"), (2, None), (3, "c")]
        with flight_sql.connect(uri, db_kwargs={**tls, "username": "reader", "password": "r3ad"},
                                autocommit=True) as conn:
            with conn.cursor() as cur:
                with pytest.raises(adbc_driver_manager.Error, match="(?i)permission|read-only"):
                    cur.adbc_ingest("sec_ingest", data, mode="append", db_schema_name="test")
                with pytest.raises(adbc_driver_manager.Error, match="(?i)permission|read-only"):
                    cur.adbc_ingest("sec_ro", data, mode="create", db_schema_name="test")
                cur.execute("SELECT COUNT(*) FROM test.sec_ingest")
                assert cur.fetchone() == (4,)
        with pytest.raises(adbc_driver_manager.Error, match="(?i)unauthenticated"):
            with flight_sql.connect(uri, db_kwargs={**tls, "username": "alice", "password": "wrong"},
                                    autocommit=True) as conn:
                with conn.cursor() as cur:
                    cur.adbc_ingest("sec_ingest", data, mode="append", db_schema_name="test")
    finally:
        srv.proc.kill()
        srv.proc.wait()


def test_advertised_endpoints_over_tls(tmp):
    """With --advertise-endpoints results are located at grpc+tls://host:port;
    ADBC reads them through a client of its own for that location."""
    cert, key = self_signed(tmp)
    users = tmp / "users"
    add_user(tmp, users, "alice", "s3cret")
    srv = start_server(tmp, "--users", str(users), "--tls-cert", str(cert), "--tls-key", str(key),
                       "--advertise-endpoints")
    try:
        opts = {adbc_driver_flightsql.DatabaseOptions.TLS_ROOT_CERTS.value: cert.read_text(),
                "username": "alice", "password": "s3cret"}
        with flight_sql.connect(f"grpc+tls://{srv.addr}", db_kwargs=opts, autocommit=True) as conn:
            with conn.cursor() as cur:
                cur.execute("SELECT n_name FROM nation WHERE n_regionkey = ? ORDER BY n_name", (3,))
                assert cur.fetchall()[0] == ("FRANCE",)
                info = cur.adbc_execute_partitions("SELECT COUNT(*) FROM region")[0]
                assert len(info) == 1 and f"grpc+tls://{srv.addr}".encode() in info[0]
                cur.adbc_read_partition(info[0])
                assert cur.fetchall() == [(5,)]
    finally:
        srv.proc.kill()
        srv.proc.wait()
