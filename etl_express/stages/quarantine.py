"""Quarantined rows of a run, kept in PostgreSQL so a data engineer can inspect them.

The field rules stage stages the rows it quarantines (raw values as they arrived, with
``_etlx_reasons`` and ``_etlx_severity``) per input and chunk; staging is removed when the run
ends. Before the outbox batch is published, `load_quarantine` copies every staged part into a
hidden table ``quarantine._loading_<id>`` in one transaction that first drops what an earlier
attempt loaded, so a retry replaces rather than duplicates. `publish` runs inside the outbox's
publishing transaction (``outbox.finalize_batch``) and renames it to ``quarantine.batch_<id>``:
the batch and its quarantine become visible together, and a run that fails leaves only the
hidden table, which the run-end cleanup drops (``outbox.discard_loading``).

One table holds every input, so its columns are the union of the inputs' columns: a column
whose type differs between inputs or chunks is stored as text, one that is null everywhere as
text. Quarantined rows are raw personal data: only admins read them, audited
(``registry.quarantine``), and the table is dropped when the batch expires or is cancelled.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from etl_express.stages.errors import SafeMessageError
from etl_express.stages.outbox import _adbc_connect, _plain, _quote, ingest, pg_type
from etl_express.stores.quarantine import CHUNK as CHUNK_COLUMN
from etl_express.stores.quarantine import INPUT, REASONS, ROW, SCHEMA, SEVERITY, loading_name
from etl_express.stores.quarantine import table_name as published_name

META = (INPUT, CHUNK_COLUMN, ROW, REASONS, SEVERITY)
_META_TYPES = (pa.string(), pa.int32(), pa.int64(), pa.string(), pa.string())


@dataclass(frozen=True)
class Part:
    """One staged quarantine chunk of one input."""

    input: str
    chunk: int
    schema: pa.Schema
    rows: int


def _column_type(name: str, types: list[pa.DataType]) -> pa.DataType:
    typed = {t for t in types if not pa.types.is_null(t)}
    dtype = typed.pop() if len(typed) == 1 else pa.string()
    try:
        pg_type(dtype)
    except SafeMessageError:
        raise SafeMessageError(
            f"quarantined column {name!r} has type {dtype}, which cannot be stored"
        ) from None
    return dtype


def target_schema(parts: Sequence[Part]) -> pa.Schema:
    """Meta columns, then the union of the parts' value columns in first-seen order."""
    types: dict[str, list[pa.DataType]] = {}
    for part in parts:
        for f in _plain(part.schema.empty_table()).schema:
            if f.name in (INPUT, CHUNK_COLUMN, ROW):
                raise SafeMessageError(f"column name {f.name} is reserved")
            if f.name not in (REASONS, SEVERITY):
                types.setdefault(f.name, []).append(f.type)
    fields = [pa.field(n, t) for n, t in zip(META, _META_TYPES, strict=True)]
    fields += [pa.field(name, _column_type(name, ts)) for name, ts in types.items()]
    return pa.schema(fields)


def _conform(part: Part, data: pa.Table, target: pa.Schema) -> pa.Table:
    data = _plain(data)
    n = data.num_rows
    columns: list[pa.Array | pa.ChunkedArray] = [
        pa.array([part.input] * n, pa.string()),
        pa.array([part.chunk] * n, pa.int32()),
        pa.array(range(n), pa.int64()),
    ]
    for f in list(target)[3:]:
        if f.name in data.column_names:
            column = data.column(f.name)
            columns.append(column if column.type == f.type else column.cast(f.type))
        else:
            columns.append(pa.nulls(n, f.type))
    return pa.Table.from_arrays(columns, schema=target)


def _create_sql(name: str, schema: pa.Schema) -> str:
    cols = [f"{_quote(f.name)} {pg_type(f.type)}" for f in schema]
    return f"CREATE TABLE {SCHEMA}.{_quote(name)} ({', '.join(cols)})"


def _ensure_schema(url: str) -> None:
    with _adbc_connect(url) as conn, conn.cursor() as cur:
        # CREATE SCHEMA IF NOT EXISTS can still collide when two runs create it at once.
        cur.execute("SELECT pg_advisory_xact_lock(hashtext('etlx-quarantine-schema'))")
        cur.fetchall()
        cur.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
        conn.commit()


def load_quarantine(
    url: str, batch_id: int, parts: Sequence[Part], read: Callable[[Part], pa.Table]
) -> int:
    """Replace the batch's hidden quarantine table with `parts`; returns the rows loaded.

    No quarantined row, no table (and whatever an earlier attempt loaded is dropped).
    """
    name = loading_name(batch_id)
    filled = [p for p in parts if p.rows]
    target = target_schema(filled) if filled else None
    _ensure_schema(url)
    rows = 0
    with _adbc_connect(url) as conn:
        with conn.cursor() as cur:
            cur.execute("SELECT pg_advisory_xact_lock(hashtext($1))", (f"etlx-quarantine:{name}",))
            cur.fetchall()
            cur.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{_quote(name)}")
            if target is not None:
                cur.execute(_create_sql(name, target))
                for part in filled:
                    table = _conform(part, read(part), target)
                    ingest(cur, SCHEMA, name, table)
                    rows += table.num_rows
        conn.commit()
    return rows


def publish(conn: Any, batch_id: int) -> dict[str, Any] | None:
    """Inside the outbox's publishing transaction (SQLAlchemy connection): make the hidden
    quarantine table the batch's, and return its summary for the batch report (None when the
    run loaded no quarantine)."""
    import sqlalchemy as sa

    loading, final = loading_name(batch_id), published_name(batch_id)
    found = conn.execute(
        sa.text("SELECT to_regclass(:t)"), {"t": f"{SCHEMA}.{_quote(loading)}"}
    ).scalar()
    if found is None:
        return None
    conn.exec_driver_sql(f"DROP TABLE IF EXISTS {SCHEMA}.{_quote(final)}")
    conn.exec_driver_sql(f"ALTER TABLE {SCHEMA}.{_quote(loading)} RENAME TO {_quote(final)}")
    table = f"{SCHEMA}.{_quote(final)}"
    by_input = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            sa.text(f"SELECT {INPUT}, count(*) FROM {table} GROUP BY 1 ORDER BY 1")
        ).all()
    }
    reasons = {
        str(r[0]): int(r[1])
        for r in conn.execute(
            sa.text(
                f"SELECT r, count(*) FROM {table}, "
                f"unnest(string_to_array({REASONS}, '; ')) AS r GROUP BY 1 ORDER BY 2 DESC, 1"
            )
        ).all()
    }
    return {
        "rows": sum(by_input.values()),
        "table": f"{SCHEMA}.{final}",
        "by_input": by_input,
        "reasons": reasons,
    }


def discard(cur: Any, batch_id: int) -> None:
    """Drop the hidden quarantine table of an unpublished batch (ADBC cursor, caller commits)."""
    cur.execute(f"DROP TABLE IF EXISTS {SCHEMA}.{_quote(loading_name(batch_id))}")
