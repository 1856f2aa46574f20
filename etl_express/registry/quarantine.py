"""Reading a batch's quarantined rows: admins only, every read audited.

Quarantined rows are what the field rules refused, kept as they arrived: raw personal data,
not anonymized. So unlike the batch itself, only an admin may read them, and each read is an
audit event (``batch.quarantine.view``) naming the reader and the page read.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel

from etl_express.errors import Forbidden, NotFound
from etl_express.registry.actors import as_actor
from etl_express.stores import batches as batch_store
from etl_express.stores import quarantine as store
from etl_express.stores.audit import Actor, audited


class QuarantinedRow(BaseModel):
    input: str
    chunk: int
    row: int
    reasons: list[str]
    severity: str
    values: dict[str, Any]


class QuarantinePage(BaseModel):
    batch_id: int
    total: int
    limit: int
    offset: int
    columns: list[dict[str, str]]
    rows: list[QuarantinedRow]


def read_quarantine(
    engine: sa.Engine,
    batch_id: int,
    *,
    actor: str | Actor,
    is_admin: bool,
    limit: int = 50,
    offset: int = 0,
) -> QuarantinePage:
    """One page of the batch's quarantined rows. Forbidden for non-admins (nothing read,
    nothing recorded), NotFound for an unknown batch."""
    who = as_actor(actor)
    if not is_admin:
        raise Forbidden(
            "Only an admin may read quarantined rows: they are raw personal data, not "
            f"anonymized; user '{who.name}' is not one."
        )
    with audited(engine, who) as tx:
        if batch_store.get_batch(tx.conn, batch_id) is None:
            raise NotFound(f"there is no batch {batch_id}")
        total, rows = store.read_page(tx.conn, batch_id, limit=limit, offset=offset)
        columns = store.columns(tx.conn, batch_id)
        tx.record(
            "batch.quarantine.view",
            "batch",
            batch_id,
            details={"limit": limit, "offset": offset, "rows_shown": len(rows), "total": total},
        )
    return QuarantinePage(
        batch_id=batch_id,
        total=total,
        limit=limit,
        offset=offset,
        columns=columns,
        rows=[QuarantinedRow(**r) for r in rows],
    )
