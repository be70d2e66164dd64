#!/usr/bin/env bash
# Generate TPC-H data as Parquet with plain Arrow types.
#
#   integration/tpch/gen.sh SF OUTDIR
#
# writes OUTDIR/tpch/<table>.parquet for the 8 TPC-H tables (customer,
# lineitem, nation, orders, part, partsupp, region, supplier), using
# tpchgen-cli (PyPI; byte-for-byte compatible with the TPC-H dbgen) and then
# normalize.py (string_view -> string, decimal128(15,2), date32, no field ids,
# 122880-row row groups, zstd).
#
# Environment knobs (all optional):
#   PARTS=N            split each table into N files: OUTDIR/tpch/<table>/<table>.<i>.parquet
#   COMPRESSION=zstd   Parquet compression of the normalised files (zstd, snappy, ...)
#   ROW_GROUP_ROWS=122880
#   THREADS=N          tpchgen-cli threads (default: number of CPUs)
#   PYTHON=python3     interpreter used to create the tool venv / run normalize.py
#   TPCH_VENV=DIR      venv used when tpchgen-cli/pyarrow are not already available
#                      (default ${XDG_CACHE_HOME:-$HOME/.cache}/quiver-tpch-venv)
#
# If tpchgen-cli or pyarrow (>= 16) are not available, they are pip-installed
# from PyPI into TPCH_VENV (pinned versions below).
set -euo pipefail

TPCHGEN_VERSION=4.0.0
PYARROW_VERSION=26.0.1

if [ $# -ne 2 ]; then
	echo "usage: $0 SF OUTDIR" >&2
	exit 2
fi
SF=$1
OUTDIR=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PYTHON=${PYTHON:-python3}
COMPRESSION=${COMPRESSION:-zstd}
ROW_GROUP_ROWS=${ROW_GROUP_ROWS:-122880}

have_tools() {
	# $1 = python, $2 = tpchgen-cli
	command -v "$2" >/dev/null 2>&1 &&
		"$1" -c 'import sys, pyarrow; sys.exit(int(pyarrow.__version__.split(".")[0]) < 16)' >/dev/null 2>&1
}

PY=$PYTHON
TPCHGEN=tpchgen-cli
if ! have_tools "$PY" "$TPCHGEN"; then
	VENV=${TPCH_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/quiver-tpch-venv}
	PY=$VENV/bin/python
	TPCHGEN=$VENV/bin/tpchgen-cli
	if ! have_tools "$PY" "$TPCHGEN"; then
		echo "gen.sh: installing tpchgen-cli==$TPCHGEN_VERSION pyarrow==$PYARROW_VERSION into $VENV" >&2
		mkdir -p "$(dirname "$VENV")"
		"$PYTHON" -m venv "$VENV"
		"$PY" -m pip install --quiet --upgrade pip
		"$PY" -m pip install --quiet "tpchgen-cli==$TPCHGEN_VERSION" "pyarrow==$PYARROW_VERSION"
	fi
fi

RAW=$OUTDIR/.tpchgen-raw
rm -rf "$RAW"
mkdir -p "$RAW" "$OUTDIR/tpch"
trap 'rm -rf "$RAW"' EXIT

start=$(date +%s)
gen_args=(parquet --scale-factor "$SF" --output-dir "$RAW" --overwrite --quiet)
if [ -n "${PARTS:-}" ]; then gen_args+=(--parts "$PARTS"); fi
if [ -n "${THREADS:-}" ]; then gen_args+=(--num-threads "$THREADS"); fi
echo "gen.sh: $TPCHGEN ${gen_args[*]}" >&2
"$TPCHGEN" "${gen_args[@]}"
mid=$(date +%s)

# Remove stale outputs of the other layout (single file vs. folder).
for t in customer lineitem nation orders part partsupp region supplier; do
	rm -rf "${OUTDIR:?}/tpch/$t" "${OUTDIR:?}/tpch/$t.parquet"
done
"$PY" "$HERE/normalize.py" "$RAW" "$OUTDIR/tpch" \
	--compression "$COMPRESSION" --row-group-rows "$ROW_GROUP_ROWS"
end=$(date +%s)

echo "gen.sh: SF $SF -> $OUTDIR/tpch: generate $((mid - start))s, normalise $((end - mid))s, total $((end - start))s" >&2
du -sh "$OUTDIR/tpch" >&2
