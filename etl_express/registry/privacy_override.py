"""Releasing a batch the privacy gate blocked: admins only, with a reason, audited.

A blocked batch holds data in which the gate found a surviving personal value or a detected
entity. Sometimes that is a false alarm (a product code that looks like an INN); an admin may
then release it to review. Who, when and why is kept in the batch's privacy report
(``privacy_report["override"]``) and in the audit event written in the same transaction, and
the batch still needs an ordinary approval before anything leaves.
"""

from __future__ import annotations

import datetime as dt
from typing import Final

import sqlalchemy as sa

from etl_express.errors import FieldError, Forbidden, NotFound, ValidationFailed
from etl_express.registry.actors import as_actor
from etl_express.stores import batches as store
from etl_express.stores.audit import Actor, audited
from etl_express.stores.records import BatchRecord

MAX_REASON_CHARS: Final = 2000


def clean_reason(reason: str | None) -> str:
    """The reason, stripped; ValidationFailed on ``$.reason`` when empty or too long."""
    text = (reason or "").strip()
    if not text:
        raise ValidationFailed(
            [FieldError("$.reason", "say why this batch may be released despite the gate")]
        )
    if len(text) > MAX_REASON_CHARS:
        raise ValidationFailed(
            [
                FieldError(
                    "$.reason",
                    f"the reason is {len(text)} characters long; keep it within {MAX_REASON_CHARS}",
                )
            ]
        )
    return text


def override_block(
    engine: sa.Engine,
    batch_id: int,
    *,
    actor: str | Actor,
    is_admin: bool,
    reason: str | None,
) -> BatchRecord:
    """Move a `blocked` batch to `ready_for_review` on an admin's word.

    Forbidden for non-admins, ValidationFailed for a missing or overlong reason, NotFound for
    an unknown batch, Conflict when the batch is not blocked. Nothing is written on refusal.
    """
    who = as_actor(actor)
    if not is_admin:
        raise Forbidden(
            f"Only an admin may release a batch blocked by the privacy gate; "
            f"user '{who.name}' is not one."
        )
    text = clean_reason(reason)
    with audited(engine, who) as tx:
        batch = store.get_batch(tx.conn, batch_id, for_update=True)
        if batch is None:
            raise NotFound(f"there is no batch {batch_id}")
        override = {"by": who.name, "at": dt.datetime.now(dt.UTC).isoformat(), "reason": text}
        return store.release_blocked(tx, batch, override)
