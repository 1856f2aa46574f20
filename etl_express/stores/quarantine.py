"""A published batch's quarantined rows (``quarantine.batch_<id>``): read a page, drop.

Written by the processing engine (``etl_express.stages.quarantine``); these rows are raw,
not anonymized, so callers check who may read them (``etl_express.registry.quarantine``).
"""

from __future__ import annotations

from typing import Any, Final

import sqlalchemy as sa

from etl_express.stores.jsonable import to_jsonable

SCHEMA: Final = "quarantine"
INPUT: Final = "_etlx_input"
CHUNK: Final = "_etlx_chunk"
ROW: Final = "_etlx_row"
REASONS: Final = "_etlx_reasons"
SEVERITY: Final = "_etlx_severity"
_META: Final = (INPUT, CHUNK, ROW, REASONS, SEVERITY)


def table_name(batch_id: int) -> str:
    return f"batch_{int(batch_id)}"


def loading_name(batch_id: int) -> str:
    return f"_loading_{int(batch_id)}"


def _qualified(batch_id: int) -> str:
    return f'{SCHEMA}."{table_name(batch_id)}"'


def exists(conn: sa.Connection, batch_id: int) -> bool:
    found = conn.execute(sa.text("SELECT to_regclass(:t)"), {"t": _qualified(batch_id)}).scalar()
    return found is not None


def columns(conn: sa.Connection, batch_id: int) -> list[dict[str, str]]:
    """Value columns (name, PostgreSQL type), without the meta columns."""
    rows = conn.execute(
        sa.text(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(:t) AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum"
        ),
        {"t": _qualified(batch_id)},
    ).all()
    return [{"name": r[0], "type": r[1]} for r in rows if r[0] not in _META]


def _value(value: Any) -> Any:
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return to_jsonable(value)


def read_page(
    conn: sa.Connection, batch_id: int, *, limit: int, offset: int
) -> tuple[int, list[dict[str, Any]]]:
    """(total rows, one page) in load order: input, chunk, position in the chunk."""
    if not exists(conn, batch_id):
        return 0, []
    table = _qualified(batch_id)
    total = int(conn.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one())
    result = conn.execute(
        sa.text(
            f"SELECT * FROM {table} ORDER BY {INPUT}, {CHUNK}, {ROW} LIMIT :limit OFFSET :offset"
        ),
        {"limit": limit, "offset": offset},
    )
    rows = []
    for row in result.mappings():
        reasons = row[REASONS]
        rows.append(
            {
                "input": row[INPUT],
                "chunk": int(row[CHUNK]),
                "row": int(row[ROW]),
                "reasons": [r for r in (reasons or "").split("; ") if r],
                "severity": row[SEVERITY],
                "values": {k: _value(v) for k, v in row.items() if k not in _META},
            }
        )
    return total, rows


def drop(conn: sa.Connection, batch_id: int) -> bool:
    """Drop the batch's quarantine table inside the caller's transaction; True if one existed."""
    if not exists(conn, batch_id):
        return False
    conn.exec_driver_sql(f"DROP TABLE {_qualified(batch_id)}")
    return True
