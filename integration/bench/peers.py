#!/usr/bin/env python3
"""Run the TPC-H queries in peer engines (DuckDB, DataFusion) for comparison.

    peers.py --data DIR --queries DIR [--runs 3] [--engines duckdb,datafusion]
             [--only q01,q05] [--warmup 0] [--timeout SECONDS] [--answers DIR]

DIR (``--data``) contains ``tpch/<table>.parquet`` or ``tpch/<table>/`` folders of
Parquet files.  Every engine runs in its own subprocess (default thread count,
tables registered as views / listing tables over the very same Parquet files),
executes each ``qNN.sql`` of ``--queries`` ``--runs`` times and materialises the
full result as Arrow.  Per query the median wall time and the median CPU time
(user + system, all threads) of the runs are reported;
per engine the peak RSS of its subprocess (``ru_maxrss`` from ``wait4``).

Output (stdout, JSON)::

    {"duckdb":     {"q01": {"median_s": 0.012, "ok": true, "runs_s": [...], "rows": 4, "cpu_s": 0.02}, ...},
     "datafusion": {"q01": {...}, ...},
     "peak_rss_mb": {"duckdb": 123.4, "datafusion": 234.5},
     "engines": {"duckdb": {"version": "2.0.0", "threads": "2"}, ...}}

A query that fails in an engine gets ``"ok": false, "error": "..."``.  With
``--answers DIR`` each result is also compared with ``DIR/qNN.csv`` (same rules
as ``integration/tpch/duckdb_answers.py``) and ``"matches": true/false`` is
added.  Progress goes to stderr.
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]
ENGINES = ["duckdb", "datafusion"]
HERE = os.path.dirname(os.path.abspath(__file__))


def table_path(data, table):
    """Returns (kind, path): kind is 'file' or 'dir'."""
    single = os.path.join(data, "tpch", table + ".parquet")
    if os.path.isfile(single):
        return "file", os.path.abspath(single)
    folder = os.path.join(data, "tpch", table)
    if os.path.isdir(folder):
        return "dir", os.path.abspath(folder)
    raise SystemExit(f"no Parquet data for table {table} under {data}/tpch")


def list_queries(qdir, only):
    names = sorted(f[:-4] for f in os.listdir(qdir) if f.endswith(".sql"))
    if only:
        wanted = [q.strip() for q in only.split(",") if q.strip()]
        names = [n for n in names if n in wanted]
    return names


# ---------------------------------------------------------------- engines


class DuckDB:
    def __init__(self, data):
        import duckdb

        self.version = duckdb.__version__
        self.con = duckdb.connect()
        for t in TABLES:
            kind, p = table_path(data, t)
            src = p if kind == "file" else os.path.join(p, "*.parquet")
            src = src.replace("'", "''")
            self.con.execute(f"CREATE VIEW {t} AS SELECT * FROM read_parquet('{src}')")
        self.threads = self.con.execute("SELECT current_setting('threads')").fetchall()[0][0]

    def run(self, sql):
        rel = self.con.sql(sql)
        for m in ("to_arrow_table", "fetch_arrow_table", "arrow"):
            if hasattr(rel, m):
                res = getattr(rel, m)()
                break
        else:
            raise RuntimeError("no Arrow fetch method on DuckDB relation")
        if hasattr(res, "read_all"):  # RecordBatchReader in some versions
            res = res.read_all()
        return res


class DataFusion:
    def __init__(self, data):
        import datafusion

        self.version = datafusion.__version__
        self.ctx = datafusion.SessionContext()
        for t in TABLES:
            _, p = table_path(data, t)
            self.ctx.register_parquet(t, p)
        try:
            self.threads = self.ctx.sql(
                "SELECT value FROM information_schema.df_settings "
                "WHERE name = 'datafusion.execution.target_partitions'"
            ).to_pylist()[0]["value"]
        except Exception:  # information_schema disabled or API differs
            self.threads = "default"

    def run(self, sql):
        import pyarrow as pa

        df = self.ctx.sql(sql)
        batches = df.collect()
        if batches:
            return pa.Table.from_batches(batches)
        return pa.Table.from_batches([], schema=df.schema())


def make_engine(name, data):
    if name == "duckdb":
        return DuckDB(data)
    if name == "datafusion":
        return DataFusion(data)
    raise SystemExit(f"unknown engine {name}")


def render(table):
    """Render an Arrow table in the answer-file format."""
    sys.path.insert(0, os.path.join(HERE, "..", "tpch"))
    from duckdb_answers import fmt  # noqa: E402

    lines = ["|".join(table.column_names)]
    for row in table.to_pylist():
        lines.append("|".join(fmt(v) for v in row.values()))
    return "\n".join(lines) + "\n"


def cpu_seconds():
    """User + system CPU time of this process, all threads."""
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def worker(args):
    """Runs in the engine subprocess; prints one JSON object per line."""
    t0 = time.perf_counter()
    eng = make_engine(args.worker, args.data)
    print(
        f"peers: {args.worker} {eng.version}, threads={eng.threads}, "
        f"setup {time.perf_counter() - t0:.3f}s",
        file=sys.stderr,
        flush=True,
    )
    print(json.dumps({"engine": {"version": str(eng.version), "threads": str(eng.threads)}}), flush=True)
    compare = None
    if args.answers:
        sys.path.insert(0, os.path.join(HERE, "..", "tpch"))
        from duckdb_answers import compare  # noqa: E402
    for q in list_queries(args.queries, args.only):
        with open(os.path.join(args.queries, q + ".sql")) as f:
            sql = f.read()
        rec = {"query": q}
        times = []
        try:
            res = None
            for _ in range(args.warmup):
                eng.run(sql)
            cpus = []
            for _ in range(args.runs):
                c, s = cpu_seconds(), time.perf_counter()
                res = eng.run(sql)
                times.append(time.perf_counter() - s)
                cpus.append(cpu_seconds() - c)
            rec.update(ok=True, median_s=statistics.median(times), runs_s=times, rows=res.num_rows,
                       cpu_s=statistics.median(cpus))
            if compare is not None:
                ans = os.path.join(args.answers, q + ".csv")
                if os.path.isfile(ans):
                    with open(ans) as f:
                        status, msg = compare(f.read(), render(res))
                    rec["matches"] = status != "MISMATCH"
                    if status == "MISMATCH":
                        rec["mismatch"] = msg
        except Exception as e:  # engine error: record and go on
            rec.update(ok=False, error=f"{type(e).__name__}: {e}".strip(), runs_s=times)
            if times:
                rec["median_s"] = statistics.median(times)
        print(json.dumps(rec), flush=True)
        status = f"{rec['median_s']:.4f}s" if rec["ok"] else "FAILED " + rec["error"][:200]
        print(f"peers: {args.worker} {q} {status}", file=sys.stderr, flush=True)
    return 0


# ---------------------------------------------------------------- driver


def run_engine(name, args, queries):
    cmd = [
        sys.executable, os.path.abspath(__file__), "--worker", name,
        "--data", args.data, "--queries", args.queries,
        "--runs", str(args.runs), "--warmup", str(args.warmup),
    ]
    if args.only:
        cmd += ["--only", args.only]
    if args.answers:
        cmd += ["--answers", args.answers]
    results = {}
    info = {}
    with tempfile.TemporaryFile() as out:
        p = subprocess.Popen(cmd, stdout=out)  # stderr passes through (progress)
        deadline = time.monotonic() + args.timeout if args.timeout else None
        killed = False
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            if deadline and time.monotonic() > deadline:
                p.kill()
                killed = True
                _, status, ru = os.wait4(p.pid, 0)
                break
            time.sleep(0.02)
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        for line in out.read().decode().splitlines():
            line = line.strip()
            if line.startswith("{"):
                rec = json.loads(line)
                if "engine" in rec:
                    info = rec["engine"]
                else:
                    results[rec.pop("query")] = rec
    # ru_maxrss is in KiB on Linux (bytes on macOS).
    rss_mb = ru.ru_maxrss / 1024.0 if sys.platform != "darwin" else ru.ru_maxrss / 1048576.0
    why = "timeout" if killed else f"engine process exited with status {p.returncode}"
    for q in queries:
        if q not in results:
            results[q] = {"ok": False, "error": f"not run: {why}"}
    return {q: results[q] for q in queries}, round(rss_mb, 1), info


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--queries", default=os.path.join(HERE, "..", "tpch", "queries"))
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=0, help="untimed runs per query before the timed ones")
    ap.add_argument("--engines", default=",".join(ENGINES))
    ap.add_argument("--only", default="", help="comma-separated subset of queries, e.g. q01,q06")
    ap.add_argument("--timeout", type=float, default=0, help="kill an engine after this many seconds (0 = none)")
    ap.add_argument("--answers", default="", help="compare results with DIR/qNN.csv")
    ap.add_argument("--worker", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.runs < 1:
        raise SystemExit("--runs must be >= 1")

    if args.worker:
        return worker(args)

    for t in TABLES:  # fail early on a bad --data
        table_path(args.data, t)
    queries = list_queries(args.queries, args.only)
    out = {}
    rss = {}
    info = {}
    for name in [e.strip() for e in args.engines.split(",") if e.strip()]:
        out[name], rss[name], info[name] = run_engine(name, args, queries)
    out["peak_rss_mb"] = rss
    out["engines"] = info
    json.dump(out, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
