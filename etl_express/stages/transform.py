"""Transform stage: DuckDB SQL over named Arrow inputs, streamed out in record batches.

The DuckDB connection is private to one call, single-threaded (Airflow already runs tasks in
parallel), and has external access switched off after the inputs are registered, so
a transformation script can read only the frames it was given (no `read_csv('/etc/...')`,
no extensions, no attached databases).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias

import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds

from etl_express.stages.errors import SafeMessageError

# A dataset (staged Parquet chunks) can be scanned twice, which deduplication needs.
Input: TypeAlias = pa.Table | pa.RecordBatchReader | pl.DataFrame | ds.Dataset
_BATCH_ROWS = 100_000
MEMORY_MB = 512  # settings.transform_memory_mb


def _arrow(value: Input) -> pa.Table | pa.RecordBatchReader | ds.Dataset:
    return value.to_arrow() if isinstance(value, pl.DataFrame) else value


SEQ = "_etlx_seq"


@dataclass(frozen=True)
class Dedupe:
    """Keep one row per key over the whole input: the first (or last) by `_etlx_seq`, the
    position the field rules stage stamped on each row (chunk, row).

    Written as a semi-join on the first (last) position per key rather than
    `QUALIFY row_number() OVER (PARTITION BY ...)`: 0.27 s instead of 1.63 s on 1M rows,
    since no window has to sort its partitions. It reads the input twice, so a streamed
    input must be a dataset, not a one-shot reader."""

    keys: tuple[str, ...]
    keep: str = "first"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _dedupe_view(name: str, dedupe: Dedupe) -> str:
    keys = ", ".join(_quote(k) for k in dedupe.keys)
    pick = "max" if dedupe.keep == "last" else "min"
    raw = _quote("__raw_" + name)
    return (
        f"CREATE VIEW {_quote(name)} AS SELECT r.* EXCLUDE ({SEQ}) FROM {raw} AS r "
        f"SEMI JOIN (SELECT {pick}({SEQ}) AS __etlx_keep FROM {raw} GROUP BY {keys}) AS k "
        f"ON r.{SEQ} = k.__etlx_keep"
    )


@contextmanager
def _connect(
    inputs: Mapping[str, Input],
    threads: int,
    dedupe: Mapping[str, Dedupe] | None = None,
    memory_mb: int = MEMORY_MB,
) -> Iterator[Any]:
    """A private DuckDB connection over `inputs`; what does not fit in `memory_mb` (a
    dedupe's key table over ten million rows, a large join) spills to a temporary
    directory removed with the connection, so memory stays bounded whatever the run's size."""
    import duckdb

    with tempfile.TemporaryDirectory(prefix="etlx-duckdb-") as spill:
        con = duckdb.connect(
            config={"threads": threads, "memory_limit": f"{memory_mb}MB", "temp_directory": spill}
        )
        try:
            _register(con, inputs, dedupe)
            yield con
        finally:
            con.close()


def _register(con: Any, inputs: Mapping[str, Input], dedupe: Mapping[str, Dedupe] | None) -> None:
    for name, value in inputs.items():
        if not name.isidentifier():
            raise SafeMessageError(f"input name {name!r} is not an identifier")
        if dedupe and name in dedupe:
            con.register(f"__raw_{name}", _arrow(value))
            con.execute(_dedupe_view(name, dedupe[name]))
        else:
            con.register(name, _arrow(value))
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def stream_transform(
    sql: str,
    inputs: Mapping[str, Input],
    *,
    batch_rows: int = _BATCH_ROWS,
    threads: int = 1,
    dedupe: Mapping[str, Dedupe] | None = None,
    memory_mb: int = MEMORY_MB,
) -> Iterator[pa.RecordBatch]:
    """Run `sql` and yield its result in record batches of at most `batch_rows` rows."""
    import duckdb

    with _connect(inputs, threads, dedupe, memory_mb) as con:
        try:
            reader = con.sql(sql).to_arrow_reader(batch_rows)
        except duckdb.Error as exc:
            # DuckDB's messages name tables, columns and SQL positions, not row values.
            first = (str(exc).splitlines() or [""])[0][:300]
            raise SafeMessageError(f"transformation SQL failed: {first}") from None
        yield from reader


def run_transform(sql: str, inputs: Mapping[str, Input], *, threads: int = 1) -> pa.Table:
    """The whole result of `sql` as one table (for per-chunk use)."""
    import duckdb

    with _connect(inputs, threads) as con:
        try:
            table: pa.Table = con.sql(sql).to_arrow_table()
        except duckdb.Error as exc:
            first = (str(exc).splitlines() or [""])[0][:300]
            raise SafeMessageError(f"transformation SQL failed: {first}") from None
        return table
