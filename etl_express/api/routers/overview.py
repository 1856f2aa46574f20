"""The landing page's data: tasks by state, recent runs, outbox batches, recent audit events."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from etl_express.api.deps import ConnectionDep

router = APIRouter(tags=["overview"])


@router.get("/overview", summary="Tasks by state, recent runs, outbox batches and audit events")
def overview(conn: ConnectionDep) -> dict[str, Any]:
    from etl_express.stores.overview import get_overview

    return get_overview(conn)
