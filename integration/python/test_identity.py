"""The shared client queries (integration/testdata/clients) through ADBC: the
canonical rendering must equal expected.txt, as for the Go and Java clients."""

import re

import pyarrow as pa

from conftest import CLIENTS_TESTDATA


def read_queries():
    queries, name, lines = [], None, []
    for line in (CLIENTS_TESTDATA / "queries.sql").read_text().splitlines():
        m = re.match(r"-- name:\s*(\S+)", line)
        if m:
            if name:
                queries.append((name, "\n".join(lines).strip()))
            name, lines = m.group(1), []
        elif name and not line.strip().startswith("--"):
            lines.append(line)
    if name:
        queries.append((name, "\n".join(lines).strip()))
    return queries


def canonical_float(f: float) -> str:
    if f == 0 or 1e-4 <= abs(f) < 1e15:
        return f"{f:.6f}"
    return f"{f:.6e}"


def canonical(value, typ: pa.DataType) -> str:
    if value is None:
        return "NULL"
    if pa.types.is_boolean(typ):
        return "true" if value else "false"
    if pa.types.is_integer(typ):
        return str(value)
    if pa.types.is_floating(typ):
        return canonical_float(value)
    if pa.types.is_decimal(typ):
        assert value.as_tuple().exponent == -typ.scale, (value, typ)
        return format(value, "f")
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        if value == "":
            return "(empty)"
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")
    if pa.types.is_binary(typ) or pa.types.is_large_binary(typ):
        return "0x" + value.hex()
    if pa.types.is_date(typ):
        return value.strftime("%Y-%m-%d")
    if pa.types.is_timestamp(typ):
        assert typ.tz is None, f"unexpected zoned timestamp {typ}"
        return value.strftime("%Y-%m-%d %H:%M:%S.%f")
    raise AssertionError(f"no canonical form for {typ}")


def render(name: str, table: pa.Table) -> str:
    out = [f"== {name}", "\t".join(table.column_names)]
    cols = [(c.to_pylist(), c.type) for c in table.columns]
    for r in range(table.num_rows):
        out.append("\t".join(canonical(vals[r], typ) for vals, typ in cols))
    return "\n".join(out) + "\n"


def test_identity(conn):
    got = []
    with conn.cursor() as cur:
        for name, sql in read_queries():
            cur.execute(sql)
            got.append(render(name, cur.fetch_arrow_table()))
    want = (CLIENTS_TESTDATA / "expected.txt").read_text()
    got = "".join(got)
    if got != want:
        wl, gl = want.splitlines(), got.splitlines()
        for i in range(max(len(wl), len(gl))):
            w = wl[i] if i < len(wl) else "<missing>"
            g = gl[i] if i < len(gl) else "<missing>"
            assert g == w, f"expected.txt line {i + 1} differs"
    assert got == want
