"""Outbox batches: list and filter, read one (privacy report, why it was blocked), and the
admin's override of a batch the privacy gate blocked, and the rows the field rules
quarantined (raw personal data: admins only, each read audited; 403 for others).

The override body is ``{"reason": "..."}``; the actor recorded on the batch and in the audit
trail is the authenticated Airflow user. 403 for non-admins, 422 on ``$.reason`` for a missing
or overlong reason, 409 when the batch is not blocked.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from etl_express.api.auth import CurrentUser, actor_name, is_admin
from etl_express.api.deps import EngineDep
from etl_express.registry import batches as registry
from etl_express.registry.privacy_override import MAX_REASON_CHARS, override_block
from etl_express.registry.quarantine import QuarantinePage, read_quarantine
from etl_express.stores.records import BatchRecord

router = APIRouter(prefix="/batches", tags=["batches"])

BatchState = Literal[
    "processing",
    "ready_for_review",
    "approved",
    "uploading",
    "uploaded",
    "rejected",
    "expired",
    "cancelled",
    "failed",
    "blocked",
]


class OverrideBody(BaseModel):
    # Length and blankness are checked by the service so the message names the rule; the
    # schema only documents them.
    reason: str | None = Field(
        None,
        description=f"Why the batch may be released despite the gate (1-{MAX_REASON_CHARS} "
        "characters)",
    )


@router.get("", response_model=list[BatchRecord], summary="List outbox batches, newest first")
def list_batches(
    engine: EngineDep,
    state: BatchState | None = None,
    task: Annotated[str | None, Query(max_length=60, description="Task slug")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[BatchRecord]:
    return registry.list_batches(engine, state=state, task_slug=task, limit=limit, offset=offset)


@router.get(
    "/{batch_id}",
    response_model=BatchRecord,
    summary="One batch: state, row count, schema, privacy report, why it was blocked",
)
def get_batch(batch_id: int, engine: EngineDep) -> BatchRecord:
    return registry.get_batch(engine, batch_id)


@router.post(
    "/{batch_id}/override",
    response_model=BatchRecord,
    summary="Release a batch blocked by the privacy gate to review (admin only, with a reason)",
)
def override(
    batch_id: int, body: OverrideBody, engine: EngineDep, user: CurrentUser
) -> BatchRecord:
    return override_block(
        engine, batch_id, actor=actor_name(user), is_admin=is_admin(user), reason=body.reason
    )


@router.get(
    "/{batch_id}/quarantine",
    response_model=QuarantinePage,
    summary="Rows the field rules quarantined, with reasons (raw data: admin only, audited)",
)
def quarantine(
    batch_id: int,
    engine: EngineDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> QuarantinePage:
    return read_quarantine(
        engine, batch_id, actor=actor_name(user), is_admin=is_admin(user), limit=limit,
        offset=offset,
    )  # fmt: skip
