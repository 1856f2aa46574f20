"""Task runs as the API shows them and as the stage tasks record them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import sqlalchemy as sa

from etl_express.errors import NotFound
from etl_express.registry.actors import as_actor
from etl_express.stores import runs as store
from etl_express.stores import tasks as task_store
from etl_express.stores.audit import SYSTEM, Actor, audited
from etl_express.stores.records import RunRecord


def list_runs(
    engine: sa.Engine,
    *,
    task_slug: str | None = None,
    state: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[RunRecord]:
    """Newest first; `task_slug` limits to one task (NotFound when it does not exist)."""
    with engine.connect() as conn:
        task_id = None
        if task_slug is not None:
            task = task_store.get_task(conn, slug=task_slug)
            if task is None:
                raise NotFound(f"there is no task {task_slug!r}")
            task_id = task.id
        return store.list_runs(conn, task_id=task_id, state=state, limit=limit, offset=offset)


def get_run(engine: sa.Engine, run_id: int) -> RunRecord:
    with engine.connect() as conn:
        found = store.get_run(conn, run_id)
    if found is None:
        raise NotFound(f"there is no run {run_id}")
    return found


def start_run(
    engine: sa.Engine,
    *,
    task_id: int,
    dag_id: str,
    dag_run_id: str,
    actor: str | Actor = SYSTEM,
) -> RunRecord:
    """Register an Airflow DAG run of a task; calling it again for the same run is harmless."""
    with audited(engine, as_actor(actor)) as tx:
        return store.start_run(tx, task_id=task_id, dag_id=dag_id, dag_run_id=dag_run_id)


def record_stage(
    engine: sa.Engine,
    run_id: int,
    *,
    stage: str,
    stats: Mapping[str, Any] | None = None,
    reset: Sequence[str] = (),
    start: Mapping[str, Mapping[str, Any]] | None = None,
    actor: str | Actor = SYSTEM,
) -> RunRecord:
    """Note the stage a run reached and that stage's row counts (``{"rows_in": .., ...}``);
    `reset`: stages whose per-chunk counts start over (see `record_chunk`), `start`: the stats
    they start from (e.g. ``{"chunks": 0, "chunks_expected": 4}``)."""
    with audited(engine, as_actor(actor)) as tx:
        run = _locked(tx.conn, run_id)
        return store.record_stage(tx, run, stage=stage, stats=stats, reset=reset, start=start)


def record_chunk(
    engine: sa.Engine,
    run_id: int,
    *,
    stage: str,
    chunk: int,
    counts: Mapping[str, int],
    input_name: str | None = None,
    actor: str | Actor = SYSTEM,
) -> RunRecord:
    """Note one chunk of a mapped stage (``{"rows_in": .., "rows_out": .., ...}``); the stage's
    totals, and its input's subtotal, count each chunk once, however often it is retried."""
    with audited(engine, as_actor(actor)) as tx:
        run = _locked(tx.conn, run_id)
        return store.record_chunk(
            tx, run, stage=stage, chunk=chunk, counts=counts, input_name=input_name
        )


def finish_run(
    engine: sa.Engine,
    run_id: int,
    *,
    state: str,
    error: Mapping[str, Any] | None = None,
    actor: str | Actor = SYSTEM,
) -> RunRecord:
    with audited(engine, as_actor(actor)) as tx:
        run = _locked(tx.conn, run_id)
        return store.finish_run(tx, run, state=state, error=error)


def _locked(conn: sa.Connection, run_id: int) -> RunRecord:
    from etl_express.stores.schema import task_runs

    conn.execute(sa.select(task_runs.c.id).where(task_runs.c.id == run_id).with_for_update())
    run = store.get_run(conn, run_id)
    if run is None:
        raise NotFound(f"there is no run {run_id}")
    return run


def resume_run(engine: sa.Engine, run_id: int, *, actor: str | Actor = SYSTEM) -> RunRecord:
    with audited(engine, as_actor(actor)) as tx:
        return store.resume_run(tx, _locked(tx.conn, run_id))
