"""Search the audit trail (newest first, paged)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from etl_express.api.deps import ConnectionDep
from etl_express.stores import audit

router = APIRouter(tags=["audit"])


class AuditPage(BaseModel):
    items: list[dict[str, Any]]
    total: int
    limit: int
    offset: int


@router.get("/audit", response_model=AuditPage, summary="Search audit events")
def search_audit(
    conn: ConnectionDep,
    q: Annotated[
        str | None, Query(max_length=200, description="Words in actor/action/object")
    ] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    action: Annotated[
        str | None, Query(max_length=100, description="e.g. task or task.pause")
    ] = None,
    object_type: Annotated[str | None, Query(max_length=100)] = None,
    object_id: Annotated[str | None, Query(max_length=200)] = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=audit.MAX_LIMIT)] = 50,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> AuditPage:
    filters: dict[str, Any] = {
        "q": q,
        "actor": actor,
        "action": action,
        "object_type": object_type,
        "object_id": object_id,
        "since": since,
        "until": until,
    }
    items = audit.search_events(conn, limit=limit, offset=offset, **filters)
    return AuditPage(
        items=items, total=audit.count_events(conn, **filters), limit=limit, offset=offset
    )
