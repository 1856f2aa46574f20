"""Run tracking: every stage call notes its progress, or its failure, on the task's run row.

This is what the UI reads to show rows in/out per stage while a run is going and the stage,
chunk and message of a failure. Tracking is best effort: a tracking write that fails is
logged and never fails the stage itself (the outbox load needs the database anyway).

The run's stats hold one total per stage (mapped stages: chunks done of chunks expected, known
once the stage feeding them is done); a mapped chunk moves its stage's totals by its own counts:

    extract      {"chunks", "inputs": {input: {"chunks"}}}
    field_rules  {"chunks", "chunks_expected", "rows_in", "rows_out", "rows_quarantined",
                  "inputs": {input: {the same, for that extraction input}}}
    transform    {"chunks", "rows_in" (the field rules' rows out), "rows_out"}; a row-wise
                 transformation runs inside the anonymize chunks, which count its chunks:
                 {"chunks", "chunks_expected", "rows_in", "rows_out"}
    anonymize    {"chunks", "chunks_expected", "rows_in", "rows_out", "gate_findings"}
    load_outbox  {"chunks", "chunks_expected", "rows_in", "rows_out" (rows in the batch)};
                 moved by each anonymize chunk that loaded its rows, set when published
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Final

from etl_express.stages.errors import StageError

if TYPE_CHECKING:
    import sqlalchemy as sa

log = logging.getLogger(__name__)
WITHHELD = "details withheld: they may contain row data"
STOPPED = "the run ended before its batch was published (a task was stopped or timed out)"
CLEANUP = "cleanup"


@lru_cache(maxsize=1)
def _engine() -> sa.Engine | None:
    from etl_express.settings import get_settings
    from etl_express.stores.db import make_engine

    return make_engine() if get_settings().database_url else None


def summary(result: Any) -> dict[str, int]:
    """Row counts from what an entry point returned (a chunk dict or a list of them)."""
    chunks = result if isinstance(result, list) else [result]
    counts: dict[str, int] = {"chunks": len(chunks)} if isinstance(result, list) else {}
    for chunk in chunks:
        if not isinstance(chunk, dict):
            continue
        for key, value in chunk.items():
            if key.startswith("rows") and isinstance(value, int) and not isinstance(value, bool):
                counts[key] = counts.get(key, 0) + value
    return counts


# Stages whose chunks leave stats in the staging store, under the stage's own name (field
# rules under one per extraction input: `field_rules.<input>`).
STAGED: Final = ("field_rules", "transform", "anonymize", "load_outbox")
# A stage made again voids the counts of every stage after it (a mapped one's chunks too).
FEEDS: Final = {
    "extract": ("field_rules", "transform", "anonymize", "load_outbox"),
    # A row-wise transformation counts chunks of its own (see `_transform_stats`).
    "transform": ("transform", "anonymize", "load_outbox"),
}


def _int(value: Any) -> int:
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0


def chunk_counts(info: Any) -> dict[str, int]:
    """Counts of one chunk from its staged stats: rows in/out, and where the stage has them,
    rows quarantined (field rules) and privacy-gate findings (anonymize, which nests its row
    counts under "stats" and its gate result under "gate")."""
    if not isinstance(info, dict):
        return {}
    stats = info.get("stats", info)
    stats = stats if isinstance(stats, dict) else {}
    counts = {
        "rows_in": _int(stats.get("rows_in", stats.get("rows"))),
        "rows_out": _int(stats.get("rows_out", stats.get("rows"))),
    }
    if "rows_quarantined" in stats:
        counts["rows_quarantined"] = _int(stats["rows_quarantined"])
    gate = info.get("gate")
    if isinstance(gate, dict):
        counts["gate_findings"] = len(gate.get("reasons") or ())
    return counts


def _result_counts(result: Any) -> dict[str, int]:
    """What a chunk's own result tells when its staged stats cannot be read."""
    counts = summary(result)
    if "rows" in counts:
        counts.setdefault("rows_out", counts.pop("rows"))
    if isinstance(result, dict) and "quarantined" in result:
        counts["rows_quarantined"] = _int(result["quarantined"])
    return counts


def _staged(run: dict[str, Any]) -> tuple[Any, str]:
    from etl_express.stages.entry import staging_store  # the store the stages wrote to

    return staging_store(), f"{run['dag_id']}/{run['dag_run_id']}"


def _source(stage: str, result: Any) -> str:
    """Where a chunk of `stage` staged its stats: the result names it (`field_rules.<input>`)."""
    named = result.get("stage") if isinstance(result, dict) else None
    if isinstance(named, str) and (named == stage or named.startswith(f"{stage}.")):
        return named
    return stage


def _staged_chunk(
    run: dict[str, Any], stage: str, index: int, result: Any
) -> dict[str, int] | None:
    """Counts of one staged chunk (None when it left none): one small read per call. The
    chunk's number in staging is the result's (per input), else its map index."""
    if stage not in STAGED:
        return None
    chunk = result.get("chunk", index) if isinstance(result, dict) else index
    try:
        store, run_id = _staged(run)
        return chunk_counts(store.read_json(run_id, _source(stage, result), int(chunk)))
    except FileNotFoundError:
        return None
    except Exception:
        log.warning("run tracking: could not read staged stats", exc_info=True)
        return None


def _staged_totals(run: dict[str, Any], stage: str) -> dict[str, int] | None:
    """Totals of every staged chunk of an unmapped stage (it runs once per run, so reading its
    chunks is linear); None when it staged no stats."""
    if stage not in STAGED:
        return None
    try:
        store, run_id = _staged(run)
        totals = {"chunks": 0, "rows_in": 0, "rows_out": 0}
        for chunk in store.chunks(run_id, stage, kind="json"):
            counts = chunk_counts(store.read_json(run_id, stage, chunk))
            totals["chunks"] += 1
            totals["rows_in"] += counts["rows_in"]
            totals["rows_out"] += counts["rows_out"]
    except Exception:
        log.warning("run tracking: could not read staged stats", exc_info=True)
        return None
    return totals if totals["chunks"] else None


def _dicts(value: Any) -> list[dict[str, Any]]:
    items = value if isinstance(value, list) else []
    return [item for item in items if isinstance(item, dict)]


def _by_input(chunks: list[dict[str, Any]]) -> dict[str, int]:
    """Chunk count per extraction input, from extract's chunk list."""
    found: dict[str, int] = {}
    for chunk in chunks:
        if isinstance(chunk.get("input"), str):
            found[chunk["input"]] = found.get(chunk["input"], 0) + 1
    return found


def _best_effort(action: Callable[[], object], what: str) -> None:
    try:
        action()
    except Exception:
        log.warning("run tracking: could not %s", what, exc_info=True)


class _Tracker:
    def __init__(
        self,
        engine: sa.Engine,
        stage: str,
        run: dict[str, Any],
        bundle: dict[str, Any],
        inputs: tuple[Any, ...] = (),
    ) -> None:
        self.engine, self.stage, self.run, self.bundle = engine, stage, run, bundle
        self.inputs = inputs
        self.results: list[Any] = []
        self.run_id: int | None = None

    def start(self) -> None:
        from etl_express.registry import runs

        row = runs.start_run(
            self.engine, task_id=int(self.bundle["task"]["id"]),
            dag_id=self.run["dag_id"], dag_run_id=self.run["dag_run_id"],
        )  # fmt: skip
        if row.state == "failed" and self._is_retry():
            row = runs.resume_run(self.engine, row.id)
        self.run_id = row.id

    def _is_retry(self) -> bool:
        """A retry (or cleared task) resumes a failed run; so does extract, where a run starts
        over. A sibling chunk starting for the first time after another failed does not: the
        run's failure must stay on the row. Callers that give no try number resume."""
        try_number = self.run.get("try_number")
        return self.stage == "extract" or try_number is None or int(try_number) > 1

    def fail(self, error: dict[str, Any]) -> None:
        from etl_express.registry import runs

        if self.run_id is not None:
            runs.finish_run(self.engine, self.run_id, state="failed", error=error)

    def done(self) -> None:
        from etl_express.registry import runs

        if self.run_id is None:
            return
        if self.stage == "process":  # a streamed run noted its chunks as they went
            runs.finish_run(self.engine, self.run_id, state="success")
            return
        result = self.results[0] if self.results else None
        index = self.run.get("map_index")
        if index is not None and index >= 0:  # one chunk of a mapped stage
            counts = _staged_chunk(self.run, self.stage, index, result)
            name = result.get("input") if isinstance(result, dict) else None
            # An anonymize chunk that ran a row-wise transformation, or loaded its rows into
            # the outbox, counts those first: the last stage recorded is the run's current one.
            if isinstance(result, dict) and result.get("transform"):
                moved = _staged_chunk(self.run, "transform", index, {"chunk": result["chunk"]})
                if moved is not None:
                    runs.record_chunk(self.engine, self.run_id, stage="transform", chunk=index,
                                      counts=moved)  # fmt: skip
            if isinstance(result, dict) and result.get("loaded"):
                rows = _int(result.get("rows"))
                runs.record_chunk(self.engine, self.run_id, stage="load_outbox", chunk=index,
                                  counts={"rows_in": rows, "rows_out": rows})  # fmt: skip
            runs.record_chunk(
                self.engine, self.run_id, stage=self.stage, chunk=index,
                counts=_result_counts(result) if counts is None else counts,
                input_name=name if isinstance(name, str) else None,
            )  # fmt: skip
            return
        try:
            stats, start = self._stage_stats(result)
            runs.record_stage(self.engine, self.run_id, stage=self.stage, stats=stats,
                              reset=FEEDS.get(self.stage, ()), start=start)  # fmt: skip
        finally:  # the batch is published: the run succeeded, whatever its counts say
            if self.stage == "load_outbox":
                runs.finish_run(self.engine, self.run_id, state="success")

    def _stage_stats(self, result: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """(stats of an unmapped stage, stats the mapped stage it feeds starts from)."""
        if self.stage == "extract":
            return self._extract_stats(result)
        if self.stage == "transform":
            return self._transform_stats(result)
        if self.stage == "load_outbox":
            return self._load_stats(result), {}
        return _staged_totals(self.run, self.stage) or summary(result), {}

    def _extract_stats(self, result: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        stats: dict[str, Any] = summary(result)
        if "rows" in stats:  # rows read from the source
            stats["rows_out"] = stats.pop("rows")
        chunks = _dicts(result)
        expect: dict[str, Any] = {"chunks": 0, "chunks_expected": len(chunks)}
        by_input = _by_input(chunks)
        if by_input:
            rows = {name: sum(_int(c.get("rows")) for c in chunks if c.get("input") == name)
                    for name in by_input}  # fmt: skip
            stats["inputs"] = {name: {"chunks": n, "rows_out": rows[name]}
                               for name, n in by_input.items()}  # fmt: skip
            expect["inputs"] = {name: {"chunks": 0, "chunks_expected": n}
                                for name, n in by_input.items()}  # fmt: skip
        return stats, {"field_rules": expect}

    def _transform_stats(self, result: Any) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """Rows in are the field rules' rows out that fed the transform (its input chunks say
        them); a task without a transformation passes its chunks on unchanged."""
        out = _dicts(result)
        expect = {stage: {"chunks": 0, "chunks_expected": len(out)}
                  for stage in ("anonymize", "load_outbox")}  # fmt: skip
        if out and all(c.get("transform") for c in out):  # planned: the chunks will count
            return {"chunks": 0, "chunks_expected": len(out), "rows_in": 0, "rows_out": 0}, expect
        fed = _dicts(self.inputs[0]) if self.inputs else []
        stats = {"chunks": len(out), "rows_in": sum(_int(c.get("rows")) for c in fed)}
        staged = _staged_totals(self.run, self.stage)
        if staged:
            stats["rows_out"] = staged["rows_out"]
        elif out and all(c.get("stage") != self.stage for c in out):  # passed on unchanged
            stats["rows_out"] = stats["rows_in"]
        return stats, expect

    def _load_stats(self, result: Any) -> dict[str, Any]:
        """The outbox load removes the run's staging when done: its counts come from its result
        (rows in the batch) and the anonymized chunks it was given."""
        from etl_express.registry import runs

        stats: dict[str, Any] = summary(result)
        if isinstance(result, dict) and "row_count" in result:
            stats["rows_out"] = _int(result["row_count"])
        if self.inputs:
            stats["chunks"] = stats["chunks_expected"] = len(_dicts(self.inputs[0]))
        assert self.run_id is not None
        fed = runs.get_run(self.engine, self.run_id).stats.get("anonymize") or {}
        if "rows_out" in fed:
            stats["rows_in"] = _int(fed["rows_out"])
        return stats


class _Teardown(_Tracker):
    """The run-end cleanup. It never resumes a failed run, never becomes the run's stage and
    never records a failure of its own over the run's: it only closes a row still `running`,
    as a stage that was killed or timed out records nothing."""

    def start(self) -> None:
        from etl_express.stores.runs import find_run

        with self.engine.connect() as conn:
            row = find_run(conn, self.run["dag_id"], self.run["dag_run_id"])
        self.run_id = None if row is None else row.id

    def fail(self, error: dict[str, Any]) -> None:
        log.warning("run tracking: the cleanup failed (%s); the run row keeps its state", error)

    def done(self) -> None:
        from etl_express.registry import runs

        if self.run_id is None:
            return
        row = runs.get_run(self.engine, self.run_id)
        if row.state != "running":
            return
        result = self.results[0] if self.results else None
        if isinstance(result, dict) and result.get("published"):
            runs.finish_run(self.engine, row.id, state="success")
            return
        error = {"stage": row.stage, "chunk": None, "message": STOPPED}
        runs.finish_run(self.engine, row.id, state="failed", error=error)


def chunk_progress(
    run: dict[str, Any], bundle: dict[str, Any], engine: sa.Engine | None = None
) -> Callable[[str, int, dict[str, int]], None]:
    """What a streamed run (one task for every stage) calls after each stage of each chunk:
    the chunk's counts go on the run row as a mapped chunk's would. Best effort."""
    import threading

    engine = engine if engine is not None else _engine()
    found: list[int] = []
    lock = threading.Lock()
    inputs = [s.get("input_name") or "source" for s in bundle["scripts"]
              if s["role"] == "extraction"]  # fmt: skip

    def record(stage: str, chunk: int, counts: dict[str, int]) -> None:
        from etl_express.registry import runs
        from etl_express.stores.runs import find_run

        assert engine is not None
        with lock:
            if not found:
                with engine.connect() as conn:
                    row = find_run(conn, run["dag_id"], run["dag_run_id"])
                if row is None:
                    return
                found.append(row.id)
        named = stage in ("extract", "field_rules") and len(inputs) == 1
        runs.record_chunk(engine, found[0], stage=stage, chunk=chunk, counts=counts,
                          input_name=inputs[0] if named else None)  # fmt: skip

    def note(stage: str, chunk: int, counts: dict[str, int]) -> None:
        if engine is not None:
            _best_effort(lambda: record(stage, chunk, counts), "record a chunk")

    return note


@contextmanager
def tracked(
    stage: str,
    run: dict[str, Any],
    bundle: dict[str, Any],
    engine: sa.Engine | None = None,
    *,
    inputs: tuple[Any, ...] = (),
) -> Iterator[Callable[[Any], None]]:
    """Context for one stage call; call the yielded function with the stage's result.
    `inputs`: the call's arguments after run and bundle (the chunk or chunks it was given)."""
    engine = engine if engine is not None else _engine()
    if engine is None:  # no ETL-Express database configured (e.g. a bare `dag.test()`)
        yield lambda result: None
        return
    kind = _Teardown if stage == CLEANUP else _Tracker
    tracker = kind(engine, stage, run, bundle, inputs)
    _best_effort(tracker.start, "register the run")
    try:
        yield tracker.results.append
    except StageError as exc:
        error = exc.as_dict()
        _best_effort(lambda: tracker.fail(error), "record the failure")
        raise
    except Exception as exc:
        error = {"stage": stage, "chunk": run.get("map_index"),
                 "message": f"{type(exc).__name__} ({WITHHELD})"}  # fmt: skip
        _best_effort(lambda: tracker.fail(error), "record the failure")
        raise
    _best_effort(tracker.done, "record the stage")
