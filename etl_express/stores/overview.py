"""The numbers on the ETL-Express front page, in one read-only query round."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from etl_express.stores import audit, batches, runs
from etl_express.stores.schema import BATCH_STATES, SCRIPT_KINDS, TASK_STATES, etl_tasks, scripts


def _task_counts(conn: sa.Connection) -> dict[str, int]:
    stmt = (
        sa.select(etl_tasks.c.state, sa.func.count())
        .where(etl_tasks.c.deleted_at.is_(None))
        .group_by(etl_tasks.c.state)
    )
    found = {state: int(n) for state, n in conn.execute(stmt)}
    return {state: found.get(state, 0) for state in TASK_STATES}


def _script_counts(conn: sa.Connection) -> dict[str, int]:
    stmt = (
        sa.select(scripts.c.kind, sa.func.count())
        .where(scripts.c.archived.is_(False))
        .group_by(scripts.c.kind)
    )
    found = {kind: int(n) for kind, n in conn.execute(stmt)}
    return {kind: found.get(kind, 0) for kind in SCRIPT_KINDS}


def _broken_tasks(conn: sa.Connection) -> list[dict[str, Any]]:
    stmt = (
        sa.select(etl_tasks.c.slug, etl_tasks.c.name, etl_tasks.c.dag_error)
        .where(etl_tasks.c.deleted_at.is_(None), etl_tasks.c.dag_error.is_not(None))
        .order_by(etl_tasks.c.name)
    )
    return [dict(row._mapping) for row in conn.execute(stmt)]


def get_overview(conn: sa.Connection, *, recent: int = 10) -> dict[str, Any]:
    """Tasks by state, scripts by kind, recent runs, outbox batches by state, recent audit
    events; JSON-ready."""
    task_counts = _task_counts(conn)
    script_counts = _script_counts(conn)
    found = batches.counts_by_state(conn)
    batch_counts = {state: found.get(state, 0) for state in BATCH_STATES}
    return {
        "tasks": {
            "total": sum(task_counts.values()),
            "by_state": task_counts,
            "with_dag_errors": _broken_tasks(conn),
        },
        "scripts": {"total": sum(script_counts.values()), "by_kind": script_counts},
        "recent_runs": [run.model_dump(mode="json") for run in runs.list_runs(conn, limit=recent)],
        "batches": {
            "by_state": batch_counts,
            "awaiting_review": batch_counts["ready_for_review"],
        },
        "recent_events": audit.search_events(conn, limit=recent),
    }
