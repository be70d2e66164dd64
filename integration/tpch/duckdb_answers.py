#!/usr/bin/env python3
"""Run the 22 TPC-H queries with DuckDB over Parquet data and compare / write answers.

    duckdb_answers.py --data DIR [--queries DIR] [--answers DIR] [--write q02,q10,...]
                      [--write-missing] [--out DIR]

DIR contains tpch/<table>.parquet (or tpch/<table>/*.parquet).  Each query's
result is rendered in the answer-file format (``|`` delimiter, header row, no
quoting, dates YYYY-MM-DD, decimals at their SQL scale, floats with up to 17
significant digits (shortest round-trip repr), NULL as empty field) and
compared with ANSWERS/qNN.csv: text must match exactly (a match after trimming
leading/trailing spaces is reported as ``ok-trimmed``, the TPC kit answers are
trimmed), numbers must agree within 0.01 absolute or 1e-6 relative.

--write qNN,...   write these queries' answers to --out (default --answers)
--write-missing   write answers for queries that have no file in --answers

Exit status 1 if any compared query mismatches.  Requires ``duckdb`` (PyPI).
"""

import argparse
import datetime
import decimal
import os
import sys

import duckdb

TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]
HERE = os.path.dirname(os.path.abspath(__file__))


def table_source(data: str, table: str) -> str:
    single = os.path.join(data, "tpch", table + ".parquet")
    if os.path.isfile(single):
        return single
    folder = os.path.join(data, "tpch", table)
    if os.path.isdir(folder):
        return os.path.join(folder, "*.parquet")
    raise SystemExit(f"no data for table {table} under {data}/tpch")


def connect(data: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for t in TABLES:
        src = table_source(data, t).replace("'", "''")
        con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{src}')")
    return con


def fmt(v) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, float):
        r = repr(v)
        return r
    if isinstance(v, (datetime.date, datetime.datetime)):
        return v.isoformat()
    return str(v)


def render(con, sql: str) -> str:
    cur = con.execute(sql)
    cols = [d[0] for d in cur.description]
    lines = ["|".join(cols)]
    for row in cur.fetchall():
        lines.append("|".join(fmt(v) for v in row))
    return "\n".join(lines) + "\n"


def as_number(s: str):
    try:
        if s.strip() == "" or not any(c.isdigit() for c in s):
            return None
        return float(s)
    except ValueError:
        return None


def compare(expected: str, got: str, tol_abs=0.01, tol_rel=1e-6):
    """Returns (status, message); status in ok, ok-trimmed, MISMATCH."""
    e_lines = expected.rstrip("\n").split("\n")
    g_lines = got.rstrip("\n").split("\n")
    notes = []
    if e_lines[0] != g_lines[0]:
        notes.append(f"header differs: expected {e_lines[0]!r} got {g_lines[0]!r}")
    e_rows, g_rows = e_lines[1:], g_lines[1:]
    if len(e_rows) != len(g_rows):
        return "MISMATCH", f"row count expected {len(e_rows)} got {len(g_rows)}"
    trimmed = False
    for i, (er, gr) in enumerate(zip(e_rows, g_rows), start=1):
        ef, gf = er.split("|"), gr.split("|")
        if len(ef) != len(gf):
            return "MISMATCH", f"row {i}: field count {len(ef)} vs {len(gf)}: {er!r} vs {gr!r}"
        for j, (a, b) in enumerate(zip(ef, gf)):
            if a == b:
                continue
            na, nb = as_number(a), as_number(b)
            if na is not None and nb is not None:
                d = abs(na - nb)
                if d <= tol_abs or d <= tol_rel * max(abs(na), abs(nb)):
                    continue
                return "MISMATCH", f"row {i} col {j + 1}: expected {a} got {b} (diff {d})"
            if a.strip() == b.strip():
                trimmed = True
                continue
            return "MISMATCH", f"row {i} col {j + 1}: expected {a!r} got {b!r}"
    status = "ok-trimmed" if trimmed else "ok"
    return status, "; ".join(notes)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--queries", default=os.path.join(HERE, "queries"))
    ap.add_argument("--answers", default=None, help="directory with qNN.csv expected answers")
    ap.add_argument("--write", default="", help="comma-separated queries to write, e.g. q02,q10")
    ap.add_argument("--write-missing", action="store_true")
    ap.add_argument("--out", default=None)
    args = ap.parse_args()

    out = args.out or args.answers
    to_write = {q.strip() for q in args.write.split(",") if q.strip()}
    con = connect(args.data)
    bad = 0
    for n in range(1, 23):
        q = f"q{n:02d}"
        with open(os.path.join(args.queries, q + ".sql")) as f:
            sql = f.read()
        got = render(con, sql)
        exp_path = os.path.join(args.answers, q + ".csv") if args.answers else None
        have = exp_path is not None and os.path.isfile(exp_path)
        nrows = got.count("\n") - 1
        if have:
            with open(exp_path) as f:
                status, msg = compare(f.read(), got)
            if status == "MISMATCH":
                bad += 1
            print(f"{q}: {status} ({nrows} rows) {msg}".rstrip())
        else:
            print(f"{q}: no expected answer ({nrows} rows)")
        if q in to_write or (args.write_missing and not have):
            if not out:
                raise SystemExit("--out or --answers needed to write answers")
            os.makedirs(out, exist_ok=True)
            with open(os.path.join(out, q + ".csv"), "w", newline="\n") as f:
                f.write(got)
            print(f"{q}: wrote {os.path.join(out, q + '.csv')}")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
