"""Outbox batches: listing, review (with the task's review policy) and expiry.

Creating and loading a batch's table is the processing engine's job; it records state changes
through `transition` so each one is checked against the batch state machine and audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa

from etl_express.errors import Conflict, Forbidden, NotFound
from etl_express.registry.actors import as_actor
from etl_express.stores import batches as store
from etl_express.stores import tasks as task_store
from etl_express.stores.audit import SYSTEM, Actor, AuditedTx, audited
from etl_express.stores.records import BatchRecord, UploadRecord


def list_batches(
    engine: sa.Engine,
    *,
    state: str | None = None,
    task_slug: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[BatchRecord]:
    with engine.connect() as conn:
        task_id = None
        if task_slug is not None:
            task = task_store.get_task(conn, slug=task_slug)
            if task is None:
                raise NotFound(f"there is no task {task_slug!r}")
            task_id = task.id
        return store.list_batches(conn, state=state, task_id=task_id, limit=limit, offset=offset)


def get_batch(engine: sa.Engine, batch_id: int) -> BatchRecord:
    with engine.connect() as conn:
        found = store.get_batch(conn, batch_id)
    if found is None:
        raise NotFound(f"there is no batch {batch_id}")
    return found


def list_uploads(engine: sa.Engine, batch_id: int) -> list[UploadRecord]:
    with engine.connect() as conn:
        return store.list_uploads(conn, batch_id)


def _locked(tx: AuditedTx, batch_id: int) -> BatchRecord:
    found = store.get_batch(tx.conn, batch_id, for_update=True)
    if found is None:
        raise NotFound(f"there is no batch {batch_id}")
    return found


def transition(
    engine: sa.Engine,
    batch_id: int,
    to_state: str,
    *,
    actor: str | Actor = SYSTEM,
    reason: str | None = None,
    **fields: Any,
) -> BatchRecord:
    """Move a batch to `to_state` (Conflict when the state machine does not allow it)."""
    with audited(engine, as_actor(actor)) as tx:
        return store.transition(tx, _locked(tx, batch_id), to_state, reason=reason, **fields)


def review_batch(
    engine: sa.Engine,
    batch_id: int,
    *,
    approve: bool,
    actor: str | Actor,
    reason: str | None = None,
) -> BatchRecord:
    """Approve or reject a batch waiting for review.

    With the task's policy `approver_must_differ`, the last editor of the task may not approve
    its batches (Forbidden). Rejecting is always allowed: anyone may stop data from leaving.
    """
    who = as_actor(actor)
    with audited(engine, who) as tx:
        batch = _locked(tx, batch_id)
        if batch.state != "ready_for_review" and not (batch.state == "blocked" and not approve):
            raise Conflict(f"batch {batch_id} is {batch.state}, not waiting for review")
        task = task_store.get_task(tx.conn, task_id=batch.task_id, include_deleted=True)
        assert task is not None  # foreign key
        if approve and task.approver_must_differ and task.updated_by == who.name:
            raise Forbidden(
                f"{who.name} last edited task {task.slug!r}; its review policy requires "
                "someone else to approve"
            )
        return store.transition(
            tx,
            batch,
            "approved" if approve else "rejected",
            reason=reason,
            reviewed_by=who.name,
            reviewed_at=dt.datetime.now(dt.UTC),
        )


def expire_due(engine: sa.Engine, now: dt.datetime | None = None) -> list[BatchRecord]:
    """Expire every batch past its retention period; each in its own audited transaction."""
    with engine.connect() as conn:
        due = store.due_for_expiry(conn, now)
    expired: list[BatchRecord] = []
    for batch in due:
        try:
            expired.append(
                transition(
                    engine, batch.id, "expired", actor=SYSTEM, reason="retention period over"
                )
            )
        except Conflict:
            continue  # reviewed or cancelled since we looked: nothing to expire
    return expired
