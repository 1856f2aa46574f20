"""Load outbox stage: one typed PostgreSQL table per batch in schema `outbox`.

Chunks are loaded (COPY BINARY: pgpq's encoding, or ADBC ingest for the few types pgpq lacks,
see copy_binary) into a hidden table ``outbox._loading_<id>`` with an extra ``_etlx_chunk``
column. Each chunk load is one transaction that also writes a row to the ledger
``outbox._etlx_chunk_loads``; a retried chunk finds its ledger row and replaces its earlier
rows in the same transaction, so a retry never duplicates and a failed load leaves nothing
behind.

`finalize_batch` runs when every chunk is loaded, in one transaction: check the ledger holds
every expected chunk, drop the chunk column (O(1) in PostgreSQL), rename the table to
``outbox.batch_<id>``, and move the batch `processing → ready_for_review` (or `blocked` when
the privacy gate failed) with row count, schema and privacy report, audited. Until that
commits, no reviewer can see the batch; after it, everything is visible at once.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from etl_express.stages.copy_binary import connect as copy_connect
from etl_express.stages.copy_binary import copy_ready, copy_rows
from etl_express.stages.errors import SafeMessageError

SCHEMA = "outbox"
LEDGER = "_etlx_chunk_loads"
CHUNK_COLUMN = "_etlx_chunk"

_LEDGER_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.{LEDGER} (
    table_name text NOT NULL,
    chunk integer NOT NULL,
    row_count bigint NOT NULL,
    loaded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (table_name, chunk)
)
"""


def table_name(batch_id: int) -> str:
    return f"batch_{int(batch_id)}"


def loading_name(batch_id: int) -> str:
    return f"_loading_{int(batch_id)}"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def pg_type(dtype: pa.DataType) -> str:
    """PostgreSQL column type for an Arrow type (decimal keeps precision and scale)."""
    if pa.types.is_decimal(dtype):
        return f"numeric({dtype.precision}, {dtype.scale})"
    if pa.types.is_timestamp(dtype):
        return "timestamptz" if dtype.tz else "timestamp"
    if pa.types.is_dictionary(dtype):
        return pg_type(dtype.value_type)
    if pa.types.is_null(dtype):  # a column that is null in every row (e.g. SELECT NULL AS x)
        return "text"
    # polars writes a Time as time64[ns] and a Duration in its own unit (now() - created_at
    # in a Python transformation); ADBC ingests every unit, and month_day_nano (DuckDB's and
    # ADBC's interval), into these (sub-microsecond digits dropped: PostgreSQL keeps µs).
    if pa.types.is_time(dtype):
        return "time"
    if pa.types.is_duration(dtype) or dtype == pa.month_day_nano_interval():
        return "interval"
    simple = {
        pa.bool_(): "boolean",
        pa.int8(): "smallint",
        pa.int16(): "smallint",
        pa.int32(): "integer",
        pa.int64(): "bigint",
        pa.uint8(): "smallint",
        pa.uint16(): "integer",
        pa.uint32(): "bigint",
        pa.float32(): "real",
        pa.float64(): "double precision",
        pa.string(): "text",
        pa.large_string(): "text",
        pa.string_view(): "text",
        pa.binary(): "bytea",
        pa.large_binary(): "bytea",
        pa.date32(): "date",
    }
    if dtype in simple:
        return simple[dtype]
    raise SafeMessageError(f"column type {dtype} cannot be stored in the outbox")


# Rows per record batch handed to the driver. It sends a table to PostgreSQL one record batch
# at a time, encoding the next while the server parses the last: a chunk as one 100k-row
# batch is encoded first and parsed after, both sides idle in turn (1M bench rows in ten
# 100k-row loads: 2.9 s; as 10k-row batches 1.6 s, the same CPU; 5k-25k all measured alike).
INGEST_BATCH_ROWS = 10_000


def ingest(cur: Any, schema: str, name: str, table: pa.Table) -> None:
    """Append `table` to `<schema>.<name>` by COPY BINARY (ADBC ingest), in record batches of
    INGEST_BATCH_ROWS rows (zero-copy slices)."""
    batches = table.to_batches(max_chunksize=INGEST_BATCH_ROWS)
    cur.adbc_ingest(
        name, pa.Table.from_batches(batches, table.schema), mode="append", db_schema_name=schema
    )


def _plain(table: pa.Table) -> pa.Table:
    """Types the ingest path takes: views and large strings become plain strings."""
    fields = []
    for f in table.schema:
        dtype = f.type
        if pa.types.is_dictionary(dtype):
            dtype = dtype.value_type
        if dtype in (pa.large_string(), pa.string_view()) or pa.types.is_null(dtype):
            dtype = pa.string()
        fields.append(pa.field(f.name, dtype, f.nullable))
    target = pa.schema(fields)
    return table if target.equals(table.schema) else table.cast(target)


def columns_of(schema: pa.Schema) -> list[dict[str, Any]]:
    return [{"name": f.name, "type": pg_type(f.type), "nullable": f.nullable} for f in schema]


def _create_sql(name: str, schema: pa.Schema) -> str:
    cols = [f"{_quote(f.name)} {pg_type(f.type)}" for f in schema]
    cols.append(f"{CHUNK_COLUMN} integer NOT NULL")
    return f"CREATE TABLE IF NOT EXISTS {SCHEMA}.{_quote(name)} ({', '.join(cols)})"


_DATABASES: dict[str, Any] = {}
_DATABASES_LOCK = threading.Lock()


def _adbc_connect(url: str) -> Any:
    """A new ADBC connection (autocommit off) to the outbox database.

    The driver's database object is kept per URL for the life of the process: creating one
    reads PostgreSQL's type catalog into a resolver, 60-75 ms of CPU each time (measured on
    the bench's outbox), which every chunk loaded by a process would pay again. Connections
    themselves are not pooled: each load has its own, closed when it is done."""
    import adbc_driver_manager
    import adbc_driver_postgresql
    from adbc_driver_manager.dbapi import Connection, _SharedDatabase

    from etl_express.sources.postgres import libpq_url

    uri = libpq_url(url)
    with _DATABASES_LOCK:
        shared = _DATABASES.get(uri)
        if shared is None:
            shared = _DATABASES[uri] = _SharedDatabase(adbc_driver_postgresql.connect(uri))
    conn = adbc_driver_manager.AdbcConnection(shared._db)
    return Connection(shared, conn, autocommit=False)


def _ensure_tables(conn: Any, name: str, schema: pa.Schema) -> None:
    """Create the ledger and the loading table once, even with chunks loading in parallel."""
    with conn.cursor() as cur:
        cur.execute("SELECT pg_advisory_xact_lock(hashtext($1))", (f"etlx-outbox:{name}",))
        cur.fetchall()
        cur.execute(_LEDGER_DDL)
        cur.execute(_create_sql(name, schema))
    conn.commit()


def load_chunk(url: str, batch_id: int, chunk: int, data: pa.Table | pa.RecordBatch) -> int:
    """Load one chunk into the batch's hidden table; idempotent per (batch, chunk)."""
    table = _plain(pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data)
    name = loading_name(batch_id)
    if CHUNK_COLUMN in table.column_names:
        raise SafeMessageError(f"column name {CHUNK_COLUMN} is reserved")
    chunk_column = pa.repeat(pa.scalar(chunk, pa.int32()), table.num_rows)
    tagged = table.append_column(CHUNK_COLUMN, chunk_column)
    # pgpq's COPY where it encodes every column (copy_binary), else the ADBC driver's ingest:
    # the same SQL runs on either connection.
    ready = copy_ready(tagged)
    with _adbc_connect(url) if ready is None else copy_connect(url) as conn:
        _ensure_tables(conn, name, table.schema)
        with conn.cursor() as cur:
            # The commit does not wait for the chunk's WAL to reach the disk: while the disk
            # was slow, two chunks committing at once left both cores idle in iowait (1M bench
            # rows: 1.4-2.3 core-seconds, against about 0.2 without the wait; with a fast
            # disk both measured the same). Nothing published depends on that wait: the
            # ledger row commits with the rows, so a server crash loses both or neither, and
            # finalize counts the ledger before it publishes. Its commit (with the server's
            # own setting) comes after the chunks' commits in the WAL: once it is on disk, so
            # are they.
            cur.execute("SET LOCAL synchronous_commit = off")
            cur.execute(
                "SELECT pg_advisory_xact_lock(hashtext($1), $2::integer)",
                (f"etlx-outbox:{name}", chunk),
            )
            cur.fetchall()
            cur.execute(
                f"DELETE FROM {SCHEMA}.{LEDGER} WHERE table_name = $1 AND chunk = $2 "
                "RETURNING row_count",
                (name, chunk),
            )
            if cur.fetchall():  # a retry: replace what the earlier attempt committed
                cur.execute(
                    f"DELETE FROM {SCHEMA}.{_quote(name)} WHERE {CHUNK_COLUMN} = $1", (chunk,)
                )
            if table.num_rows and ready is None:
                ingest(cur, SCHEMA, name, tagged)
            elif table.num_rows:
                copy_rows(cur, f"{SCHEMA}.{_quote(name)}", ready, INGEST_BATCH_ROWS)
            cur.execute(
                f"INSERT INTO {SCHEMA}.{LEDGER} (table_name, chunk, row_count) VALUES ($1, $2, $3)",
                (name, chunk, table.num_rows),
            )
        conn.commit()
    return table.num_rows


@dataclass
class FinalizedBatch:
    batch_id: int
    table_name: str
    state: str
    row_count: int
    columns: list[dict[str, Any]] = field(default_factory=list)


def _ledger(conn: Any, name: str) -> tuple[int, int]:
    import sqlalchemy as sa

    exists = conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": f"{SCHEMA}.{LEDGER}"}).scalar()
    if exists is None:
        return 0, 0
    row = conn.execute(
        sa.text(
            f"SELECT count(*), coalesce(sum(row_count), 0) FROM {SCHEMA}.{LEDGER} "
            "WHERE table_name = :t"
        ),
        {"t": name},
    ).one()
    return int(row[0]), int(row[1])


def _table_columns(conn: Any, name: str) -> list[dict[str, Any]]:
    import sqlalchemy as sa

    rows = conn.execute(
        sa.text(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod), NOT a.attnotnull "
            "FROM pg_attribute a WHERE a.attrelid = to_regclass(:t) AND a.attnum > 0 "
            "AND NOT a.attisdropped ORDER BY a.attnum"
        ),
        {"t": f"{SCHEMA}.{_quote(name)}"},
    ).all()
    return [{"name": r[0], "type": r[1], "nullable": bool(r[2])} for r in rows]


def group_sizes_sql(groups: str) -> str:
    """k-anonymity's figures over `groups`, a query giving each group's row count as `n`:
    smallest group, groups of one row, groups, rows (in that order, see `k_anonymity_of`)."""
    return f"SELECT min(n), count(*) FILTER (WHERE n = 1), count(*), sum(n) FROM ({groups}) AS g"


def k_anonymity_of(row: Sequence[Any]) -> dict[str, Any]:
    """The report's k-anonymity from a `group_sizes_sql` row."""
    k, unique, groups, total = row
    unique, total = int(unique or 0), int(total or 0)
    return {
        "k": None if k is None else int(k),
        "unique_rows": unique,
        "unique_share": round(unique / total, 6) if total else 0.0,
        "groups": int(groups or 0),
    }


def k_anonymity_sql(conn: Any, name: str, quasi_identifiers: Sequence[str]) -> dict[str, Any]:
    """k over the loaded batch, computed by PostgreSQL (the batch may not fit in memory)."""
    import sqlalchemy as sa

    if not quasi_identifiers:
        return {"k": None, "unique_rows": 0, "unique_share": 0.0, "groups": 0}
    cols = ", ".join(_quote(c) for c in quasi_identifiers)
    groups = f"SELECT count(*) AS n FROM {SCHEMA}.{_quote(name)} GROUP BY {cols}"
    return k_anonymity_of(conn.execute(sa.text(group_sizes_sql(groups))).one())


def finalize_batch(
    url: str,
    batch_id: int,
    expected_chunks: int,
    *,
    privacy_report: Mapping[str, Any] | None = None,
    quasi_identifiers: Sequence[str] = (),
    blocked_reason: str | None = None,
    expires_at: dt.datetime | None = None,
    k_anonymity: Mapping[str, Any] | None = None,
) -> FinalizedBatch:
    """Publish a completely loaded batch in one transaction (see module docstring).
    `k_anonymity`: already computed from the chunks (else PostgreSQL computes it)."""
    from etl_express.stores import batches
    from etl_express.stores.audit import SYSTEM, audited
    from etl_express.stores.db import make_engine

    engine = make_engine(url)
    try:
        with audited(engine, SYSTEM) as tx:
            batch = batches.get_batch(tx.conn, batch_id, for_update=True)
            if batch is None:
                raise SafeMessageError(f"batch {batch_id} does not exist")
            if batch.state != "processing":
                if batch.table_name == table_name(batch_id):  # an earlier attempt committed
                    tx.nothing_changed()
                    return FinalizedBatch(
                        batch_id,
                        batch.table_name,
                        batch.state,
                        batch.row_count,
                        _as_columns(batch.schema_),
                    )
                raise SafeMessageError(f"batch {batch_id} is {batch.state}, not processing")
            return _publish(
                tx, batch, expected_chunks, privacy_report, quasi_identifiers,
                blocked_reason, expires_at, k_anonymity,
            )  # fmt: skip
    finally:
        engine.dispose()


def _as_columns(value: object) -> list[dict[str, Any]]:
    return list(value) if isinstance(value, list) else []


def _publish(
    tx: Any,
    batch: Any,
    expected_chunks: int,
    privacy_report: Mapping[str, Any] | None,
    quasi_identifiers: Sequence[str],
    blocked_reason: str | None,
    expires_at: dt.datetime | None,
    k_anonymity: Mapping[str, Any] | None = None,
) -> FinalizedBatch:
    from etl_express.stages.quarantine import publish as publish_quarantine
    from etl_express.stores import batches

    conn = tx.conn
    loading, final = loading_name(batch.id), table_name(batch.id)
    chunks, rows = _ledger(conn, loading)
    if chunks != expected_chunks:
        raise SafeMessageError(f"only {chunks} of {expected_chunks} chunks are loaded")
    conn.exec_driver_sql(f"ALTER TABLE {SCHEMA}.{_quote(loading)} DROP COLUMN {CHUNK_COLUMN}")
    conn.exec_driver_sql(f"ALTER TABLE {SCHEMA}.{_quote(loading)} RENAME TO {_quote(final)}")
    conn.exec_driver_sql(f"DELETE FROM {SCHEMA}.{LEDGER} WHERE table_name = %(t)s", {"t": loading})
    columns = _table_columns(conn, final)
    report = dict(privacy_report or {})
    quarantine = publish_quarantine(conn, batch.id)
    if quarantine is not None:
        report["quarantine"] = quarantine
    if quasi_identifiers:
        report["k_anonymity"] = (
            dict(k_anonymity) if k_anonymity else k_anonymity_sql(conn, final, quasi_identifiers)
        )
        report["quasi_identifiers"] = list(quasi_identifiers)
    to_state = "blocked" if blocked_reason else "ready_for_review"
    fields: dict[str, Any] = {
        "table_name": final,
        "row_count": rows,
        "schema": columns,
        "privacy_report": report or None,
    }
    if blocked_reason:
        fields["blocked_reason"] = blocked_reason
    if expires_at is not None:
        fields["expires_at"] = expires_at
    updated = batches.transition(tx, batch, to_state, **fields)
    return FinalizedBatch(batch.id, final, updated.state, rows, columns)


def discard_loading(url: str, batch_id: int) -> None:
    """Drop a batch's hidden tables (outbox and quarantine) and ledger rows (a failed or
    cancelled run)."""
    from etl_express.stages.quarantine import discard

    name = loading_name(batch_id)
    with _adbc_connect(url) as conn, conn.cursor() as cur:
        cur.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{_quote(name)}")
        discard(cur, batch_id)
        cur.execute(f"SELECT to_regclass('{SCHEMA}.{LEDGER}') IS NOT NULL")
        if cur.fetchone()[0]:
            cur.execute(f"DELETE FROM {SCHEMA}.{LEDGER} WHERE table_name = $1", (name,))
        conn.commit()
