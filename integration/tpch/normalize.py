#!/usr/bin/env python3
"""Rewrite TPC-H Parquet files (as written by tpchgen-cli) with plain Arrow types.

tpchgen-cli writes text columns as Arrow ``string_view`` (and stores that in the
file's ``ARROW:schema`` metadata) and tags every column with a
``PARQUET:field_id``.  Readers such as arrow-go's pqarrow then reconstruct
``string_view`` columns.  This script rewrites every table so that:

* text columns are plain ``string`` (utf8), never ``string_view`` /
  ``large_string``; binary likewise becomes plain ``binary``;
* money / quantity columns are ``decimal128(p, s)`` (decimal32/64/256 are
  re-cast to decimal128 with the same precision and scale);
* dates are ``date32``; integer keys keep their width (int64 or int32);
* field-id and other schema metadata are dropped, so the stored
  ``ARROW:schema`` describes exactly these plain types;
* row groups hold ``--row-group-rows`` rows (default 122880) and pages are
  compressed with ``--compression`` (default zstd).

Usage:
    normalize.py SRC_DIR DST_DIR [--row-group-rows N] [--compression zstd|snappy|...]

SRC_DIR contains ``<table>.parquet`` files and/or ``<table>/`` directories of
``*.parquet`` parts.  The same layout is reproduced under DST_DIR.
Tables are streamed batch by batch, so memory stays bounded at large scale
factors.
"""

import argparse
import os
import sys

import pyarrow as pa
import pyarrow.parquet as pq

TABLES = ["customer", "lineitem", "nation", "orders", "part", "partsupp", "region", "supplier"]


def plain_type(t: pa.DataType) -> pa.DataType:
    if pa.types.is_string_view(t) or pa.types.is_large_string(t):
        return pa.string()
    if pa.types.is_binary_view(t) or pa.types.is_large_binary(t):
        return pa.binary()
    if pa.types.is_decimal(t) and not pa.types.is_decimal128(t):
        return pa.decimal128(t.precision, t.scale)
    if pa.types.is_date64(t):
        return pa.date32()
    if pa.types.is_dictionary(t):
        return plain_type(t.value_type)
    return t


def plain_schema(schema: pa.Schema) -> pa.Schema:
    return pa.schema(
        [pa.field(f.name, plain_type(f.type), nullable=f.nullable) for f in schema]
    )


def convert_file(src: str, dst: str, row_group_rows: int, compression: str) -> int:
    pf = pq.ParquetFile(src)
    target = plain_schema(pf.schema_arrow)
    tmp = dst + ".tmp"
    rows = 0
    pending = []
    pending_rows = 0
    with pq.ParquetWriter(
        tmp,
        target,
        compression=compression,
        use_dictionary=True,
        write_statistics=True,
        store_schema=True,
    ) as w:

        def flush(final: bool):
            nonlocal pending, pending_rows
            if not pending:
                return
            tbl = pa.Table.from_batches(pending, schema=target)
            n_full = (tbl.num_rows // row_group_rows) * row_group_rows
            if final:
                n_full = tbl.num_rows
            if n_full:
                w.write_table(tbl.slice(0, n_full), row_group_size=row_group_rows)
            rest = tbl.slice(n_full)
            pending = rest.to_batches() if rest.num_rows else []
            pending_rows = rest.num_rows

        for batch in pf.iter_batches(batch_size=65536):
            arrays = [batch.column(i).cast(target.field(i).type) for i in range(batch.num_columns)]
            b = pa.RecordBatch.from_arrays(arrays, schema=target)
            pending.append(b)
            pending_rows += b.num_rows
            rows += b.num_rows
            if pending_rows >= row_group_rows:
                flush(final=False)
        flush(final=True)
    os.replace(tmp, dst)
    return rows


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("src")
    ap.add_argument("dst")
    ap.add_argument("--row-group-rows", type=int, default=122880)
    ap.add_argument("--compression", default="zstd")
    args = ap.parse_args()

    os.makedirs(args.dst, exist_ok=True)
    missing = []
    for table in TABLES:
        single = os.path.join(args.src, table + ".parquet")
        folder = os.path.join(args.src, table)
        if os.path.isfile(single):
            jobs = [(single, os.path.join(args.dst, table + ".parquet"))]
        elif os.path.isdir(folder):
            out_dir = os.path.join(args.dst, table)
            os.makedirs(out_dir, exist_ok=True)
            jobs = [
                (os.path.join(folder, name), os.path.join(out_dir, name))
                for name in sorted(os.listdir(folder))
                if name.endswith(".parquet")
            ]
        else:
            missing.append(table)
            continue
        total = 0
        for src, dst in jobs:
            total += convert_file(src, dst, args.row_group_rows, args.compression)
        print(f"{table}: {total} rows, {len(jobs)} file(s)", file=sys.stderr)
    if missing:
        print("missing tables in %s: %s" % (args.src, ", ".join(missing)), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
