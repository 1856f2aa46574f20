"""MariaDB/MySQL source over connectorx (already in the lock; Rust driver, Arrow output).

connectorx streams Arrow record batches (`return_type="arrow_stream"`), which keeps memory
bounded. It has no bind parameters, so incremental bounds are rendered by `render_bound` from
*typed* values only (datetime/date/int/Decimal): the text comes from `isoformat()`/`str()` of
those types and cannot carry quotes. The session is read-only with a statement time limit
(`SET SESSION TRANSACTION READ ONLY`, `max_statement_time` on MariaDB,
`max_execution_time` on MySQL) before the query runs.

DECIMAL arrives as decimal128(38, 10) from connectorx: exact for every DECIMAL(p<=38, s<=10).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

import pyarrow as pa

from etl_express.sources.base import Bound, IncrementalWindow, SourceError
from etl_express.sources.chunking import rechunk

_DRIVER_BATCH_ROWS = 65_536


@dataclass(frozen=True)
class MySqlSourceConfig:
    url: str = field(repr=False)  # mysql://user:password@host:port/db
    query: str
    chunk_rows: int = 100_000
    statement_timeout_s: int = 3600
    window: IncrementalWindow | None = None
    flavor: str = "mariadb"  # or "mysql": the timeout variable differs


def render_bound(bound: Bound) -> str:
    if isinstance(bound, bool):
        raise TypeError("boolean bounds are not supported")
    if isinstance(bound, dt.datetime):
        if bound.tzinfo is not None:
            bound = bound.astimezone(dt.UTC).replace(tzinfo=None)
        return "'" + bound.isoformat(sep=" ", timespec="microseconds") + "'"
    if isinstance(bound, dt.date):
        return "'" + bound.isoformat() + "'"
    if isinstance(bound, int | Decimal):
        return str(int(bound)) if isinstance(bound, int) else format(bound, "f")
    raise TypeError(f"unsupported bound type {type(bound).__name__}")


def windowed_query(query: str, window: IncrementalWindow | None) -> str:
    if window is None or (window.lower is None and window.upper is None):
        return query
    col = "`" + window.column + "`"  # IncrementalWindow admits plain identifiers only
    conditions = []
    if window.lower is not None:
        conditions.append(f"{col} >= {render_bound(window.lower)}")
    if window.upper is not None:
        conditions.append(f"{col} < {render_bound(window.upper)}")
    body = query.strip().rstrip(";")  # newlines: the query may end in a -- comment
    return f"SELECT * FROM (\n{body}\n) AS etlx_src WHERE {' AND '.join(conditions)}"


def session_statements(config: MySqlSourceConfig) -> list[str]:
    # Datetimes are compared in UTC: the window bounds are rendered in UTC above.
    statements = ["SET SESSION TRANSACTION READ ONLY", "SET time_zone = '+00:00'"]
    seconds = int(config.statement_timeout_s)
    if config.flavor == "mysql":
        statements.append(f"SET SESSION max_execution_time = {seconds * 1000}")
    else:
        statements.append(f"SET SESSION max_statement_time = {seconds}")
    return statements


class MySqlSource:
    def __init__(self, config: MySqlSourceConfig) -> None:
        self.config = config
        self.chunk_rows = config.chunk_rows

    def _raw_batches(self) -> Iterator[pa.RecordBatch]:
        import connectorx as cx

        reader = cx.read_sql(
            self.config.url,
            windowed_query(self.config.query, self.config.window),
            return_type="arrow_stream",
            batch_size=_DRIVER_BATCH_ROWS,
            pre_execution_query=session_statements(self.config),
        )
        seen = False
        for batch in reader:
            seen = True
            yield batch
        if not seen:
            yield pa.RecordBatch.from_pylist([], schema=reader.schema)

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from rechunk(self._raw_batches(), self.chunk_rows)
        except Exception as exc:
            first = (str(exc).splitlines() or [type(exc).__name__])[0][:200]
            raise SourceError(f"MySQL source failed: {type(exc).__name__}: {first}") from None
