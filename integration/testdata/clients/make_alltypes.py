"""Writes alltypes.parquet, the table of every column type the client suites
compare (run once; the output is checked in). Needs pyarrow."""
import datetime as dt
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

rows = [
    # id, i8, i16, i32, i64, u32, f32, f64, dec, big, s, b, bin, d, ts
    (1, 1, 300, 70000, 5000000000, 4000000000, 1.5, 0.1, Decimal("12345.678"),
     Decimal("1234567890123456789.0123456789"), "plain", True, b"\x00\xff",
     dt.date(2024, 2, 29), dt.datetime(2024, 2, 29, 12, 34, 56, 789012)),
    (2, -128, -32768, -2147483648, -9223372036854775808, 0, -2.75, -1e300, Decimal("-0.001"),
     Decimal("-0.0000000001"), "", False, b"",
     dt.date(1970, 1, 1), dt.datetime(1970, 1, 1, 0, 0, 0)),
    (3, 127, 32767, 2147483647, 9223372036854775807, 4294967295, 0.0, 3.141592653589793,
     Decimal("999999999.999"), Decimal("9999999999999999999999999999.9999999999"),
     "ünïcødé ✓ 中文", True, b"Quiver",
     dt.date(1999, 12, 31), dt.datetime(1999, 12, 31, 23, 59, 59, 999999)),
    (4, 0, 0, 0, 0, 1, 1e-3, 2.5e-10, Decimal("0.000"), Decimal("0E-10"),
     "tab\there, newline\nthere, back\\slash", False, b"\x01\x02\x03",
     dt.date(1900, 1, 1), dt.datetime(2038, 1, 19, 3, 14, 8)),
    (5,) + (None,) * 14,
]
schema = pa.schema([
    ("id", pa.int32(), False), ("i8", pa.int8()), ("i16", pa.int16()), ("i32", pa.int32()),
    ("i64", pa.int64()), ("u32", pa.uint32()), ("f32", pa.float32()), ("f64", pa.float64()),
    ("dec", pa.decimal128(12, 3)), ("big", pa.decimal128(38, 10)), ("s", pa.string()),
    ("b", pa.bool_()), ("bin", pa.binary()), ("d", pa.date32()), ("ts", pa.timestamp("us")),
])
cols = list(zip(*rows))
table = pa.Table.from_arrays([pa.array(c, type=f.type) for c, f in zip(cols, schema)], schema=schema)
pq.write_table(table, Path(__file__).with_name("alltypes.parquet"))
print(table)
