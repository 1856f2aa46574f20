"""Who is acting: a user name from the API/CLI, or an Actor (system components)."""

from __future__ import annotations

from etl_express.stores.audit import Actor


def as_actor(actor: str | Actor) -> Actor:
    return actor if isinstance(actor, Actor) else Actor(actor)
