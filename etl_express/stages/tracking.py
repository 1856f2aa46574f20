"""Run tracking: every stage call notes its progress, or its failure, on the task's run row.

This is what the UI reads to show rows in/out per stage while a run is going and the stage,
chunk and message of a failure. Tracking is best effort: a tracking write that fails is
logged and never fails the stage itself (the outbox load needs the database anyway).
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


# Stages whose chunks leave stats in the staging store, under the stage's own name.
STAGED: Final = ("field_rules", "transform", "anonymize", "load_outbox")
# A stage made again voids the chunk counts of the mapped stage it feeds.
FEEDS: Final = {"extract": ("field_rules",), "transform": ("anonymize",)}


def _counts(info: Any) -> tuple[int, int]:
    """(rows in, rows out) from a chunk's staged stats (anonymize nests them under "stats")."""
    stats = info.get("stats", info) if isinstance(info, dict) else {}
    rows_in = int(stats.get("rows_in", stats.get("rows", 0)))
    return rows_in, int(stats.get("rows_out", stats.get("rows", 0)))


def _staged(run: dict[str, Any]) -> tuple[Any, str]:
    from etl_express.staging.store import StagingStore

    return StagingStore.from_settings(), f"{run['dag_id']}/{run['dag_run_id']}"


def _staged_chunk(run: dict[str, Any], stage: str, chunk: int) -> tuple[int, int] | None:
    """Counts of one staged chunk (None when it left none): one small read per call."""
    if stage not in STAGED:
        return None
    try:
        store, run_id = _staged(run)
        return _counts(store.read_json(run_id, stage, chunk))
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
            rows_in, rows_out = _counts(store.read_json(run_id, stage, chunk))
            totals["chunks"] += 1
            totals["rows_in"] += rows_in
            totals["rows_out"] += rows_out
    except Exception:
        log.warning("run tracking: could not read staged stats", exc_info=True)
        return None
    return totals if totals["chunks"] else None


def _stage_key(stage: str, run: dict[str, Any]) -> str:
    index = run.get("map_index")
    return stage if index is None or index < 0 else f"{stage}[{index}]"


def _best_effort(action: Callable[[], object], what: str) -> None:
    try:
        action()
    except Exception:
        log.warning("run tracking: could not %s", what, exc_info=True)


class _Tracker:
    def __init__(
        self, engine: sa.Engine, stage: str, run: dict[str, Any], bundle: dict[str, Any]
    ) -> None:
        self.engine, self.stage, self.run, self.bundle = engine, stage, run, bundle
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
        result = self.results[0] if self.results else None
        index = self.run.get("map_index")
        if index is not None and index >= 0:  # one chunk of a mapped stage
            chunk = result.get("chunk", index) if isinstance(result, dict) else index
            counts = _staged_chunk(self.run, self.stage, int(chunk))
            if counts is not None:  # the stage's totals move by this chunk's counts
                runs.record_chunk(self.engine, self.run_id, stage=self.stage, chunk=index,
                                  rows_in=counts[0], rows_out=counts[1])  # fmt: skip
                return
            key, stats = _stage_key(self.stage, self.run), summary(result)
        else:
            key, stats = self.stage, _staged_totals(self.run, self.stage) or summary(result)
        reset = FEEDS.get(self.stage, ())
        runs.record_stage(self.engine, self.run_id, stage=key, stats=stats, reset=reset)
        if self.stage == "load_outbox":
            runs.finish_run(self.engine, self.run_id, state="success")


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


@contextmanager
def tracked(
    stage: str, run: dict[str, Any], bundle: dict[str, Any], engine: sa.Engine | None = None
) -> Iterator[Callable[[Any], None]]:
    """Context for one stage call; call the yielded function with the stage's result."""
    engine = engine if engine is not None else _engine()
    if engine is None:  # no ETL-Express database configured (e.g. a bare `dag.test()`)
        yield lambda result: None
        return
    tracker = (_Teardown if stage == CLEANUP else _Tracker)(engine, stage, run, bundle)
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
