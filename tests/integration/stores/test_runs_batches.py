"""Runs, outbox batches and uploads: state machine, review policy, expiry, audit, overview."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
import sqlalchemy as sa

from etl_express.errors import Conflict, Forbidden, NotFound
from etl_express.registry import batches, runs
from etl_express.stores import audit
from etl_express.stores import batches as batch_store
from etl_express.stores.audit import SYSTEM, audited
from etl_express.stores.overview import get_overview
from etl_express.stores.schema import etl_tasks


@pytest.fixture
def task_id(etlx_engine: sa.Engine) -> int:
    """A task row written directly (the registry's task tests cover saving one)."""
    with etlx_engine.begin() as conn:
        return int(
            conn.execute(
                sa.insert(etl_tasks)
                .values(
                    slug="orders",
                    name="Orders",
                    owner="alice",
                    spec={},
                    created_by="alice",
                    updated_by="alice",
                    state="active",
                )
                .returning(etl_tasks.c.id)
            ).scalar_one()
        )


def _events(engine: sa.Engine, **filters: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return audit.search_events(conn, **filters)


def _new_batch(engine: sa.Engine, task_id: int, **kw: Any) -> int:
    with audited(engine, SYSTEM) as tx:
        return batch_store.create_batch(tx, task_id=task_id, run_id=None, **kw).id


def test_run_lifecycle(etlx_engine: sa.Engine, task_id: int) -> None:
    run = runs.start_run(etlx_engine, task_id=task_id, dag_id="etlx__orders", dag_run_id="r1")
    again = runs.start_run(etlx_engine, task_id=task_id, dag_id="etlx__orders", dag_run_id="r1")
    assert again.id == run.id and run.state == "running" and run.task_slug == "orders"

    runs.record_stage(etlx_engine, run.id, stage="extract", stats={"rows_out": 1000})
    runs.record_stage(etlx_engine, run.id, stage="field_rules", stats={"rows_in": 1000})
    done = runs.finish_run(etlx_engine, run.id, state="failed", error={"stage": "field_rules"})
    assert done.stats == {"extract": {"rows_out": 1000}, "field_rules": {"rows_in": 1000}}
    assert (done.state, done.stage, done.error) == (
        "failed",
        "field_rules",
        {"stage": "field_rules"},
    )
    assert runs.get_run(etlx_engine, run.id).ended_at is not None
    assert [r.id for r in runs.list_runs(etlx_engine, task_slug="orders")] == [run.id]
    assert runs.list_runs(etlx_engine, state="success") == []
    with pytest.raises(ValueError):
        runs.finish_run(etlx_engine, run.id, state="running")
    with pytest.raises(NotFound):
        runs.list_runs(etlx_engine, task_slug="nope")

    actions = [e["action"] for e in _events(etlx_engine, object_type="run")]
    assert actions == ["run.failed", "run.stage", "run.stage", "run.start"]  # one start only


def test_batch_happy_path_with_upload(etlx_engine: sa.Engine, task_id: int) -> None:
    batch_id = _new_batch(etlx_engine, task_id, table_name="b_1", key_version="k1")
    batches.transition(etlx_engine, batch_id, "ready_for_review", row_count=42)
    approved = batches.review_batch(etlx_engine, batch_id, approve=True, actor="bob")
    assert (approved.state, approved.reviewed_by, approved.row_count) == ("approved", "bob", 42)
    uploading = batches.transition(etlx_engine, batch_id, "uploading")

    with audited(etlx_engine, SYSTEM) as tx:
        upload = batch_store.create_upload(tx, uploading, "local_file")
    with audited(etlx_engine, SYSTEM) as tx:
        batch_store.finish_upload(tx, upload, state="succeeded", manifest={"files": ["/x.parquet"]})
    batches.transition(etlx_engine, batch_id, "uploaded")

    [finished] = batches.list_uploads(etlx_engine, batch_id)
    assert (finished.state, finished.manifest) == ("succeeded", {"files": ["/x.parquet"]})
    assert batches.get_batch(etlx_engine, batch_id).state == "uploaded"
    actions = [e["action"] for e in _events(etlx_engine, object_type="batch")]
    assert actions == [
        "batch.uploaded",
        "batch.upload_start",
        "batch.approved",
        "batch.ready",
        "batch.create",
    ]
    approve = _events(etlx_engine, action="batch.approved")[0]
    assert approve["actor"] == "bob"
    assert approve["before"] == {"state": "ready_for_review"}


def test_transitions_outside_the_state_machine_are_refused(
    etlx_engine: sa.Engine, task_id: int
) -> None:
    batch_id = _new_batch(etlx_engine, task_id)
    with pytest.raises(Conflict, match="processing; it cannot become approved"):
        batches.transition(etlx_engine, batch_id, "approved")
    with pytest.raises(Conflict, match="not waiting for review"):
        batches.review_batch(etlx_engine, batch_id, approve=True, actor="bob")
    assert batches.get_batch(etlx_engine, batch_id).state == "processing"
    assert [e["action"] for e in _events(etlx_engine, object_type="batch")] == ["batch.create"]


def test_review_policy(etlx_engine: sa.Engine, task_id: int) -> None:
    batch_id = _new_batch(etlx_engine, task_id)
    batches.transition(etlx_engine, batch_id, "ready_for_review")
    with pytest.raises(Forbidden, match="someone else"):
        batches.review_batch(etlx_engine, batch_id, approve=True, actor="alice")  # the editor
    rejected = batches.review_batch(
        etlx_engine, batch_id, approve=False, actor="alice", reason="names visible"
    )
    assert rejected.state == "rejected"
    assert _events(etlx_engine, action="batch.rejected")[0]["details"] == {
        "reason": "names visible"
    }

    with etlx_engine.begin() as conn:
        conn.execute(sa.update(etl_tasks).values(approver_must_differ=False))
    other = _new_batch(etlx_engine, task_id)
    batches.transition(etlx_engine, other, "ready_for_review")
    assert batches.review_batch(etlx_engine, other, approve=True, actor="alice").state == "approved"


def test_blocked_batches_can_only_be_rejected(etlx_engine: sa.Engine, task_id: int) -> None:
    batch_id = _new_batch(etlx_engine, task_id)
    batches.transition(etlx_engine, batch_id, "blocked", blocked_reason="emails in free text")
    with pytest.raises(Conflict):
        batches.review_batch(etlx_engine, batch_id, approve=True, actor="bob")
    assert batches.review_batch(etlx_engine, batch_id, approve=False, actor="bob").state == (
        "rejected"
    )


def test_expiry(etlx_engine: sa.Engine, task_id: int) -> None:
    now = dt.datetime.now(dt.UTC)
    old = _new_batch(etlx_engine, task_id, expires_at=now - dt.timedelta(hours=1))
    fresh = _new_batch(etlx_engine, task_id, expires_at=now + dt.timedelta(days=1))
    processing = _new_batch(etlx_engine, task_id, expires_at=now - dt.timedelta(hours=1))
    for batch_id in (old, fresh):
        batches.transition(etlx_engine, batch_id, "ready_for_review")

    expired = batches.expire_due(etlx_engine)
    assert [b.id for b in expired] == [old]
    assert batches.get_batch(etlx_engine, old).state == "expired"
    assert batches.get_batch(etlx_engine, fresh).state == "ready_for_review"
    assert batches.get_batch(etlx_engine, processing).state == "processing"
    [event] = _events(etlx_engine, action="batch.expired")
    assert event["actor_kind"] == "system"


def test_review_clock_starts_when_a_batch_is_ready(etlx_engine: sa.Engine, task_id: int) -> None:
    with etlx_engine.begin() as conn:
        conn.execute(sa.update(etl_tasks).values(retention_days=3))
    batch_id = _new_batch(etlx_engine, task_id)
    assert batches.get_batch(etlx_engine, batch_id).expires_at is None
    ready = batches.transition(etlx_engine, batch_id, "ready_for_review")
    assert ready.expires_at is not None
    left = ready.expires_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=3) - dt.timedelta(minutes=5) < left <= dt.timedelta(days=3)
    event = _events(etlx_engine, action="batch.ready")[0]
    assert event["after"]["expires_at"] == ready.expires_at.isoformat()


def test_a_blocked_batch_expires_after_the_retention_period(
    etlx_engine: sa.Engine, task_id: int
) -> None:
    with etlx_engine.begin() as conn:
        conn.execute(sa.update(etl_tasks).values(retention_days=3))
    batch_id = _new_batch(etlx_engine, task_id)
    blocked = batches.transition(
        etlx_engine, batch_id, "blocked", blocked_reason="privacy gate: 1 finding(s)"
    )
    assert blocked.expires_at is not None
    left = blocked.expires_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=3) - dt.timedelta(minutes=5) < left <= dt.timedelta(days=3)
    event = _events(etlx_engine, action="batch.blocked")[0]
    assert event["after"]["expires_at"] == blocked.expires_at.isoformat()

    assert batches.expire_due(etlx_engine) == []  # not yet due
    later = blocked.expires_at + dt.timedelta(seconds=1)
    assert [b.id for b in batches.expire_due(etlx_engine, later)] == [batch_id]
    assert batches.get_batch(etlx_engine, batch_id).state == "expired"


def test_releasing_a_blocked_batch_restarts_the_review_clock(
    etlx_engine: sa.Engine, task_id: int
) -> None:
    soon = dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)  # the task keeps 14 days
    batch_id = _new_batch(etlx_engine, task_id)
    batches.transition(etlx_engine, batch_id, "blocked", blocked_reason="x", expires_at=soon)
    override = {"by": "root", "at": dt.datetime.now(dt.UTC).isoformat(), "reason": "checked"}
    with audited(etlx_engine, SYSTEM) as tx:
        batch = batch_store.get_batch(tx.conn, batch_id, for_update=True)
        assert batch is not None and batch.expires_at == soon
        released = batch_store.release_blocked(tx, batch, override)
    assert released.expires_at is not None
    left = released.expires_at - dt.datetime.now(dt.UTC)
    assert dt.timedelta(days=14) - dt.timedelta(minutes=5) < left <= dt.timedelta(days=14)


def test_overview(etlx_engine: sa.Engine, task_id: int) -> None:
    runs.start_run(etlx_engine, task_id=task_id, dag_id="etlx__orders", dag_run_id="r1")
    for _ in range(2):
        batches.transition(etlx_engine, _new_batch(etlx_engine, task_id), "ready_for_review")
    with etlx_engine.connect() as conn:
        overview = get_overview(conn)
    assert overview["tasks"]["by_state"] == {"draft": 0, "active": 1, "paused": 0}
    assert overview["tasks"]["total"] == 1
    assert overview["scripts"] == {
        "total": 0,
        "by_kind": dict.fromkeys(
            ("extraction", "field_rules", "transformation", "anonymization", "upload"), 0
        ),
    }
    assert overview["batches"]["awaiting_review"] == 2
    assert overview["batches"]["by_state"]["processing"] == 0
    assert [r["dag_run_id"] for r in overview["recent_runs"]] == ["r1"]
    assert overview["recent_events"][0]["action"] == "batch.ready"
    assert len(overview["recent_events"]) == 5
    json.dumps(overview)  # the API returns it as is
