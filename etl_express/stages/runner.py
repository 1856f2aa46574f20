"""Per-chunk stage runners: read a chunk from staging, run the pure stage, write the result.

These are what the DAG's mapped stage tasks call (a few lines each, no Airflow import here).
Each writes the chunk's stats as JSON next to its data, which is how the UI shows rows in/out
per stage while a run is going, and how `finalize` assembles the privacy report.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import polars as pl
import pyarrow as pa

from etl_express.stages.config import FieldRulesConfig
from etl_express.stages.errors import SafeMessageError, stage_errors
from etl_express.stages.field_rules import apply_field_rules
from etl_express.stages.transform import (
    SEQ,
    Dedupe,
    StagedChunks,
    chunkwise,
    dropped_positions,
    kept_positions,
    run_transform,
    stream_transform,
)
from etl_express.staging.store import StagingStore

if TYPE_CHECKING:
    from etl_express.anonymize.keys import KeyRing
    from etl_express.anonymize.rules import AnonymizationRules
    from etl_express.stages.outbox import FinalizedBatch
    from etl_express.stages.quarantine import Part as QuarantinePart

EXTRACT, FIELD_RULES, QUARANTINE = "extract", "field_rules", "quarantine"
TRANSFORM, ANONYMIZE, LOAD = "transform", "anonymize", "load_outbox"
# A planned row-wise transformation: its input schema (chunk 0) and dedupe's dropped rows.
PLAN, DROPPED = "transform_plan", "transform_dropped"
# Rows per combination of quasi-identifier values in each anonymized chunk (k-anonymity).
QI_COUNTS = "qi_counts"


@dataclass(frozen=True)
class RunContext:
    store: StagingStore
    run_id: str

    def read(self, stage: str, chunk: int) -> pa.Table:
        return self.store.read(self.run_id, stage, chunk)

    def frame(self, stage: str, chunk: int) -> pl.DataFrame:
        frame = pl.from_arrow(self.read(stage, chunk))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def write(self, stage: str, chunk: int, data: pa.Table | pl.DataFrame) -> None:
        table = data.to_arrow() if isinstance(data, pl.DataFrame) else data
        self.store.write(self.run_id, stage, chunk, table)

    def stats(self, stage: str, chunk: int, value: dict[str, Any]) -> dict[str, Any]:
        self.store.write_json(self.run_id, stage, chunk, value)
        return value


def field_rules_chunk(
    ctx: RunContext,
    chunk: int,
    config: FieldRulesConfig,
    source: str = EXTRACT,
    target: str = FIELD_RULES,
) -> dict[str, Any]:
    with stage_errors(FIELD_RULES, chunk):
        result = apply_field_rules(ctx.read(source, chunk), config)
        ctx.write(f"{QUARANTINE}{target.removeprefix(FIELD_RULES)}", chunk, result.quarantine)
        clean = result.clean
        if config.dedupe_keys:
            # Dedupe within the chunk is done; the position lets the transform stage dedupe
            # across chunks, keeping the same (first or last) row a single pass would keep.
            seq = pl.int_range(pl.len(), dtype=pl.Int64) + (chunk << 32)
            clean = clean.with_columns(seq.alias(SEQ))
        ctx.write(target, chunk, clean)
        return ctx.stats(target, chunk, result.stats)


def _staged(ctx: RunContext, stage: str) -> StagedChunks:
    paths = ctx.store.chunk_paths(ctx.run_id, stage)
    if not paths:
        raise SafeMessageError(f"no {stage} chunks staged for this run")
    return StagedChunks(tuple(paths), ctx.store.fs)


def _memory_mb() -> int:
    from etl_express.settings import get_settings

    return get_settings().transform_memory_mb


def _forget_transform(ctx: RunContext) -> None:
    """A re-run transform may yield fewer chunks (or another mode): drop what an earlier run
    of it and of the stage after it staged, so that no stale chunk reaches the outbox or the
    privacy report."""
    for stage in (TRANSFORM, PLAN, DROPPED, ANONYMIZE, QI_COUNTS):
        ctx.store.remove_stage(ctx.run_id, stage)


def transform_whole(
    ctx: RunContext,
    sql: str,
    inputs: dict[str, str],
    chunk_rows: int,
    dedupe: dict[str, Dedupe] | None = None,
) -> int:
    """Run `sql` over all staged chunks of each input (name → staged stage), read chunk by
    chunk into DuckDB; the result is re-cut into chunks. Returns the chunk count."""
    from etl_express.sources.chunking import rechunk

    with stage_errors(TRANSFORM, None):
        datasets: dict[str, Any] = {name: _staged(ctx, stage) for name, stage in inputs.items()}
        _forget_transform(ctx)
        batches = stream_transform(sql, datasets, dedupe=dedupe, memory_mb=_memory_mb())
        count = 0
        for count, batch in enumerate(rechunk(batches, chunk_rows), start=1):
            ctx.write(TRANSFORM, count - 1, pa.Table.from_batches([batch]))
            ctx.stats(TRANSFORM, count - 1, {"rows_out": batch.num_rows})
        return count


def transform_python(
    ctx: RunContext,
    code: str,
    inputs: dict[str, str],
    chunk_rows: int,
    dedupe: dict[str, Dedupe] | None = None,
) -> int:
    """Like `transform_whole`, for a Python transformation: each input is a LazyFrame over
    its staged chunks (deduplicated first where the field rules ask for it)."""
    import pyarrow.dataset as ds

    from etl_express.sources.chunking import rechunk
    from etl_express.stages.python_transform import run_python_transform

    with stage_errors(TRANSFORM, None):
        frames: dict[str, pl.LazyFrame] = {}
        for name, stage in inputs.items():
            paths = ctx.store.chunk_paths(ctx.run_id, stage)
            if not paths:
                raise SafeMessageError(f"no {stage} chunks staged for this run")
            dataset = ds.dataset(paths, format="parquet", filesystem=ctx.store.fs)
            if dedupe and name in dedupe:
                batches = stream_transform(
                    f"SELECT * FROM {name}", {name: _staged(ctx, stage)},
                    dedupe={name: dedupe[name]}, memory_mb=_memory_mb(),
                )  # fmt: skip
                frame = pl.from_arrow(pa.Table.from_batches(list(batches)))
                assert isinstance(frame, pl.DataFrame)
                frames[name] = frame.lazy()
            else:
                frames[name] = pl.scan_pyarrow_dataset(dataset)
        _forget_transform(ctx)
        count = 0
        for count, batch in enumerate(rechunk(run_python_transform(code, frames), chunk_rows), 1):
            ctx.write(TRANSFORM, count - 1, pa.Table.from_batches([batch]))
            ctx.stats(TRANSFORM, count - 1, {"rows_out": batch.num_rows})
        return count


@dataclass(frozen=True)
class ChunkwiseTransform:
    """A row-wise transformation that runs inside each anonymize chunk (see `plan_chunkwise`)."""

    sql: str
    input_name: str
    source: str  # the staged stage of its input (`field_rules.<input>`)


def plan_chunkwise(
    ctx: RunContext, sql: str, name: str, source: str, dedupe: Dedupe | None = None
) -> list[int]:
    """Plan a row-wise transformation instead of running it: each anonymize chunk applies it
    to its own field-rules chunk, which spares a pass writing every row to staging and back
    (1M bench rows: 1.3 s of CPU). Done here, once: the SQL is checked against the input's
    schema, so a bad query fails this stage, not every chunk; the schema over all chunks and,
    with a dedupe, each chunk's dropped positions (from the key columns alone) are staged.
    Returns the input's chunk numbers."""
    with stage_errors(TRANSFORM, None):
        staged = _staged(ctx, source)
        _forget_transform(ctx)
        schema = staged.schema()
        visible = schema.remove(schema.get_field_index(SEQ)) if SEQ in schema.names else schema
        run_transform(sql, {name: visible.empty_table()})
        ctx.write(PLAN, 0, schema.empty_table())
        chunks = ctx.store.chunks(ctx.run_id, source)
        if dedupe is not None:
            # The run's other tasks wait for this one: it may use every core (1M keys: 0.16 s
            # on one, 0.09 s on two).
            kept = kept_positions(staged, schema, dedupe, _memory_mb(), os.cpu_count() or 1)
            for chunk in chunks:
                rows = ctx.store.rows(ctx.run_id, source, chunk)
                dropped = pa.array(dropped_positions(kept, chunk, rows), pa.int64())
                ctx.write(DROPPED, chunk, pa.table({SEQ: dropped}))
        return chunks


def transformed_chunk(ctx: RunContext, chunk: int, plan: ChunkwiseTransform) -> pl.DataFrame:
    """One chunk through a planned row-wise transformation; its rows in/out are staged as the
    transform stage's stats for that chunk."""
    with stage_errors(TRANSFORM, chunk):
        schema = ctx.store.read_schema(ctx.run_id, PLAN, 0)
        table = ctx.read(plan.source, chunk)
        dropped = None
        if SEQ in schema.names:  # the field rules numbered rows for a dedupe
            if not ctx.store.exists(ctx.run_id, DROPPED, chunk):
                raise SafeMessageError(f"the dedupe plan for chunk {chunk} is missing: "
                                       "run the transform task again")  # fmt: skip
            dropped = ctx.read(DROPPED, chunk).column(SEQ).combine_chunks()
        out = chunkwise(plan.sql, plan.input_name, table, schema, dropped)
        ctx.stats(TRANSFORM, chunk, {"rows_in": table.num_rows, "rows_out": out.num_rows})
    frame = pl.from_arrow(out)
    assert isinstance(frame, pl.DataFrame)
    return frame


@dataclass(frozen=True)
class Outbox:
    """Where an anonymize chunk loads its own rows: the outbox database and the run's batch
    (`batch_id` finds or creates it, so only a chunk with rows makes one)."""

    url: str
    batch_id: Callable[[], int]


def anonymize_chunk(
    ctx: RunContext,
    chunk: int,
    rules: AnonymizationRules,
    keys: KeyRing,
    source: str = TRANSFORM,
    transform: ChunkwiseTransform | None = None,
    outbox: Outbox | None = None,
    quasi_identifiers: Sequence[str] = (),
) -> dict[str, Any]:
    """Anonymize one staged chunk (`source`), or with `transform`, the chunk that planned
    row-wise transformation gives. With `outbox`, a chunk with rows is loaded into the
    batch's hidden table here ("loaded" in the stats): the database's COPY work overlaps the
    other chunks' anonymization instead of waiting for all of them, and the anonymized rows
    are not staged and read back (the 1M bench chunks anonymized and loaded on two threads,
    without staging: 5.1 s one stage after the other, 4.4 s together). Otherwise the chunk
    is staged for load_outbox."""
    from etl_express.stages.anonymize import anonymize_chunk as run

    frame = transformed_chunk(ctx, chunk, transform) if transform else None
    with stage_errors(ANONYMIZE, chunk):
        result = run(ctx.frame(source, chunk) if frame is None else frame, rules, keys)
        stats: dict[str, Any] = {"stats": result.stats, "gate": result.gate}
        if quasi_identifiers and set(quasi_identifiers) <= set(result.frame.columns):
            counts = result.frame.group_by(list(quasi_identifiers)).len(name="n")
            ctx.write(QI_COUNTS, chunk, counts)
        if outbox is None or result.frame.is_empty():
            ctx.write(ANONYMIZE, chunk, result.frame)
    if outbox is not None and not result.frame.is_empty():
        _load(ctx, chunk, outbox.url, outbox.batch_id(), result.frame.to_arrow())
        stats["loaded"] = True
    return ctx.stats(ANONYMIZE, chunk, stats)


def _load(ctx: RunContext, chunk: int, url: str, batch_id: int, table: pa.Table) -> None:
    from etl_express.stages.outbox import load_chunk as load

    with stage_errors(LOAD, chunk):
        ctx.stats(LOAD, chunk, {"rows_out": load(url, batch_id, chunk, table)})


def load_chunk(
    ctx: RunContext, chunk: int, url: str, batch_id: int, source: str = ANONYMIZE
) -> dict[str, Any]:
    """Load one staged chunk into the batch's hidden table (chunks anonymize did not load)."""
    from etl_express.stages.outbox import load_chunk as load

    with stage_errors(LOAD, chunk):
        rows = load(url, batch_id, chunk, ctx.read(source, chunk))
        return ctx.stats(LOAD, chunk, {"rows_out": rows})


def quarantine_parts(ctx: RunContext, inputs: Sequence[str]) -> list[QuarantinePart]:
    """The quarantine chunks the field rules staged for `inputs` (row counts from footers)."""
    from etl_express.stages.quarantine import Part

    parts = []
    for name in inputs:
        stage = f"{QUARANTINE}.{name}"
        for chunk in ctx.store.chunks(ctx.run_id, stage):
            schema = ctx.store.read_schema(ctx.run_id, stage, chunk)
            parts.append(Part(name, chunk, schema, ctx.store.rows(ctx.run_id, stage, chunk)))
    return parts


def load_quarantine(
    ctx: RunContext, url: str, batch_id: int, parts: Sequence[QuarantinePart]
) -> int:
    """All of the run's quarantined rows into the batch's hidden quarantine table."""
    from etl_express.stages.quarantine import load_quarantine as load

    with stage_errors(LOAD, None):
        return load(url, batch_id, parts, lambda p: ctx.read(f"{QUARANTINE}.{p.input}", p.chunk))


def _merge_anonymize(ctx: RunContext) -> tuple[dict[str, Any], str | None]:
    chunks = ctx.store.chunks(ctx.run_id, ANONYMIZE, kind="json")
    columns: dict[str, dict[str, Any]] = {}
    reasons: list[dict[str, Any]] = []
    key: Any = None
    rows = 0
    for chunk in chunks:
        info = ctx.store.read_json(ctx.run_id, ANONYMIZE, chunk)
        stats = info["stats"]
        key = stats.get("key", key)
        rows += int(stats.get("rows", 0))
        for column, values in stats.get("columns", {}).items():
            merged = columns.setdefault(column, {"operator": values.get("operator")})
            for name, value in values.items():
                if isinstance(value, int) and not isinstance(value, bool):
                    merged[name] = merged.get(name, 0) + value
        reasons += [dict(r, chunk=chunk) for r in info["gate"].get("reasons", [])]
    report = {"rows": rows, "key": key, "columns": columns, "gate": {
        "passed": not reasons, "reasons": reasons, "chunks": len(chunks)}}  # fmt: skip
    blocked = f"privacy gate: {len(reasons)} finding(s)" if reasons else None
    return report, blocked


def finalize(
    ctx: RunContext,
    url: str,
    batch_id: int,
    *,
    expected_chunks: int,
    quasi_identifiers: tuple[str, ...] = (),
) -> FinalizedBatch:
    """Publish the batch (all chunks loaded) with its privacy report, in one transaction."""
    from etl_express.stages.outbox import finalize_batch

    with stage_errors("finalize", None):
        anonymized = ctx.store.chunks(ctx.run_id, ANONYMIZE, kind="json")
        report, blocked = _merge_anonymize(ctx) if anonymized else (
            {}, None)  # fmt: skip
        return finalize_batch(
            url,
            batch_id,
            expected_chunks,
            privacy_report=report,
            quasi_identifiers=quasi_identifiers,
            blocked_reason=blocked,
            k_anonymity=_k_anonymity(ctx, anonymized, quasi_identifiers),
        )


def _k_anonymity(
    ctx: RunContext, anonymized: list[int], quasi_identifiers: Sequence[str]
) -> dict[str, Any] | None:
    """k from the chunks' staged group counts; None (PostgreSQL computes it over the loaded
    batch) unless every anonymized chunk staged them."""
    from etl_express.stages.k_anonymity import from_group_counts

    if not quasi_identifiers or not anonymized:
        return None
    if ctx.store.chunks(ctx.run_id, QI_COUNTS) != anonymized:
        return None
    return from_group_counts(_staged(ctx, QI_COUNTS), quasi_identifiers, _memory_mb())


def progress(store: StagingStore, run_id: str) -> dict[str, dict[str, int]]:
    """Rows in/out and chunks done per stage, from the stats staged so far (for the UI)."""
    out: dict[str, dict[str, int]] = {}
    for stage in (FIELD_RULES, TRANSFORM, ANONYMIZE, LOAD):
        totals = {"chunks": 0, "rows_in": 0, "rows_out": 0}
        for chunk in store.chunks(run_id, stage, kind="json"):
            try:
                info = store.read_json(run_id, stage, chunk)
            except FileNotFoundError:
                continue
            stats = info.get("stats", info)
            totals["chunks"] += 1
            totals["rows_in"] += int(stats.get("rows_in", stats.get("rows", 0)))
            totals["rows_out"] += int(stats.get("rows_out", stats.get("rows", 0)))
        out[stage] = totals
    return out
