"""Audit helpers that need no database: actors and the text query."""

from __future__ import annotations

import pytest

from etl_express.stores.audit import SYSTEM, Actor, _tsquery


def test_actor_rules() -> None:
    assert Actor("alice").kind == "user"
    assert SYSTEM.kind == "system"
    with pytest.raises(ValueError):
        Actor("")
    with pytest.raises(ValueError):
        Actor("x", "robot")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("approve", "approve:*"),
        ("Bob  batch.approve", "bob:* & batch:* & approve:*"),
        ("Иванов", "иванов:*"),
        ("'; DROP TABLE x; --", "drop:* & table:* & x:*"),
        ("!!!", None),
    ],
)
def test_tsquery_is_word_prefixes_only(q: str, expected: str | None) -> None:
    assert _tsquery(q) == expected
