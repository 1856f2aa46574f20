"""The audit trail: one append-only table, written in the same transaction as each change.

Two ways to write it:

- `record_event(conn, ...)` when you already hold a transaction;
- `audited(engine, actor)`: a transaction that refuses to commit unless at least one event was
  recorded in it. Store functions that change state take the `AuditedTx` it yields, so a write
  path without an audit event cannot be written by accident.

The table rejects UPDATE, DELETE and TRUNCATE by trigger (see the initial migration).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import sqlalchemy as sa

from etl_express.stores.jsonable import to_jsonable
from etl_express.stores.schema import ACTOR_KINDS, audit_events

ActorKind = Literal["user", "system"]
MAX_LIMIT: Final = 500
_WORD = re.compile(r"\w+", re.UNICODE)


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a user name, or a component name for `system`."""

    name: str
    kind: ActorKind = "user"

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("an actor needs a name")
        if self.kind not in ACTOR_KINDS:
            raise ValueError(f"actor kind must be one of {ACTOR_KINDS}, got {self.kind!r}")


SYSTEM: Final = Actor("etl-express", "system")


def record_event(
    conn: sa.Connection,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | None,
    before: Mapping[str, Any] | None = None,
    after: Mapping[str, Any] | None = None,
    details: Mapping[str, Any] | None = None,
    actor_kind: str = "user",
) -> int:
    """Append one event on `conn` (inside the caller's transaction); returns its id."""
    if not conn.in_transaction():
        raise RuntimeError("record_event must run inside the transaction of the change it records")
    row = conn.execute(
        sa.insert(audit_events)
        .values(
            actor=actor,
            actor_kind=actor_kind,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            before=to_jsonable(before),
            after=to_jsonable(after),
            details=to_jsonable(details),
        )
        .returning(audit_events.c.id)
    ).scalar_one()
    return int(row)


@dataclass
class AuditedTx:
    """A connection inside a transaction plus the actor; `record` appends an audit event."""

    conn: sa.Connection
    actor: Actor
    event_ids: list[int] = field(default_factory=list)
    unchanged: bool = False

    def nothing_changed(self) -> None:
        """Declare that this transaction changes nothing (a save of an identical spec).

        Without an event recorded, the transaction is then rolled back rather than refused.
        """
        self.unchanged = True

    def record(
        self,
        action: str,
        object_type: str,
        object_id: object,
        *,
        before: Mapping[str, Any] | None = None,
        after: Mapping[str, Any] | None = None,
        details: Mapping[str, Any] | None = None,
    ) -> int:
        event_id = record_event(
            self.conn,
            actor=self.actor.name,
            actor_kind=self.actor.kind,
            action=action,
            object_type=object_type,
            object_id=None if object_id is None else str(object_id),
            before=before,
            after=after,
            details=details,
        )
        self.event_ids.append(event_id)
        return event_id


class UnauditedChange(RuntimeError):
    """A transaction opened for a change ended without recording what changed."""


@contextmanager
def audited(engine: sa.Engine, actor: Actor) -> Iterator[AuditedTx]:
    """One transaction for a change and its audit events; commits only if an event was recorded.

    Anything raised inside rolls back the change and its events together. A block that calls
    `tx.nothing_changed()` and records no event is rolled back, so nothing unaudited survives.
    """
    with engine.connect() as conn, conn.begin() as transaction:
        tx = AuditedTx(conn, actor)
        yield tx
        if tx.event_ids:
            return
        if not tx.unchanged:
            raise UnauditedChange("a state change must record an audit event before it commits")
        transaction.rollback()


def _tsquery(q: str) -> str | None:
    """Prefix match on every word of `q` (all must match); None when `q` has no words."""
    words = _WORD.findall(q.lower())
    return " & ".join(f"{w}:*" for w in words) if words else None


def _filters(
    *,
    q: str | None,
    actor: str | None,
    action: str | None,
    object_type: str | None,
    object_id: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
) -> list[sa.ColumnElement[bool]]:
    c = audit_events.c
    conditions: list[sa.ColumnElement[bool]] = []
    query = _tsquery(q) if q else None
    if query:
        conditions.append(c.search.bool_op("@@")(sa.func.to_tsquery("simple", query)))
    if actor:
        conditions.append(c.actor == actor)
    if action:
        # "task" finds task.save, task.pause, ...; an exact action name still matches itself.
        conditions.append(sa.or_(c.action == action, c.action.startswith(action + ".")))
    if object_type:
        conditions.append(c.object_type == object_type)
    if object_id is not None:
        conditions.append(c.object_id == str(object_id))
    if since:
        conditions.append(c.at >= since)
    if until:
        conditions.append(c.at < until)
    return conditions


def _as_dict(row: sa.Row[Any]) -> dict[str, Any]:
    data = dict(row._mapping)
    data["at"] = data["at"].isoformat()
    return data


def search_events(
    conn: sa.Connection,
    *,
    q: str | None = None,
    actor: str | None = None,
    action: str | None = None,
    object_type: str | None = None,
    object_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Newest first (by id: identity order is insertion order).

    `q` matches word prefixes in actor, action and object (every word must match).
    """
    conditions = _filters(
        q=q,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=object_id,
        since=since,
        until=until,
    )
    limit, offset = max(1, min(limit, MAX_LIMIT)), max(0, offset)
    if q and _tsquery(q):
        return _text_search(conn, conditions, limit, offset)
    return _page(conn, conditions, limit, offset)


_COLUMNS: Final = [col for col in audit_events.c if col.name != "search"]
# Text search looks at the newest events first: a common word fills a page there at once.
RECENT_WINDOW: Final = 20_000


def _page(
    conn: sa.Connection, conditions: list[sa.ColumnElement[bool]], limit: int, offset: int
) -> list[dict[str, Any]]:
    stmt = (
        sa.select(*_COLUMNS)
        .where(*conditions)
        .order_by(audit_events.c.id.desc())
        .limit(limit)
        .offset(offset)
    )
    return [_as_dict(row) for row in conn.execute(stmt)]


def _text_search(
    conn: sa.Connection, conditions: list[sa.ColumnElement[bool]], limit: int, offset: int
) -> list[dict[str, Any]]:
    """A page of text matches in bounded time whether the words are common or rare.

    Walking the primary key backwards is instant for common words and a full scan for rare
    ones; the GIN index is the reverse. So: the newest window by primary key first, and the
    GIN index over everything only when that window does not fill the page.
    """
    c = audit_events.c
    floor = sa.select(sa.func.coalesce(sa.func.max(c.id), 0) - RECENT_WINDOW).scalar_subquery()
    recent = _page(conn, [*conditions, c.id > floor], limit, offset)
    if len(recent) == limit:
        return recent
    matches = sa.select(c.id).where(*conditions).cte("matches").prefix_with("MATERIALIZED")
    page = sa.select(matches.c.id).order_by(matches.c.id.desc()).limit(limit).offset(offset)
    stmt = sa.select(*_COLUMNS).where(c.id.in_(page.scalar_subquery())).order_by(c.id.desc())
    return [_as_dict(row) for row in conn.execute(stmt)]


def count_events(conn: sa.Connection, **filters: Any) -> int:
    """How many events `search_events` would page through with the same filters."""
    conditions = _filters(
        q=filters.get("q"),
        actor=filters.get("actor"),
        action=filters.get("action"),
        object_type=filters.get("object_type"),
        object_id=filters.get("object_id"),
        since=filters.get("since"),
        until=filters.get("until"),
    )
    stmt = sa.select(sa.func.count()).select_from(audit_events).where(*conditions)
    return int(conn.execute(stmt).scalar_one())
