"""Transform stage: DuckDB SQL over named Arrow inputs, streamed out in record batches.

The DuckDB connection is private to one call, single-threaded (Airflow already runs tasks in
parallel), and has external access switched off after the inputs are registered, so
a transformation script can read only the frames it was given (no `read_csv('/etc/...')`,
no extensions, no attached databases).
"""

from __future__ import annotations

import tempfile
import threading
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from etl_express.stages.copied_columns import copy_plan, with_copied, without_copied
from etl_express.stages.errors import SafeMessageError

_BATCH_ROWS = 100_000
MEMORY_MB = 256  # settings.transform_memory_mb
SEQ = "_etlx_seq"


@dataclass(frozen=True)
class StagedChunks:
    """An input staged as Parquet chunk files, read one file at a time.

    Memory stays at about one chunk whatever the run's size (a pyarrow dataset scanner reads
    ahead: 10M bench rows peaked at 813 MB through one, 371 MB file by file), and the input
    can be read twice, which a run-wide dedupe needs."""

    paths: tuple[str, ...]
    filesystem: Any = None

    def schema(self) -> pa.Schema:
        schemas = [pq.read_schema(p, filesystem=self.filesystem) for p in self.paths]
        # a column that is null in one whole chunk is typed null there
        return pa.unify_schemas(schemas, promote_options="permissive")

    def tables(self, schema: pa.Schema) -> Iterator[pa.Table]:
        for path in self.paths:
            table = pq.read_table(path, columns=schema.names, filesystem=self.filesystem)
            yield table if table.schema.equals(schema) else table.cast(schema)

    def reader(self, schema: pa.Schema) -> pa.RecordBatchReader:
        return pa.RecordBatchReader.from_batches(
            schema, (b for t in self.tables(schema) for b in t.to_batches())
        )


Input: TypeAlias = pa.Table | pa.RecordBatchReader | pl.DataFrame | StagedChunks


def _arrow(
    value: pa.Table | pa.RecordBatchReader | pl.DataFrame,
) -> pa.Table | pa.RecordBatchReader:
    return value.to_arrow() if isinstance(value, pl.DataFrame) else value


@dataclass(frozen=True)
class Dedupe:
    """Keep one row per key over the whole input: the first (or last) by `_etlx_seq`, the
    position the field rules stage stamped on each row (chunk, row).

    Staged inputs are deduplicated in two passes: the first (last) position per key from the
    key columns alone (DuckDB, spilling past its memory limit), then each chunk filtered to
    the kept positions. A window (`QUALIFY row_number() OVER (PARTITION BY ...)`) took 1.63 s
    instead of 0.27 s per 1M rows, and a semi-join inside one query held every row's columns
    in memory at 10M rows."""

    keys: tuple[str, ...]
    keep: str = "first"


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _dedupe_view(name: str, dedupe: Dedupe) -> str:
    """Dedupe of an in-memory input (a table: small, read twice at no cost)."""
    keys = ", ".join(_quote(k) for k in dedupe.keys)
    pick = "max" if dedupe.keep == "last" else "min"
    raw = _quote("__raw_" + name)
    return (
        f"CREATE VIEW {_quote(name)} AS SELECT r.* EXCLUDE ({SEQ}) FROM {raw} AS r "
        f"SEMI JOIN (SELECT {pick}({SEQ}) AS __etlx_keep FROM {raw} GROUP BY {keys}) AS k "
        f"ON r.{SEQ} = k.__etlx_keep"
    )


def _kept_positions(con: Any, chunks: StagedChunks, schema: pa.Schema, dedupe: Dedupe) -> Any:
    """Sorted positions (`_etlx_seq`) of the rows the dedupe keeps."""
    missing = [k for k in (*dedupe.keys, SEQ) if k not in schema.names]
    if missing:
        raise SafeMessageError(f"dedupe key column(s) not in the input: {', '.join(missing)}")
    keys = pa.schema([schema.field(k) for k in (*dedupe.keys, SEQ)])
    con.register("__etlx_keys", chunks.reader(keys))
    pick = "max" if dedupe.keep == "last" else "min"
    group = ", ".join(_quote(k) for k in dedupe.keys)
    kept = con.sql(f"SELECT {pick}({SEQ}) AS s FROM __etlx_keys GROUP BY {group} ORDER BY s")
    positions = kept.to_arrow_table().column("s").to_numpy()
    con.unregister("__etlx_keys")
    return positions


def kept_positions(
    chunks: StagedChunks,
    schema: pa.Schema,
    dedupe: Dedupe,
    memory_mb: int = MEMORY_MB,
    threads: int = 1,
) -> Any:
    """`_kept_positions` on a connection of its own (it runs no user SQL)."""
    with _connect({}, threads, memory_mb=memory_mb) as con:
        return _kept_positions(con, chunks, schema, dedupe)


def dropped_positions(kept: Any, chunk: int, rows: int) -> Any:
    """Positions (`_etlx_seq`) of chunk `chunk`'s `rows` rows that the dedupe drops. The field
    rules number a chunk's rows 0..rows-1 above `chunk << 32`; `kept` is sorted."""
    base = chunk << 32
    lo, hi = np.searchsorted(kept, base), np.searchsorted(kept, base + rows)
    mask = np.ones(rows, dtype=bool)
    mask[kept[lo:hi] - base] = False
    return np.flatnonzero(mask) + base


def chunkwise(
    sql: str, name: str, table: pa.Table, schema: pa.Schema, dropped: pa.Array | None = None
) -> pa.Table:
    """A row-wise transformation (see transform_mode) on one chunk: cast to the input's
    schema over all chunks (a column null in a whole chunk is typed null there), rows the
    run-wide dedupe drops removed, then `sql`."""
    if not table.schema.equals(schema):
        table = table.select(schema.names).cast(schema)
    if SEQ in schema.names:
        if dropped is not None and len(dropped):
            table = table.filter(pc.invert(pc.is_in(table.column(SEQ), value_set=dropped)))
        table = table.drop_columns([SEQ])
    if not name.isidentifier():
        raise SafeMessageError(f"input name {name!r} is not an identifier")
    plan = copy_plan(sql, name, table.schema)
    with _chunk_cursor() as con:
        con.register(name, table if plan is None else without_copied(table, plan))
        result = _whole_result(con, sql)
    return result if plan is None else with_copied(result, table, plan)


_CHUNK_DB: dict[str, Any] = {}
_CHUNK_DB_LOCK = threading.Lock()


@contextmanager
def _chunk_cursor() -> Iterator[Any]:
    """A connection of its own (its registered inputs are its own) to one DuckDB database
    the process keeps for row-wise chunk queries, locked down as `_connect`'s are.

    A new database costs about 30 ms of CPU, as much as the query on a 100k-row chunk;
    a cursor costs microseconds. Only queries `transform_mode.chunkwise_input` accepted run
    here: one SELECT of one input, so nothing a query does outlives it."""
    import duckdb

    with _CHUNK_DB_LOCK:
        base = _CHUNK_DB.get("db")
        if base is None:
            spill = tempfile.TemporaryDirectory(prefix="etlx-duckdb-")  # removed at exit
            base = duckdb.connect(config={"threads": 1, "memory_limit": f"{MEMORY_MB}MB",
                                          "temp_directory": spill.name})  # fmt: skip
            base.execute("SET enable_progress_bar = false")
            base.execute("SET enable_external_access = false")
            base.execute("SET lock_configuration = true")
            _CHUNK_DB.update(db=base, spill=spill)
        con = base.cursor()
    try:
        yield con
    finally:
        con.close()


def _deduped(con: Any, chunks: StagedChunks, dedupe: Dedupe) -> pa.RecordBatchReader:
    schema = chunks.schema()
    kept = _kept_positions(con, chunks, schema, dedupe)
    out = schema.remove(schema.get_field_index(SEQ))

    def batches() -> Iterator[pa.RecordBatch]:
        for table in chunks.tables(schema):
            if not table.num_rows:
                continue
            seq = table.column(SEQ)
            low, high = pc.min_max(seq).values()
            lo = np.searchsorted(kept, low.as_py())
            hi = np.searchsorted(kept, high.as_py(), side="right")
            rows = table.filter(pc.is_in(seq, value_set=pa.array(kept[lo:hi])))
            yield from rows.drop_columns([SEQ]).to_batches()

    return pa.RecordBatchReader.from_batches(out, batches())


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
            config={
                "threads": threads,
                "memory_limit": f"{memory_mb}MB",
                "temp_directory": spill,
            }
        )
        try:
            con.execute("SET enable_progress_bar = false")  # a session option, not a global one
            _register(con, inputs, dedupe)
            yield con
        finally:
            con.close()


def _register(con: Any, inputs: Mapping[str, Input], dedupe: Mapping[str, Dedupe] | None) -> None:
    for name, value in inputs.items():
        if not name.isidentifier():
            raise SafeMessageError(f"input name {name!r} is not an identifier")
        rule = dedupe.get(name) if dedupe else None
        if isinstance(value, StagedChunks):
            source = _deduped(con, value, rule) if rule else value.reader(value.schema())
            con.register(name, source)
        elif rule:
            if isinstance(value, pa.RecordBatchReader):
                raise SafeMessageError(f"input {name!r} is read once; dedupe needs it twice")
            con.register(f"__raw_{name}", _arrow(value))
            con.execute(_dedupe_view(name, rule))
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
            relation, intervals = _relation(con, sql)
            reader = relation.to_arrow_reader(batch_rows)
        except duckdb.Error as exc:
            # DuckDB's messages name tables, columns and SQL positions, not row values.
            first = (str(exc).splitlines() or [""])[0][:300]
            raise SafeMessageError(f"transformation SQL failed: {first}") from None
        schema = _with_durations(reader.schema, intervals)
        empty = True
        for batch in reader:
            empty = False
            yield batch.cast(schema) if intervals else batch
        if empty:  # no rows is still a result: the next stages need its schema
            yield pa.RecordBatch.from_pylist([], schema=schema)


def run_transform(sql: str, inputs: Mapping[str, Input], *, threads: int = 1) -> pa.Table:
    """The whole result of `sql` as one table (for per-chunk use)."""
    with _connect(inputs, threads) as con:
        return _whole_result(con, sql)


def _whole_result(con: Any, sql: str) -> pa.Table:
    import duckdb

    try:
        relation, intervals = _relation(con, sql)
        table: pa.Table = relation.to_arrow_table()
    except duckdb.Error as exc:
        # DuckDB's messages name tables, columns and SQL positions, not row values.
        first = (str(exc).splitlines() or [""])[0][:300]
        raise SafeMessageError(f"transformation SQL failed: {first}") from None
    return table.cast(_with_durations(table.schema, intervals)) if intervals else table


def _relation(con: Any, sql: str) -> tuple[Any, list[str]]:
    """The query, with INTERVAL columns as microseconds (months count 30 days, as DuckDB's
    epoch does): Arrow gives an interval as month_day_nano, which polars cannot read and
    nothing can cast; the result says duration[us], what the script's schema declares."""
    relation = con.sql(sql)
    intervals = [n for n, t in zip(relation.columns, relation.types, strict=True)
                 if str(t) == "INTERVAL"]  # fmt: skip
    if intervals:
        replaced = ", ".join(f"epoch_us({_quote(n)}) AS {_quote(n)}" for n in intervals)
        relation = relation.project(f"* REPLACE ({replaced})")
    return relation, intervals


def _with_durations(schema: pa.Schema, intervals: list[str]) -> pa.Schema:
    for name in intervals:
        index = schema.get_field_index(name)
        schema = schema.set(index, schema.field(index).with_type(pa.duration("us")))
    return schema
