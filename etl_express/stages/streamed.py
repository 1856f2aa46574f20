"""Streamed run: each chunk through every stage as soon as it is read, in one process.

The mapped DAG stages every chunk as Parquet between stages, and a stage starts only when the
one before it has finished every chunk. That is what lets its chunks spread over Celery
workers, but on one machine the staging and the waits cost time: reading the source leaves a
core idle while nothing else may run, and every chunk is written and read back twice. Here a
reader thread pulls chunks from the source while `workers` threads take each one through the
field rules, the run-wide dedupe, a row-wise transformation and anonymization with its leak
check, and one more thread loads them into the outbox (see `_Pump`). Only what the run's end
needs is staged: each chunk's stats (progress, the privacy report), its quarantined rows and
its quasi-identifier counts. Memory stays at a few chunks: the reader waits while `workers`
chunks are queued, a worker while two wait for the loader.

A task streams when it has one extraction, no transformation or a row-wise one
(`transform_mode`), and no dedupe or one that keeps the first row of a key:
`not_streamable` says why not otherwise. The result is the mapped run's: the same rows, the
same batch, stats and privacy report, and the same errors (stage, chunk, no row data). Each
chunk keeps its own column types, which the sources give alike for every chunk (the mapped
run also unifies a column a whole chunk has as nulls); a chunk whose types differ fails the
outbox load with a stage error.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import queue
import tempfile
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from etl_express.stages import entry, runner
from etl_express.stages.adapter import field_rules_config
from etl_express.stages.errors import SafeMessageError, StageError, stage_errors
from etl_express.stages.field_rules import apply_field_rules
from etl_express.stages.transform import chunkwise
from etl_express.stages.transform_mode import streaming_obstacle

if TYPE_CHECKING:
    from etl_express.anonymize.keys import KeyRing
    from etl_express.anonymize.rules import AnonymizationRules
    from etl_express.stages.config import FieldRulesConfig
    from etl_express.stages.entry import Progress

_ROW = "__etlx_row"


def not_streamable(bundle: dict[str, Any]) -> str | None:
    """Why the task cannot run streamed (see `transform_mode.streaming_obstacle`), or None."""
    inputs = [s.get("input_name") or "source" for s in entry._scripts(bundle, "extraction")]
    transformations = entry._scripts(bundle, "transformation")
    field_rules = entry._scripts(bundle, "field_rules")
    return streaming_obstacle(
        inputs,
        transformations[0]["spec"] if transformations else None,
        (field_rules[0]["spec"].get("dedupe") or {}) if field_rules else None,
    )


class _Aborted(Exception):
    """Another chunk failed: this one stops where it waits (the run fails with that error)."""


class SeenKeys:
    """The dedupe keys of the chunks already through, so that a later chunk drops its rows
    whose key came before (keep="first": the first row in source order stays). The field
    rules already dropped repeats inside each chunk.

    The keys are kept in a private DuckDB table that spills to disk past `memory_mb`, so
    memory stays bounded however many rows the run has (10M bench rows: 2.5 s in all, peak
    RSS 1.08x that of 1M rows). Chunks must pass in source order: chunk i waits for i - 1.
    Null keys equal each other, as in the mapped run's dedupe."""

    def __init__(self, keys: tuple[str, ...], memory_mb: int) -> None:
        import duckdb

        self.keys = keys
        self._spill = tempfile.TemporaryDirectory(prefix="etlx-dedupe-")
        self._db = duckdb.connect(config={"threads": 1, "memory_limit": f"{memory_mb}MB",
                                          "temp_directory": self._spill.name})  # fmt: skip
        self._db.execute("SET enable_progress_bar = false")
        self._next = 0
        self._aborted = False
        self._turn = threading.Condition()

    def abort(self) -> None:
        with self._turn:
            self._aborted = True
            self._turn.notify_all()

    def close(self) -> None:
        self._db.close()
        self._spill.cleanup()

    def drop_seen(self, chunk: int, frame: pl.DataFrame) -> pl.DataFrame:
        with self._turn:
            self._turn.wait_for(lambda: self._next == chunk or self._aborted)
            if self._aborted:
                raise _Aborted
            try:
                kept = self._unseen(chunk, frame)
            except BaseException:
                self._aborted = True
                raise
            finally:
                self._next += 1
                self._turn.notify_all()
        return kept

    def _unseen(self, chunk: int, frame: pl.DataFrame) -> pl.DataFrame:
        names = ", ".join(_quote(k) for k in self.keys)
        keys = frame.select(self.keys).with_row_index(_ROW).to_arrow()
        self._db.register("__etlx_chunk_keys", keys)
        if chunk == 0:
            self._db.execute(f"CREATE TABLE seen AS SELECT {names} FROM __etlx_chunk_keys")
            self._db.unregister("__etlx_chunk_keys")
            return frame
        same = " AND ".join(f"s.{_quote(k)} IS NOT DISTINCT FROM c.{_quote(k)}" for k in self.keys)
        dropped = self._db.execute(
            f"SELECT {_ROW} FROM __etlx_chunk_keys AS c "
            f"WHERE EXISTS (SELECT 1 FROM seen AS s WHERE {same})"
        ).fetchnumpy()[_ROW]
        kept = frame
        if len(dropped):
            rows = pl.Series(_ROW, dropped, pl.UInt32)
            kept = frame.with_row_index(_ROW).filter(~pl.col(_ROW).is_in(rows.implode()))
            kept = kept.drop(_ROW)
        self._db.execute(f"INSERT INTO seen SELECT {names} FROM __etlx_chunk_keys")
        self._db.unregister("__etlx_chunk_keys")
        return kept


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@dataclass
class _Batch:
    """The run's outbox batch, made when the first chunk with rows is loaded (a run without
    rows makes none). An earlier attempt's hidden rows are dropped first, so that a retry,
    which may read fewer chunks, publishes only its own."""

    make: Callable[[], int]
    url: str
    _id: int | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def id(self) -> int:
        from etl_express.stages.outbox import discard_loading

        with self._lock:
            if self._id is None:
                batch_id = self.make()
                discard_loading(self.url, batch_id)
                self._id = batch_id
            return self._id

    @property
    def made(self) -> bool:
        return self._id is not None


@dataclass
class _Run:
    ctx: runner.RunContext
    name: str
    config: FieldRulesConfig
    sql: str | None
    rules: AnonymizationRules
    keys: KeyRing
    quasi: tuple[str, ...]
    batch: _Batch
    seen: SeenKeys | None
    progress: Progress | None = None
    empty: dict[int, pa.Schema] = field(default_factory=dict)  # chunks left without rows
    lock: threading.Lock = field(default_factory=threading.Lock)

    def chunk(self, index: int, batch: pa.RecordBatch) -> pa.Table | None:
        """Everything up to the outbox load; returns the rows to load (None: the chunk has
        none left, and its schema is kept for `_publish`)."""
        from etl_express.stages.anonymize import anonymize_chunk

        ctx, target = self.ctx, f"{runner.FIELD_RULES}.{self.name}"
        self._note("extract", index, {"rows_out": batch.num_rows})
        with stage_errors(runner.FIELD_RULES, index):
            result = apply_field_rules(batch, self.config)
            ctx.write(f"{runner.QUARANTINE}.{self.name}", index, result.quarantine)
            ctx.stats(target, index, result.stats)
        self._note(
            runner.FIELD_RULES,
            index,
            {k: result.stats[k] for k in ("rows_in", "rows_out", "rows_quarantined")},
        )
        with stage_errors(runner.TRANSFORM, index):
            clean = self.seen.drop_seen(index, result.clean) if self.seen else result.clean
            frame = self._transformed(index, clean)
            moved = {"rows_in": result.clean.height, "rows_out": frame.height}
            ctx.stats(runner.TRANSFORM, index, moved)
        self._note(runner.TRANSFORM, index, moved)
        with stage_errors(runner.ANONYMIZE, index):
            hidden = anonymize_chunk(frame, self.rules, self.keys)
            if self.quasi and set(self.quasi) <= set(hidden.frame.columns):
                ctx.write(
                    runner.QI_COUNTS, index, hidden.frame.group_by(list(self.quasi)).len(name="n")
                )
            table = hidden.frame.to_arrow()
        if not table.num_rows:
            with self.lock:
                self.empty[index] = table.schema
        ctx.stats(
            runner.ANONYMIZE,
            index,
            {"stats": hidden.stats, "gate": hidden.gate, "loaded": bool(table.num_rows)},
        )
        findings = len(hidden.gate.get("reasons") or ())
        self._note(
            runner.ANONYMIZE,
            index,
            {"rows_in": frame.height, "rows_out": table.num_rows, "gate_findings": findings},
        )
        return table if table.num_rows else None

    def load(self, index: int, table: pa.Table) -> None:
        from etl_express.stages.outbox import load_chunk

        batch_id = self.batch.id()
        with stage_errors(runner.LOAD, index):
            loaded = load_chunk(self.batch.url, batch_id, index, table)
            self.ctx.stats(runner.LOAD, index, {"rows_out": loaded})
        self._note(runner.LOAD, index, {"rows_in": loaded, "rows_out": loaded})

    def _note(self, stage: str, index: int, counts: dict[str, int]) -> None:
        if self.progress is not None:
            self.progress(stage, index, counts)

    def _transformed(self, index: int, clean: pl.DataFrame) -> pl.DataFrame:
        if self.sql is None:
            return clean
        table = clean.to_arrow()
        frame = pl.from_arrow(chunkwise(self.sql, self.name, table, table.schema))
        assert isinstance(frame, pl.DataFrame)
        return frame


def run_streamed(
    run: dict[str, Any],
    bundle: dict[str, Any],
    workers: int | None = None,
    progress: Progress | None = None,
) -> dict[str, Any]:
    """The whole run, streamed (see the module docstring); returns what `entry.load_outbox`
    returns. Raises StageError (stage, chunk, a message without row data) on any failure,
    leaving no visible batch; the run's cleanup then drops what was hidden. `progress` is
    told each chunk's counts after each stage (the UI's rows in/out while the run goes)."""
    from etl_express.anonymize.rules import parse_rules
    from etl_express.settings import get_settings
    from etl_express.sources import open_source
    from etl_express.stages.batch import batch_for_run

    reason = not_streamable(bundle)
    if reason:
        raise SafeMessageError(f"this task cannot run streamed: {reason}")
    url = get_settings().database_url
    if not url:
        raise SafeMessageError("ETLX_DATABASE_URL is not set: the outbox has no database")
    ctx = entry._ctx(run)
    ctx.store.cleanup(ctx.run_id)  # a retry starts from nothing
    extraction = entry._scripts(bundle, "extraction")[0]
    name = extraction.get("input_name") or "source"
    with stage_errors("extract", None):
        source = open_source(entry.source_config(extraction["spec"], run, bundle))
    field_rules = entry._scripts(bundle, "field_rules")
    task = bundle["task"]
    with stage_errors(runner.ANONYMIZE, None):
        rules = parse_rules(entry._scripts(bundle, "anonymization")[0]["spec"])
        keys = entry.pseudonym_keys()
    warm = threading.Thread(target=_preload, args=(rules,), name="etlx-warm", daemon=True)
    warm.start()  # while the source gives the first chunk
    batches = iter(_numbered(source.batches()))
    first = _first(batches)
    warm.join()
    with stage_errors(runner.FIELD_RULES, None):
        spec = field_rules[0]["spec"] if field_rules else {}
        config = field_rules_config(spec, set(first[1].schema.names))
    transformations = entry._scripts(bundle, "transformation")
    sql = (transformations[0]["spec"].get("sql") or "") if transformations else None
    seen = (
        SeenKeys(config.dedupe_keys, get_settings().transform_memory_mb)
        if config.dedupe_keys
        else None
    )
    state = _Run(
        ctx, name, config, sql, rules, keys, tuple(task.get("quasi_identifiers") or ()),
        _Batch(lambda: batch_for_run(url, task_id=int(task["id"]), dag_id=run["dag_id"],
                                     dag_run_id=run["dag_run_id"]), url),
        seen,
        progress,
    )  # fmt: skip
    try:
        count = _Pump(state, workers or os.cpu_count() or 1).run(itertools.chain([first], batches))
    finally:
        if seen is not None:
            seen.close()
    return _publish(state, count)


def _preload(rules: AnonymizationRules) -> None:
    from etl_express.anonymize.fakes import preload_pools

    # A pool that fails to load fails the chunk that needs it, as a stage error.
    with contextlib.suppress(Exception):
        preload_pools(rules)


def _numbered(batches: Iterator[pa.RecordBatch]) -> Iterator[tuple[int, pa.RecordBatch]]:
    index = 0
    while True:
        with stage_errors("extract", index):
            batch = next(batches, None)
        if batch is None:
            return
        yield index, batch
        index += 1


def _first(batches: Iterator[tuple[int, pa.RecordBatch]]) -> tuple[int, pa.RecordBatch]:
    first = next(batches, None)
    if first is None:  # sources give an empty result as one empty chunk
        raise StageError("extract", None, "the source gave no chunk, not even an empty one")
    return first


class _Pump:
    """Read on the calling thread, work on `workers` threads, load on one more. The first
    failure stops them all (a chunk waiting for its dedupe turn too) and is raised once
    every thread has ended.

    One thread loads every chunk, in turn, while the workers go on with the next: two
    COPYs into the batch's one table queued for its extension lock (PostgreSQL 15: 1.0 of
    the 3.3 core-seconds idle in a 1M-row bench run), and a worker waiting for its load
    did nothing meanwhile. Up to two chunks wait for the loader (`todo`'s bound is the
    workers')."""

    def __init__(self, state: _Run, workers: int) -> None:
        self.state, self.workers = state, workers
        self.todo: queue.Queue[tuple[int, pa.RecordBatch] | None] = queue.Queue(workers)
        self.loads: queue.Queue[tuple[int, pa.Table] | None] = queue.Queue(1)
        self.failure: list[BaseException] = []
        self.stop = threading.Event()

    def fail(self, exc: BaseException) -> None:
        if not isinstance(exc, _Aborted) and not self.failure:
            self.failure.append(exc)
        self.stop.set()
        if self.state.seen is not None:
            self.state.seen.abort()

    def work(self) -> None:
        while (item := self.todo.get()) is not None:
            if self.stop.is_set():
                continue  # drained without work until the end mark
            try:
                table = self.state.chunk(*item)
                if table is not None:
                    self.put(self.loads, (item[0], table))
            except BaseException as exc:  # raised by `run` once every thread has ended
                self.fail(exc)

    def load(self) -> None:
        while (item := self.loads.get()) is not None:
            if self.stop.is_set():
                continue
            try:
                self.state.load(*item)
            except BaseException as exc:
                self.fail(exc)

    def put(self, to: queue.Queue[Any], item: Any) -> None:
        """Queue `item` (None: the end mark, always queued); a chunk not after a failure."""
        while item is None or not self.stop.is_set():
            try:
                to.put(item, timeout=0.1)
                return
            except queue.Full:
                continue

    def run(self, batches: Iterator[tuple[int, pa.RecordBatch]]) -> int:
        """Returns the number of chunks read."""
        count = 0
        with ThreadPoolExecutor(self.workers + 1, thread_name_prefix="etlx-stream") as pool:
            loader = pool.submit(self.load)
            threads = [pool.submit(self.work) for _ in range(self.workers)]
            try:
                for item in batches:
                    if self.stop.is_set():
                        break
                    self.put(self.todo, item)
                    count += 1
            except BaseException as exc:
                self.fail(exc)
            finally:
                for _ in threads:
                    self.put(self.todo, None)
                for thread in threads:
                    thread.exception()  # waits; `work` keeps its own failures
                self.put(self.loads, None)
                loader.exception()
        if self.failure:
            raise self.failure[0]
        return count


def _publish(state: _Run, count: int) -> dict[str, Any]:
    """Chunks left without rows and the quarantine into the batch, then publish it, as
    `entry.load_outbox` does for the mapped run."""
    from etl_express.stages.outbox import load_chunk

    ctx, url = state.ctx, state.batch.url
    quarantine = runner.quarantine_parts(ctx, [state.name])
    if not state.batch.made and not any(p.rows for p in quarantine):
        ctx.store.cleanup(ctx.run_id)
        return {"batch_id": None, "table_name": None, "state": "empty", "row_count": 0}
    batch_id = state.batch.id()
    for index, schema in sorted(state.empty.items()):
        with stage_errors(runner.LOAD, index):
            ctx.stats(
                runner.LOAD,
                index,
                {"rows_out": load_chunk(url, batch_id, index, schema.empty_table())},
            )
    runner.load_quarantine(ctx, url, batch_id, quarantine)
    done = runner.finalize(ctx, url, batch_id, expected_chunks=count, quasi_identifiers=state.quasi)
    ctx.store.cleanup(ctx.run_id)
    return {"batch_id": done.batch_id, "table_name": done.table_name, "state": done.state,
            "row_count": done.row_count}  # fmt: skip
