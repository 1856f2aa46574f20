"""Outbox batches and their uploads, with the batch state machine enforced at every change.

A batch moves ``processing → ready_for_review → approved → uploading → uploaded``; side exits
``rejected``, ``expired``, ``cancelled``, ``failed``; ``blocked`` when the privacy gate finds a
leak. Transitions are compare-and-set on the current state, so two reviewers racing cannot both
win.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, Final

import sqlalchemy as sa

from etl_express.errors import Conflict
from etl_express.stores import quarantine
from etl_express.stores.audit import AuditedTx
from etl_express.stores.jsonable import to_jsonable
from etl_express.stores.records import BatchRecord, UploadRecord
from etl_express.stores.schema import etl_tasks, outbox_batches, uploads

# `blocked → ready_for_review` is deliberately absent: only `release_blocked` (an admin's
# audited override with a reason, see etl_express.registry.privacy_override) may make it.
TRANSITIONS: Final[Mapping[str, frozenset[str]]] = {
    "processing": frozenset({"ready_for_review", "blocked", "failed", "cancelled"}),
    "ready_for_review": frozenset({"approved", "rejected", "expired", "cancelled"}),
    "blocked": frozenset({"rejected", "expired", "cancelled"}),
    "approved": frozenset({"uploading", "cancelled"}),
    "uploading": frozenset({"uploaded", "failed", "cancelled"}),
    "uploaded": frozenset({"cancelled"}),  # a stop removes what was uploaded, by manifest
    "rejected": frozenset(),
    "expired": frozenset(),
    "cancelled": frozenset(),
    "failed": frozenset(),
}
UPDATABLE: Final = frozenset(
    {
        "row_count",
        "schema",
        "privacy_report",
        "key_version",
        "expires_at",
        "reviewed_by",
        "reviewed_at",
        "blocked_reason",
        "table_name",
    }
)
_JSON_FIELDS: Final = frozenset({"schema", "privacy_report"})
# A complete batch starts its retention clock whether reviewable or blocked: a blocked batch
# nobody releases or rejects must expire too, not hold its data forever.
CLOCK_STARTS: Final = frozenset({"ready_for_review", "blocked"})
# Quarantined rows are raw personal data kept only for the batch's review: they go when the
# batch ends without its data leaving (dropped in the transition's transaction).
QUARANTINE_ENDS: Final = frozenset({"expired", "cancelled"})


def _select() -> sa.Select[Any]:
    return sa.select(outbox_batches, etl_tasks.c.slug.label("task_slug")).join(
        etl_tasks, etl_tasks.c.id == outbox_batches.c.task_id
    )


def get_batch(
    conn: sa.Connection, batch_id: int, *, for_update: bool = False
) -> BatchRecord | None:
    stmt = _select().where(outbox_batches.c.id == batch_id)
    if for_update:
        stmt = stmt.with_for_update(of=outbox_batches)
    row = conn.execute(stmt).first()
    return None if row is None else BatchRecord.from_row(row)


def list_batches(
    conn: sa.Connection,
    *,
    state: str | None = None,
    task_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[BatchRecord]:
    """Newest first."""
    stmt = (
        _select()
        .order_by(outbox_batches.c.created_at.desc(), outbox_batches.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    if state:
        stmt = stmt.where(outbox_batches.c.state == state)
    if task_id is not None:
        stmt = stmt.where(outbox_batches.c.task_id == task_id)
    return [BatchRecord.from_row(row) for row in conn.execute(stmt)]


def counts_by_state(conn: sa.Connection) -> dict[str, int]:
    stmt = sa.select(outbox_batches.c.state, sa.func.count()).group_by(outbox_batches.c.state)
    return {state: int(n) for state, n in conn.execute(stmt)}


def due_for_expiry(conn: sa.Connection, now: dt.datetime | None = None) -> list[BatchRecord]:
    """Batches waiting for review (or blocked) whose retention period is over."""
    moment = now or dt.datetime.now(dt.UTC)
    stmt = _select().where(
        outbox_batches.c.state.in_(["ready_for_review", "blocked"]),
        outbox_batches.c.expires_at <= moment,
    )
    return [BatchRecord.from_row(row) for row in conn.execute(stmt)]


def create_batch(
    tx: AuditedTx,
    *,
    task_id: int,
    run_id: int | None,
    table_name: str | None = None,
    schema: Any = None,
    key_version: str | None = None,
    expires_at: dt.datetime | None = None,
) -> BatchRecord:
    row = tx.conn.execute(
        sa.insert(outbox_batches)
        .values(
            task_id=task_id,
            run_id=run_id,
            table_name=table_name,
            schema=to_jsonable(schema),
            key_version=key_version,
            expires_at=expires_at,
        )
        .returning(outbox_batches.c.id)
    ).one()
    batch = get_batch(tx.conn, int(row.id))
    assert batch is not None
    tx.record(
        "batch.create",
        "batch",
        batch.id,
        after={"state": batch.state, "task_id": task_id, "run_id": run_id, "table": table_name},
    )
    return batch


def transition(
    tx: AuditedTx,
    batch: BatchRecord,
    to_state: str,
    *,
    reason: str | None = None,
    **fields: Any,
) -> BatchRecord:
    """Move `batch` from the state it was read in to `to_state`, setting `fields` with it."""
    if to_state not in TRANSITIONS.get(batch.state, frozenset()):
        raise Conflict(f"batch {batch.id} is {batch.state}; it cannot become {to_state}")
    unknown = set(fields) - UPDATABLE
    if unknown:
        raise TypeError(f"not batch fields: {sorted(unknown)}")
    values: dict[str, Any] = {
        k: to_jsonable(v) if k in _JSON_FIELDS else v for k, v in fields.items()
    }
    if to_state in CLOCK_STARTS and batch.expires_at is None and "expires_at" not in fields:
        values["expires_at"] = _retention_end()
    done = tx.conn.execute(
        sa.update(outbox_batches)
        .where(outbox_batches.c.id == batch.id, outbox_batches.c.state == batch.state)
        .values(state=to_state, updated_at=sa.func.now(), **values)
    ).rowcount
    if done != 1:
        raise Conflict(f"batch {batch.id} changed meanwhile; reload it and try again")
    updated = get_batch(tx.conn, batch.id)
    assert updated is not None
    details: dict[str, Any] = {"reason": reason} if reason else {}
    if to_state in QUARANTINE_ENDS and quarantine.drop(tx.conn, batch.id):
        details["quarantine_dropped"] = True
    tx.record(
        f"batch.{_verb(to_state)}",
        "batch",
        batch.id,
        before={"state": batch.state},
        after={
            "state": to_state,
            **{k: to_jsonable(v) for k, v in fields.items()},
            "expires_at": to_jsonable(updated.expires_at),
        },
        details=details or None,
    )
    return updated


def _retention_end() -> sa.ScalarSelect[Any]:
    """now() + the task's retention period: the review clock starts when a batch is complete."""
    days = sa.func.make_interval(0, 0, 0, etl_tasks.c.retention_days)
    return (
        sa.select(sa.func.now() + days)
        .where(etl_tasks.c.id == outbox_batches.c.task_id)
        .scalar_subquery()
    )


def update_fields(tx: AuditedTx, batch: BatchRecord, **fields: Any) -> BatchRecord:
    """Set fields without changing the state (row count while loading, privacy report)."""
    unknown = set(fields) - UPDATABLE
    if unknown or not fields:
        raise TypeError(f"not batch fields: {sorted(unknown)}" if unknown else "nothing to set")
    values = {k: to_jsonable(v) if k in _JSON_FIELDS else v for k, v in fields.items()}
    tx.conn.execute(
        sa.update(outbox_batches)
        .where(outbox_batches.c.id == batch.id)
        .values(updated_at=sa.func.now(), **values)
    )
    tx.record(
        "batch.update",
        "batch",
        batch.id,
        before={k: to_jsonable(getattr(batch, "schema_" if k == "schema" else k)) for k in fields},
        after={k: to_jsonable(v) for k, v in fields.items()},
    )
    updated = get_batch(tx.conn, batch.id)
    assert updated is not None
    return updated


def release_blocked(tx: AuditedTx, batch: BatchRecord, override: Mapping[str, Any]) -> BatchRecord:
    """Move a `blocked` batch to `ready_for_review`, keeping `override` ({by, at, reason}) in its
    privacy report; the one way past the privacy gate. Callers check who may do it."""
    if batch.state != "blocked":
        raise Conflict(
            f"batch {batch.id} is {batch.state}, not blocked; there is nothing to override"
        )
    report = {**(batch.privacy_report or {}), "override": to_jsonable(dict(override))}
    # Reviewers get the whole retention period from the release, not what the block left.
    values: dict[str, Any] = {"privacy_report": report, "expires_at": _retention_end()}
    done = tx.conn.execute(
        sa.update(outbox_batches)
        .where(outbox_batches.c.id == batch.id, outbox_batches.c.state == "blocked")
        .values(state="ready_for_review", updated_at=sa.func.now(), **values)
    ).rowcount
    if done != 1:
        raise Conflict(f"batch {batch.id} changed meanwhile; reload it and try again")
    updated = get_batch(tx.conn, batch.id)
    assert updated is not None
    tx.record(
        "batch.override_block",
        "batch",
        batch.id,
        before={"state": batch.state, "blocked_reason": batch.blocked_reason},
        after={
            "state": updated.state,
            "override": report["override"],
            "expires_at": to_jsonable(updated.expires_at),
        },
        details={"reason": override.get("reason")},
    )
    return updated


def _verb(state: str) -> str:
    return {"ready_for_review": "ready", "uploading": "upload_start"}.get(state, state)


def get_upload(conn: sa.Connection, upload_id: int) -> UploadRecord | None:
    row = conn.execute(sa.select(uploads).where(uploads.c.id == upload_id)).first()
    return None if row is None else UploadRecord.from_row(row)


def list_uploads(conn: sa.Connection, batch_id: int) -> list[UploadRecord]:
    stmt = sa.select(uploads).where(uploads.c.batch_id == batch_id).order_by(uploads.c.id.desc())
    return [UploadRecord.from_row(row) for row in conn.execute(stmt)]


def create_upload(tx: AuditedTx, batch: BatchRecord, destination_kind: str) -> UploadRecord:
    row = tx.conn.execute(
        sa.insert(uploads)
        .values(batch_id=batch.id, destination_kind=destination_kind, state="running")
        .returning(uploads.c.id)
    ).one()
    upload = get_upload(tx.conn, int(row.id))
    assert upload is not None
    tx.record(
        "upload.start",
        "upload",
        upload.id,
        after={"batch_id": batch.id, "destination_kind": destination_kind},
    )
    return upload


def finish_upload(
    tx: AuditedTx,
    upload: UploadRecord,
    *,
    state: str,
    manifest: Mapping[str, Any] | None = None,
    error: str | None = None,
) -> UploadRecord:
    """Record how an upload ended and the manifest of what it placed at the destination."""
    if state not in ("succeeded", "failed", "removed"):
        raise ValueError(f"an upload ends as succeeded, failed or removed, not {state!r}")
    tx.conn.execute(
        sa.update(uploads)
        .where(uploads.c.id == upload.id)
        .values(
            state=state,
            manifest=to_jsonable(dict(manifest or upload.manifest)),
            error=error,
            finished_at=sa.func.now(),
        )
    )
    done = get_upload(tx.conn, upload.id)
    assert done is not None
    tx.record(
        f"upload.{state}",
        "upload",
        upload.id,
        before={"state": upload.state},
        after={"state": state, "manifest": done.manifest, "error": error},
        details={"batch_id": upload.batch_id},
    )
    return done
