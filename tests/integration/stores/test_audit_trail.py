"""The audit trail on real PostgreSQL: same transaction as the change, append-only, search."""

from __future__ import annotations

import datetime as dt

import pytest
import sqlalchemy as sa

from etl_express.stores import audit
from etl_express.stores.audit import Actor, UnauditedChange, audited
from etl_express.stores.schema import audit_events, scripts

ALICE = Actor("alice")


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _insert_script(conn: sa.Connection, name: str) -> int:
    stmt = (
        sa.insert(scripts)
        .values(kind="extraction", name=name, created_by="alice", latest_version=1)
        .returning(scripts.c.id)
    )
    return int(conn.execute(stmt).scalar_one())


def test_event_is_written_with_the_change(etlx_engine: sa.Engine) -> None:
    with audited(etlx_engine, ALICE) as tx:
        script_id = _insert_script(tx.conn, "orders")
        tx.record("script.create", "script", script_id, after={"name": "orders"})

    with etlx_engine.connect() as conn:
        events = audit.search_events(conn)
    assert len(events) == 1
    event = events[0]
    assert event["actor"] == "alice"
    assert event["actor_kind"] == "user"
    assert event["action"] == "script.create"
    assert event["object_type"] == "script"
    assert event["object_id"] == str(script_id)
    assert event["before"] is None
    assert event["after"] == {"name": "orders"}
    assert dt.datetime.fromisoformat(event["at"]).tzinfo is not None


def test_a_failing_change_leaves_neither_change_nor_audit_row(etlx_engine: sa.Engine) -> None:
    with pytest.raises(sa.exc.IntegrityError), audited(etlx_engine, ALICE) as tx:
        _insert_script(tx.conn, "dup")
        tx.record("script.create", "script", "1")
        _insert_script(tx.conn, "dup")  # unique name violated after the event was recorded

    assert _count(etlx_engine, scripts) == 0
    assert _count(etlx_engine, audit_events) == 0


def test_a_change_without_an_event_does_not_commit(etlx_engine: sa.Engine) -> None:
    with pytest.raises(UnauditedChange), audited(etlx_engine, ALICE) as tx:
        _insert_script(tx.conn, "silent")

    assert _count(etlx_engine, scripts) == 0


def test_record_event_outside_a_transaction_is_refused(etlx_engine: sa.Engine) -> None:
    with etlx_engine.connect() as conn, pytest.raises(RuntimeError, match="inside the transaction"):
        audit.record_event(conn, actor="a", action="x", object_type="y", object_id=None)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET actor = 'mallory'",
        "DELETE FROM audit_events",
        "TRUNCATE audit_events",
    ],
)
def test_audit_table_is_append_only(etlx_engine: sa.Engine, statement: str) -> None:
    with etlx_engine.begin() as conn:
        audit.record_event(conn, actor="a", action="x.y", object_type="t", object_id="1")

    with pytest.raises(sa.exc.DBAPIError, match="append-only"), etlx_engine.begin() as conn:
        conn.execute(sa.text(statement))

    with etlx_engine.connect() as conn:
        assert [e["actor"] for e in audit.search_events(conn)] == ["a"]


def test_values_are_stored_as_json(etlx_engine: sa.Engine) -> None:
    when = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
    with etlx_engine.begin() as conn:
        audit.record_event(
            conn,
            actor="sys",
            actor_kind="system",
            action="batch.expire",
            object_type="batch",
            object_id="7",
            details={"at": when, "ids": (1, 2)},
        )
        [event] = audit.search_events(conn)
    assert event["details"] == {"at": "2026-01-02T03:04:05+00:00", "ids": [1, 2]}
    assert event["actor_kind"] == "system"


@pytest.fixture
def sample_events(etlx_engine: sa.Engine) -> sa.Engine:
    rows = [
        ("alice", "script.save", "script", "orders_extract"),
        ("alice", "task.save", "task", "12"),
        ("bob", "task.pause", "task", "12"),
        ("bob", "batch.approve", "batch", "5"),
        ("scheduler", "batch.expire", "batch", "6"),
    ]
    with etlx_engine.begin() as conn:
        for actor, action, object_type, object_id in rows:
            audit.record_event(
                conn, actor=actor, action=action, object_type=object_type, object_id=object_id
            )
    return etlx_engine


def _actions(engine: sa.Engine, **filters: object) -> list[str]:
    with engine.connect() as conn:
        return sorted(e["action"] for e in audit.search_events(conn, **filters))  # type: ignore[arg-type]


def test_search_filters(sample_events: sa.Engine) -> None:
    e = sample_events
    assert _actions(e, actor="bob") == ["batch.approve", "task.pause"]
    assert _actions(e, action="task") == ["task.pause", "task.save"]
    assert _actions(e, action="task.save") == ["task.save"]
    assert _actions(e, object_type="task", object_id="12") == ["task.pause", "task.save"]
    assert _actions(e, q="approve") == ["batch.approve"]
    assert _actions(e, q="batch") == ["batch.approve", "batch.expire"]
    assert _actions(e, q="ord") == ["script.save"]  # prefix of a word of the object id
    assert _actions(e, q="bob batch") == ["batch.approve"]  # every word must match
    assert _actions(e, q="sched") == ["batch.expire"]
    assert _actions(e, q="nothing-like-this") == []
    assert _actions(e, q="  ") == _actions(e)  # no words: no text filter


def test_search_time_window_and_paging(sample_events: sa.Engine) -> None:
    now = dt.datetime.now(dt.UTC)
    e = sample_events
    assert len(_actions(e, since=now - dt.timedelta(minutes=5))) == 5
    assert _actions(e, until=now - dt.timedelta(minutes=5)) == []
    with e.connect() as conn:
        first = audit.search_events(conn, limit=2)
        second = audit.search_events(conn, limit=2, offset=2)
        assert audit.count_events(conn, actor="alice") == 2
    assert len(first) == 2 and len(second) == 2
    assert not {x["id"] for x in first} & {x["id"] for x in second}
    assert first[0]["id"] > first[1]["id"] > second[0]["id"]  # newest first


def test_text_search_finds_old_matches_beyond_the_recent_window(
    etlx_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "RECENT_WINDOW", 3)
    with etlx_engine.begin() as conn:
        audit.record_event(conn, actor="old", action="task.rare", object_type="t", object_id="1")
        for i in range(10):
            audit.record_event(conn, actor="new", action="task.save", object_type="t", object_id=i)
    with etlx_engine.connect() as conn:
        assert [e["action"] for e in audit.search_events(conn, q="rare")] == ["task.rare"]
        saves = audit.search_events(conn, q="save", limit=4, offset=2)  # window holds 3 only
        assert [e["object_id"] for e in saves] == ["7", "6", "5", "4"]
        assert len(audit.search_events(conn, q="task", limit=2)) == 2  # page filled in window
