"""Arrow tables into PostgreSQL by COPY BINARY: encoded by pgpq, sent through psycopg.

The ADBC driver's ingest spent 1.2-1.4 s of client CPU per million bench outbox rows (13
columns) encoding them; pgpq (Rust) spends 0.16 s, and the machine as a whole 0.8-1.0
core-seconds less per million rows loaded, the server's work being the same. The rows stored are
the same as the driver's for every type `outbox.pg_type` maps (integration test, value by
value). pgpq takes nanoseconds in no time type: times, timestamps and durations in ns are cast
to µs here, truncated toward zero as the ADBC driver does. Month-day-nano intervals and 256-bit
decimals it cannot encode at all: `copy_ready` says None and the caller ingests through ADBC.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pyarrow as pa


def _micro(dtype: pa.DataType) -> pa.DataType:
    """`dtype` with nanoseconds as microseconds (PostgreSQL keeps µs)."""
    if pa.types.is_timestamp(dtype) and dtype.unit == "ns":
        return pa.timestamp("us", dtype.tz)
    if pa.types.is_time64(dtype) and dtype.unit == "ns":
        return pa.time64("us")
    if pa.types.is_duration(dtype) and dtype.unit == "ns":
        return pa.duration("us")
    return dtype


def copy_ready(table: pa.Table) -> pa.Table | None:
    """`table` as `copy_rows` takes it (nanoseconds cut to microseconds), or None when pgpq
    cannot encode one of its columns."""
    from pgpq import ArrowToPostgresBinaryEncoder

    target = pa.schema([f.with_type(_micro(f.type)) for f in table.schema])
    try:
        ArrowToPostgresBinaryEncoder(target)
    except ValueError:  # "Failed to create encoder: TypeNotSupported ..."
        return None
    # Unsafe: only the sub-microsecond digits go, truncated toward zero, as ADBC does.
    return table if target.equals(table.schema) else table.cast(target, safe=False)


def copy_rows(cur: Any, qualified_table: str, table: pa.Table, batch_rows: int) -> None:
    """Append `table` (from `copy_ready`) to `qualified_table` (quoted) through the
    psycopg cursor `cur`, columns matched by name, encoding and sending `batch_rows` rows at a
    time so that the server parses one batch while the next is encoded."""
    from pgpq import ArrowToPostgresBinaryEncoder

    encoder = ArrowToPostgresBinaryEncoder(table.schema)
    columns = ", ".join('"' + n.replace('"', '""') + '"' for n in table.column_names)
    with cur.copy(f"COPY {qualified_table} ({columns}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(encoder.write_header())
        for batch in table.to_batches(max_chunksize=batch_rows):
            copy.write(encoder.write_batch(batch))
        copy.write(encoder.finish())


@contextmanager
def connect(url: str) -> Iterator[Any]:
    """A psycopg connection (a transaction open until commit) whose cursors take PostgreSQL's
    own `$1` placeholders, as the ADBC driver's do, so that one SQL text serves both."""
    import psycopg

    from etl_express.sources.postgres import libpq_url

    with psycopg.connect(libpq_url(url), cursor_factory=psycopg.RawCursor) as conn:
        yield conn
