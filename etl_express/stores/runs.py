"""Task runs: one row per Airflow DAG run of an ETL task, with per-stage row counts."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from etl_express.stores.audit import AuditedTx
from etl_express.stores.jsonable import to_jsonable
from etl_express.stores.records import RunRecord
from etl_express.stores.schema import etl_tasks, task_run_chunks, task_runs

FINAL_STATES: Final = frozenset({"success", "failed", "cancelled"})


def _select() -> sa.Select[Any]:
    return sa.select(task_runs, etl_tasks.c.slug.label("task_slug")).join(
        etl_tasks, etl_tasks.c.id == task_runs.c.task_id
    )


def get_run(conn: sa.Connection, run_id: int) -> RunRecord | None:
    row = conn.execute(_select().where(task_runs.c.id == run_id)).first()
    return None if row is None else RunRecord.from_row(row)


def find_run(conn: sa.Connection, dag_id: str, dag_run_id: str) -> RunRecord | None:
    stmt = _select().where(task_runs.c.dag_id == dag_id, task_runs.c.dag_run_id == dag_run_id)
    row = conn.execute(stmt).first()
    return None if row is None else RunRecord.from_row(row)


def list_runs(
    conn: sa.Connection,
    *,
    task_id: int | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[RunRecord]:
    """Newest first."""
    stmt = (
        _select()
        .order_by(task_runs.c.started_at.desc(), task_runs.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if task_id is not None:
        stmt = stmt.where(task_runs.c.task_id == task_id)
    if state:
        stmt = stmt.where(task_runs.c.state == state)
    return [RunRecord.from_row(row) for row in conn.execute(stmt)]


def start_run(tx: AuditedTx, *, task_id: int, dag_id: str, dag_run_id: str) -> RunRecord:
    """Register a DAG run (again: retries of the first stage call this too, it is idempotent)."""
    inserted = tx.conn.execute(
        pg_insert(task_runs)
        .values(task_id=task_id, dag_id=dag_id, dag_run_id=dag_run_id, state="running")
        .on_conflict_do_nothing(constraint="uq_task_runs_dag_run")
        .returning(task_runs.c.id)
    ).first()
    run = find_run(tx.conn, dag_id, dag_run_id)
    assert run is not None
    if inserted is None:
        tx.nothing_changed()
    else:
        tx.record("run.start", "run", run.id, after={"dag_id": dag_id, "dag_run_id": dag_run_id})
    return run


def record_stage(
    tx: AuditedTx,
    run: RunRecord,
    *,
    stage: str,
    stats: Mapping[str, Any] | None = None,
    reset: Sequence[str] = (),
    start: Mapping[str, Mapping[str, Any]] | None = None,
) -> RunRecord:
    """Mark `stage` as the run's current stage and merge its row counts into the run's stats.

    `reset` names stages whose chunk counts are void (their input was just made again), so a
    re-run of them starts counting from nothing; `start` gives the stats such a stage starts
    from (the chunks it is to expect).
    """
    merged = {k: v for k, v in run.stats.items() if k not in reset}
    if reset:
        tx.conn.execute(
            sa.delete(task_run_chunks).where(
                task_run_chunks.c.run_id == run.id, task_run_chunks.c.stage.in_(list(reset))
            )
        )
    merged |= {name: to_jsonable(value) for name, value in (start or {}).items()}
    merged |= {stage: to_jsonable(stats)} if stats is not None else {}
    tx.conn.execute(
        sa.update(task_runs).where(task_runs.c.id == run.id).values(stage=stage, stats=merged)
    )
    tx.record(
        "run.stage",
        "run",
        run.id,
        before={"stage": run.stage},
        after={"stage": stage},
        details=None if stats is None else {"stats": to_jsonable(stats)},
    )
    return run.model_copy(update={"stage": stage, "stats": merged})


def _moved(
    totals: Mapping[str, Any], new: Mapping[str, int], old: Mapping[str, int] | None
) -> dict[str, Any]:
    """`totals` with one chunk's counts: added when the chunk is new, else moved by the
    difference to what it counted before. Other keys (chunks expected, ...) are kept."""
    moved = dict(totals)
    moved["chunks"] = int(totals.get("chunks", 0)) + (old is None)
    for name in dict.fromkeys([*new, *(old or {})]):
        value = int(new.get(name, 0)) - int((old or {}).get(name, 0))
        moved[name] = int(totals.get(name, 0)) + value
    return moved


def record_chunk(
    tx: AuditedTx,
    run: RunRecord,
    *,
    stage: str,
    chunk: int,
    counts: Mapping[str, int],
    input_name: str | None = None,
) -> RunRecord:
    """One chunk of a mapped stage: its counts (``rows_in``, ``rows_out`` and any others, e.g.
    ``rows_quarantined``) replace what the same chunk recorded before, and the stage's totals in
    the run's stats move by the difference (a retried chunk counts once). `input_name` (the
    extraction input the chunk came from) also moves that input's subtotal under ``inputs``.
    Constant work per chunk; the caller holds the run row's lock."""
    rows_in, rows_out = int(counts.get("rows_in", 0)), int(counts.get("rows_out", 0))
    others = {k: int(v) for k, v in counts.items() if k not in ("rows_in", "rows_out")}
    key = (
        task_run_chunks.c.run_id == run.id,
        task_run_chunks.c.stage == stage,
        task_run_chunks.c.chunk == chunk,
    )
    before = tx.conn.execute(
        sa.select(
            task_run_chunks.c.rows_in, task_run_chunks.c.rows_out, task_run_chunks.c.counts
        ).where(*key)
    ).first()
    values = {"rows_in": rows_in, "rows_out": rows_out, "counts": others}
    tx.conn.execute(
        pg_insert(task_run_chunks)
        .values(run_id=run.id, stage=stage, chunk=chunk, **values)
        .on_conflict_do_update(constraint="pk_task_run_chunks", set_=values)
    )
    new = {"rows_in": rows_in, "rows_out": rows_out, **others}
    old = None
    if before is not None:
        old = {"rows_in": before.rows_in, "rows_out": before.rows_out, **(before.counts or {})}
    totals = run.stats.get(stage) or {}
    stats = _moved(totals, new, old)
    if input_name is not None:
        inputs = dict(totals.get("inputs") or {})
        inputs[input_name] = _moved(inputs.get(input_name) or {}, new, old)
        stats["inputs"] = inputs
    return record_stage(tx, run, stage=stage, stats=stats)


def finish_run(
    tx: AuditedTx, run: RunRecord, *, state: str, error: Mapping[str, Any] | None = None
) -> RunRecord:
    if state not in FINAL_STATES:
        raise ValueError(f"a run finishes as one of {sorted(FINAL_STATES)}, not {state!r}")
    row = tx.conn.execute(
        sa.update(task_runs)
        .where(task_runs.c.id == run.id)
        .values(state=state, error=to_jsonable(error), ended_at=sa.func.now())
        .returning(task_runs.c.ended_at)
    ).one()
    tx.record(
        f"run.{state}",
        "run",
        run.id,
        before={"state": run.state},
        after={"state": state, "error": to_jsonable(error)},
    )
    return run.model_copy(update={"state": state, "error": error, "ended_at": row.ended_at})


def resume_run(tx: AuditedTx, run: RunRecord) -> RunRecord:
    """A retried stage is running again after a failure was recorded: back to `running`."""
    if run.state == "running":
        tx.nothing_changed()
        return run
    tx.conn.execute(
        sa.update(task_runs)
        .where(task_runs.c.id == run.id)
        .values(state="running", error=None, ended_at=None)
    )
    tx.record("run.resume", "run", run.id, before={"state": run.state}, after={"state": "running"})
    return run.model_copy(update={"state": "running", "error": None, "ended_at": None})
