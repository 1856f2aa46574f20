"""COPY BINARY by pgpq against the ADBC driver's ingest, on real PostgreSQL: for every Arrow type
the outbox stores, the same values end up in the table; what pgpq cannot encode goes through
ADBC, and `load_chunk` stores it all the same."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import psycopg
import pyarrow as pa
import pytest

from etl_express.stages.copy_binary import connect, copy_ready, copy_rows
from etl_express.stages.outbox import _adbc_connect, _plain, load_chunk, loading_name, pg_type

from .test_outbox_load import libpq, new_batch

pytestmark = pytest.mark.integration

UTC = dt.UTC
# Each column: edge values of its type and a null.
COLUMNS: dict[str, pa.Array] = {
    "i8": pa.array([1, -128, 127, None], pa.int8()),
    "i16": pa.array([1, -32768, 32767, None], pa.int16()),
    "i32": pa.array([1, -(2**31), 2**31 - 1, None], pa.int32()),
    "i64": pa.array([1, -(2**63), 2**63 - 1, None], pa.int64()),
    "u8": pa.array([0, 255, 1, None], pa.uint8()),
    "u16": pa.array([0, 65535, 1, None], pa.uint16()),
    "u32": pa.array([0, 2**32 - 1, 1, None], pa.uint32()),
    "f32": pa.array([1.5, float("nan"), float("inf"), None], pa.float32()),
    "f64": pa.array([0.1, -0.0, float("-inf"), None], pa.float64()),
    "text": pa.array(["", "Анна Пётровна", 'a\tb\nc\\ "q"', None], pa.string()),
    "large_text": pa.array(["x", "ü", "", None], pa.large_string()),
    "text_view": pa.array(["x", "ü", "", None], pa.string_view()),
    "dictionary": pa.array(["a", "b", "a", None]).dictionary_encode(),
    "bytes": pa.array([b"", b"\x00\xff", b"abc", None], pa.binary()),
    "large_bytes": pa.array([b"", b"\x00\xff", b"abc", None], pa.large_binary()),
    "day": pa.array([dt.date(1900, 1, 1), dt.date(2100, 12, 31), dt.date(2000, 1, 1), None]),
    "time_us": pa.array([dt.time(0), dt.time(23, 59, 59, 999999), dt.time(12), None]),
    "time_ns": pa.array([0, 86_399_999_999_999, 1_500, None], pa.time64("ns")),
    "time_ms": pa.array([0, 86_399_999, 1, None], pa.time32("ms")),
    "at_utc": pa.array(
        [
            dt.datetime(1970, 1, 1, tzinfo=UTC),
            dt.datetime(1999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC),
            dt.datetime(2024, 5, 1, tzinfo=UTC),
            None,
        ],
        pa.timestamp("us", "UTC"),
    ),
    "at_ns_moscow": pa.array(
        [0, 1_700_000_000_123_456_789, -1_500, None], pa.timestamp("ns", "Europe/Moscow")
    ),
    "at_ms": pa.array([0, 1_700_000_000_123, -1_000, None], pa.timestamp("ms")),
    "at_s": pa.array([0, 1_700_000_000, -1, None], pa.timestamp("s")),
    "took_us": pa.array([0, -5_000_000, 86_400_000_000 * 40, None], pa.duration("us")),
    "took_ns": pa.array([0, 1_500, -2_500_000_001, None], pa.duration("ns")),
    "took_s": pa.array([0, 5, -7, None], pa.duration("s")),
    "amount": pa.array(
        [Decimal("0.00"), Decimal("-1234567890.12"), Decimal("0.01"), None], pa.decimal128(12, 2)
    ),
    "wide": pa.array(
        [
            Decimal("1234567890123456789012345678.0123456789"),
            Decimal("-0.0000000001"),
            Decimal("0E-10"),
            None,
        ],
        pa.decimal128(38, 10),
    ),
    "whole": pa.array(
        [Decimal("99999"), Decimal("-10000"), Decimal("0"), None], pa.decimal128(5, 0)
    ),
    "flag": pa.array([True, False, True, None]),
    "nothing": pa.nulls(4),
}
# pgpq has no encoding for these: `copy_ready` refuses them and loads go through ADBC.
NOT_ENCODABLE: dict[str, pa.Array] = {
    "interval": pa.array(
        [(1, 2, 3_000), (0, -1, -1_000), (0, 0, 0), None], pa.month_day_nano_interval()
    ),
    "huge": pa.array([Decimal("1.5"), Decimal("-3"), Decimal("2"), None], pa.decimal256(40, 2)),
}


def _stored(url: str, table: str) -> list[str]:
    """The rows in PostgreSQL's own text form (exact for every type; NaN equals NaN)."""
    with psycopg.connect(libpq(url)) as conn:
        rows = conn.execute(f"SELECT t::text FROM {table} AS t ORDER BY ctid").fetchall()
        return [row[0] for row in rows]


def _create(url: str, name: str, schema: pa.Schema) -> None:
    columns = ", ".join(f'"{f.name}" {pg_type(f.type)}' for f in schema)
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(f"CREATE TABLE {name} ({columns})")


@pytest.mark.parametrize("column", sorted(COLUMNS))
def test_pgpq_stores_what_the_adbc_driver_stores(etlx_db: str, column: str) -> None:
    table = _plain(pa.table({column: COLUMNS[column]}))
    ready = copy_ready(table)
    assert ready is not None
    _create(etlx_db, "copy_by_adbc", table.schema)
    _create(etlx_db, "copy_by_pgpq", table.schema)
    with _adbc_connect(etlx_db) as conn, conn.cursor() as cur:
        cur.adbc_ingest("copy_by_adbc", table, mode="append")
        conn.commit()
    with connect(etlx_db) as conn, conn.cursor() as cur:
        copy_rows(cur, "copy_by_pgpq", ready, batch_rows=2)
        conn.commit()
    by_adbc = _stored(etlx_db, "copy_by_adbc")
    assert len(by_adbc) == 4 and by_adbc[3] == "()"
    assert _stored(etlx_db, "copy_by_pgpq") == by_adbc


def test_a_chunk_with_every_type_loads_by_pgpq_or_by_adbc_alike(etlx_db: str) -> None:
    fast = pa.table(COLUMNS)
    mixed = pa.table({**COLUMNS, **NOT_ENCODABLE})
    assert copy_ready(_plain(fast)) is not None
    assert all(copy_ready(pa.table({"v": a})) is None for a in NOT_ENCODABLE.values())
    fast_batch, mixed_batch = new_batch(etlx_db), new_batch(etlx_db)
    assert load_chunk(etlx_db, fast_batch, 0, fast) == 4
    assert load_chunk(etlx_db, mixed_batch, 0, mixed) == 4
    # A retry of the chunk replaces its rows whichever way it loads.
    assert load_chunk(etlx_db, fast_batch, 0, fast) == 4
    by_pgpq = _stored(etlx_db, f'outbox."{loading_name(fast_batch)}"')
    by_adbc = _stored(etlx_db, f'outbox."{loading_name(mixed_batch)}"')
    assert len(by_pgpq) == len(by_adbc) == 4
    with psycopg.connect(libpq(etlx_db)) as conn:
        # The columns both tables have, each as text (the chunk column is the last of both).
        names = ", ".join(f'"{c}"::text' for c in COLUMNS)
        fast_rows, mixed_rows = (
            conn.execute(f'SELECT {names} FROM outbox."{loading_name(b)}" ORDER BY ctid').fetchall()
            for b in (fast_batch, mixed_batch)
        )
    assert fast_rows == mixed_rows
