"""An admin's override of a batch the privacy gate blocked, on real PostgreSQL."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
import sqlalchemy as sa
from blocked_batch_seed import seed_blocked_batch

from etl_express.errors import Conflict, Forbidden, NotFound, ValidationFailed
from etl_express.registry import batches
from etl_express.registry.privacy_override import MAX_REASON_CHARS, override_block
from etl_express.stores import audit
from etl_express.stores import batches as batch_store

REASON = "INN-shaped product codes, checked with the data owner (ticket DPO-118)"


@pytest.fixture
def blocked(etlx_db: str, etlx_engine: sa.Engine) -> int:
    return seed_blocked_batch(etlx_db)


def _snapshot(engine: sa.Engine, batch_id: int) -> tuple[Any, list[dict[str, Any]]]:
    """The batch row and every audit event: what a refusal must leave untouched."""
    with engine.connect() as conn:
        return batch_store.get_batch(conn, batch_id), audit.search_events(conn, limit=500)


def test_the_seeded_batch_is_blocked_by_the_real_gate(etlx_engine: sa.Engine, blocked: int) -> None:
    batch = batches.get_batch(etlx_engine, blocked)
    assert (batch.state, batch.blocked_reason, batch.row_count) == (
        "blocked",
        "privacy gate: 1 finding(s)",
        3,
    )
    gate = (batch.privacy_report or {})["gate"]
    assert gate["passed"] is False
    assert gate["reasons"][0]["column"] == "email"
    assert "override" not in (batch.privacy_report or {})


def test_an_admin_releases_the_batch_with_a_reason_audited(
    etlx_engine: sa.Engine, blocked: int
) -> None:
    before = batches.get_batch(etlx_engine, blocked)
    started = dt.datetime.now(dt.UTC)
    released = override_block(etlx_engine, blocked, actor="root", is_admin=True, reason=REASON)

    assert released.state == "ready_for_review"
    report = released.privacy_report or {}
    override = report["override"]
    assert (override["by"], override["reason"]) == ("root", REASON)
    assert started <= dt.datetime.fromisoformat(override["at"]) <= dt.datetime.now(dt.UTC)
    # What the gate found stays on the batch next to who released it.
    assert report["gate"] == (before.privacy_report or {})["gate"]
    assert released.blocked_reason == before.blocked_reason
    # The review clock starts at release: the task keeps batches for 7 days.
    assert released.expires_at is not None
    left = released.expires_at - started
    assert dt.timedelta(days=6, hours=23) < left <= dt.timedelta(days=7, minutes=1)

    with etlx_engine.connect() as conn:
        [event] = audit.search_events(conn, action="batch.override_block")
    assert (event["actor"], event["actor_kind"], event["object_id"]) == (
        "root",
        "user",
        str(blocked),
    )
    assert event["before"] == {"state": "blocked", "blocked_reason": "privacy gate: 1 finding(s)"}
    assert event["after"]["state"] == "ready_for_review"
    assert event["after"]["override"] == override
    assert event["details"] == {"reason": REASON}

    # Released is not approved: the batch still goes through an ordinary review.
    approved = batches.review_batch(etlx_engine, blocked, approve=True, actor="bob")
    assert approved.state == "approved"


def test_refusals_write_nothing(etlx_engine: sa.Engine, blocked: int) -> None:
    untouched = _snapshot(etlx_engine, blocked)

    with pytest.raises(Forbidden, match=r"Only an admin .* user 'carol' is not one"):
        override_block(etlx_engine, blocked, actor="carol", is_admin=False, reason=REASON)
    for bad in ("", "   \n\t ", None, "x" * (MAX_REASON_CHARS + 1)):
        with pytest.raises(ValidationFailed) as caught:
            override_block(etlx_engine, blocked, actor="root", is_admin=True, reason=bad)
        assert [e.path for e in caught.value.errors] == ["$.reason"]
    with pytest.raises(NotFound, match="no batch 999999"):
        override_block(etlx_engine, 999_999, actor="root", is_admin=True, reason=REASON)

    assert _snapshot(etlx_engine, blocked) == untouched


def test_a_reason_at_the_limit_is_kept_stripped(etlx_engine: sa.Engine, blocked: int) -> None:
    reason = "y" * MAX_REASON_CHARS
    released = override_block(
        etlx_engine, blocked, actor="root", is_admin=True, reason=f"  {reason}\n"
    )
    assert (released.privacy_report or {})["override"]["reason"] == reason


def test_a_second_override_is_a_conflict_naming_the_state(
    etlx_engine: sa.Engine, blocked: int
) -> None:
    override_block(etlx_engine, blocked, actor="root", is_admin=True, reason=REASON)
    untouched = _snapshot(etlx_engine, blocked)
    with pytest.raises(Conflict, match="is ready_for_review, not blocked"):
        override_block(etlx_engine, blocked, actor="root", is_admin=True, reason="again")
    assert _snapshot(etlx_engine, blocked) == untouched


def test_no_other_path_releases_a_blocked_batch(etlx_engine: sa.Engine, blocked: int) -> None:
    untouched = _snapshot(etlx_engine, blocked)
    with pytest.raises(Conflict, match="blocked; it cannot become ready_for_review"):
        batches.transition(etlx_engine, blocked, "ready_for_review")
    with pytest.raises(Conflict, match="blocked; it cannot become approved"):
        batches.transition(etlx_engine, blocked, "approved")
    with pytest.raises(Conflict, match="not waiting for review"):
        batches.review_batch(etlx_engine, blocked, approve=True, actor="root")
    assert _snapshot(etlx_engine, blocked) == untouched
    # Stopping it stays open to anyone: rejecting a blocked batch is allowed.
    assert batches.review_batch(etlx_engine, blocked, approve=False, actor="carol").state == (
        "rejected"
    )


def test_two_admins_racing_release_it_once(etlx_engine: sa.Engine, blocked: int) -> None:
    def attempt(name: str) -> str:
        try:
            override_block(etlx_engine, blocked, actor=name, is_admin=True, reason=REASON)
        except Conflict:
            return "conflict"
        return "released"

    with ThreadPoolExecutor(4) as pool:
        outcomes = sorted(pool.map(attempt, ["ann", "ben", "cat", "dan"]))
    assert outcomes == ["conflict"] * 3 + ["released"]
    with etlx_engine.connect() as conn:
        assert len(audit.search_events(conn, action="batch.override_block")) == 1
