"""PostgreSQL source over ADBC: the server streams COPY BINARY, the driver builds Arrow batches.

Measured on 1M rows x 12 columns (bench table): ADBC → Arrow streamed in 16 MiB batches took
about 1.3x the time of a bare COPY BINARY that only counts bytes; decoding COPY BINARY
ourselves in Python would cost far more than that difference, so ADBC is the path.

- Read-only and bounded in time: the session starts with ``default_transaction_read_only=on``
  and ``statement_timeout`` set through libpq ``options``, before any SQL is sent.
- Incremental windows: ADBC only streams (COPY) when a query has no bind parameters; with
  parameters it materialises the whole result in one batch. So the bounds are *bound* into
  session settings with ``set_config($1, $2, false)`` and the streamed query reads them with
  ``current_setting(...)::<type>`` — values never become SQL text.
- ``numeric`` arrives as a string-backed extension type; it is cast to ``decimal128`` with the
  column's own precision/scale (from the field's typmod). A value that does not fit raises
  instead of rounding. The driver's own numeric-to-text conversion cost 0.33 s of client CPU
  per million values, the server's ``::text`` 0.06 s more on the server than sending binary:
  so when the result has numeric columns (learnt from the prepared statement's schema), the
  query is wrapped to select them as text (the same strings, checked on 900k values) and
  cast with the typmods from that schema. Bench extract: 1.23 -> 0.95 s client CPU per 1M rows.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import quote, urlsplit, urlunsplit

import pyarrow as pa
import pyarrow.compute as pc

from etl_express.sources.base import Bound, IncrementalWindow, SourceError
from etl_express.sources.chunking import rechunk

_BATCH_HINT_BYTES = 16 << 20
# Unconstrained `numeric` has no typmod; 38 digits with scale 10 holds every value a
# `numeric(p<=38, s<=10)` can, and a cast that would lose digits fails loudly.
_FALLBACK_DECIMAL = pa.decimal128(38, 10)


@dataclass(frozen=True)
class PostgresSourceConfig:
    url: str = field(repr=False)  # libpq URL; may contain a password
    query: str
    chunk_rows: int = 100_000
    statement_timeout_s: int = 3600
    window: IncrementalWindow | None = None
    # (setting, text) pairs bound with set_config before the query (see sources.templates)
    settings: tuple[tuple[str, str], ...] = ()


def libpq_url(url: str) -> str:
    """ADBC takes libpq URLs; SQLAlchemy ones name a driver (``postgresql+psycopg://``)."""
    scheme, sep, rest = url.partition("://")
    return f"{scheme.split('+', 1)[0]}{sep}{rest}" if sep else url


def _session_url(url: str, timeout_s: int) -> str:
    options = f"-c default_transaction_read_only=on -c statement_timeout={timeout_s * 1000}"
    parts = urlsplit(url)
    extra = "options=" + quote(options)
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, parts.fragment))


def _sql_type(bound: Bound) -> str:
    if isinstance(bound, dt.datetime):
        return "timestamptz" if bound.tzinfo is not None else "timestamp"
    if isinstance(bound, dt.date):
        return "date"
    if isinstance(bound, int):
        return "bigint"
    if isinstance(bound, Decimal):
        return "numeric"
    raise TypeError(f"unsupported bound type {type(bound).__name__}")


def _quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def windowed_query(query: str, window: IncrementalWindow | None) -> tuple[str, list[str]]:
    """The streamed query and the text values to bind into session settings, in order."""
    if window is None:
        return query, []
    conditions: list[str] = []
    values: list[str] = []
    col = _quote_ident(window.column)
    for name, op, bound in (("etlx.lower", ">=", window.lower), ("etlx.upper", "<", window.upper)):
        if bound is None:
            continue
        conditions.append(f"{col} {op} current_setting('{name}')::{_sql_type(bound)}")
        values.extend(
            [name, bound.isoformat() if not isinstance(bound, int | Decimal) else str(bound)]
        )
    if not conditions:
        return query, []
    # newlines: the query may end in a -- comment
    body = query.strip().rstrip(";")
    return f"SELECT * FROM (\n{body}\n) AS etlx_src WHERE {' AND '.join(conditions)}", values


def _decimal_type(field_: pa.Field) -> pa.DataType:
    typmod = int((field_.metadata or {}).get(b"POSTGRESQL:typmod", b"-1"))
    if typmod < 4:
        return _FALLBACK_DECIMAL
    precision, scale = ((typmod - 4) >> 16) & 0xFFFF, (typmod - 4) & 0xFFFF
    return pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)


def _is_pg_numeric(field_: pa.Field) -> bool:
    return (field_.metadata or {}).get(b"POSTGRESQL:type") == b"numeric"


def normalize_batch(
    batch: pa.RecordBatch, decimals: dict[str, pa.DataType] | None = None
) -> pa.RecordBatch:
    """Turn driver-specific columns into plain Arrow types (numeric → decimal); `decimals`
    names columns that arrive as text and their decimal types (see `numeric_as_text`)."""
    columns: list[pa.Array] = []
    fields: list[pa.Field] = []
    for field_, column in zip(batch.schema, batch.columns, strict=True):
        target = (decimals or {}).get(field_.name)
        if target is None and _is_pg_numeric(field_):
            target = _decimal_type(field_)
        if target is not None:
            storage = column.storage if isinstance(column, pa.ExtensionArray) else column
            column = pc.cast(storage, target)
            field_ = pa.field(field_.name, target, field_.nullable)
        columns.append(column)
        fields.append(pa.field(field_.name, field_.type, field_.nullable))
    return pa.RecordBatch.from_arrays(columns, schema=pa.schema(fields))


def numeric_as_text(query: str, schema: pa.Schema) -> tuple[str, dict[str, pa.DataType]]:
    """`query` wrapped to select its numeric columns as text, and their decimal types; the
    query itself when it has none (or repeats a column name, which a wrapper cannot pick)."""
    numeric = {f.name: _decimal_type(f) for f in schema if _is_pg_numeric(f)}
    if not numeric or len(set(schema.names)) != len(schema.names):
        return query, {}
    columns = ", ".join(
        f"{_quote_ident(name)}::text AS {_quote_ident(name)}" if name in numeric
        else _quote_ident(name)
        for name in schema.names
    )  # fmt: skip
    # newlines: the query may end in a -- comment
    return f"SELECT {columns} FROM (\n{query.strip().rstrip(';')}\n) AS etlx_numeric", numeric


def _with_numeric_as_text(
    cur: Any, query: str, error: type[Exception]
) -> tuple[str, dict[str, pa.DataType]]:
    """`numeric_as_text` for `query`, or `query` itself if the wrapped query does not prepare
    (a query that is no valid subquery runs as written)."""
    wrapped, decimals = numeric_as_text(query, cur.adbc_execute_schema(query))
    if not decimals:
        return query, {}
    try:
        cur.adbc_execute_schema(wrapped)
    except error:
        return query, {}
    return wrapped, decimals


class PostgresSource:
    def __init__(self, config: PostgresSourceConfig) -> None:
        self.config = config
        self.chunk_rows = config.chunk_rows

    def _raw_batches(self) -> Iterator[pa.RecordBatch]:
        import adbc_driver_postgresql.dbapi as adbc

        # The driver streams through COPY (<query>) TO STDOUT: a query ending in a -- comment
        # would comment out its closing parenthesis without the newline.
        query, window_settings = windowed_query(self.config.query, self.config.window)
        query = query.rstrip() + "\n"
        settings = [v for pair in self.config.settings for v in pair] + window_settings
        url = _session_url(libpq_url(self.config.url), self.config.statement_timeout_s)
        with adbc.connect(url, autocommit=True) as conn, conn.cursor() as cur:
            for i in range(0, len(settings), 2):
                cur.execute("SELECT set_config($1, $2, false)", (settings[i], settings[i + 1]))
                cur.fetchall()
            cur.adbc_statement.set_options(
                **{"adbc.postgresql.batch_size_hint_bytes": str(_BATCH_HINT_BYTES)}
            )
            query, decimals = _with_numeric_as_text(cur, query, adbc.Error)
            cur.execute(query)
            reader = cur.fetch_record_batch()
            seen = False
            for batch in reader:
                seen = True
                yield normalize_batch(batch, decimals)
            if not seen:
                empty = pa.RecordBatch.from_pylist([], schema=reader.schema)
                yield normalize_batch(empty, decimals)

    def batches(self) -> Iterator[pa.RecordBatch]:
        try:
            yield from rechunk(self._raw_batches(), self.chunk_rows)
        except SourceError:
            raise
        except Exception as exc:  # driver errors carry SQLSTATE and server text, not row data
            raise SourceError(f"PostgreSQL source failed: {_describe(exc)}") from None


def _describe(exc: BaseException) -> str:
    # Server messages can quote values ("invalid input syntax for type integer: \"abc\""):
    # keep only the first line up to a colon-quoted value, which names the problem.
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    cut = first.find(': "')
    return f"{type(exc).__name__}: {first[:cut] if cut > 0 else first}"[:300]
