"""Task registry on real PostgreSQL: pinning, refusals that write nothing, states, bundles."""

from __future__ import annotations

import copy
from typing import Any

import pytest
import sqlalchemy as sa
from registry_payloads import EXTRACTION, task_payload

from etl_express.errors import Conflict, NotFound, ValidationFailed
from etl_express.registry import scripts, tasks
from etl_express.stores import audit
from etl_express.stores import tasks as task_store
from etl_express.stores.schema import etl_tasks, task_scripts


def _count(engine: sa.Engine, table: sa.Table) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one())


def _task_events(engine: sa.Engine, **filters: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        return audit.search_events(conn, object_type="task", **filters)


def test_save_pins_latest_versions_and_audits(saved_scripts: sa.Engine) -> None:
    task = tasks.save_task(saved_scripts, task_payload(), "alice")

    assert task.slug == "customers_export"
    assert task.dag_id == "etlx__customers_export"
    assert (task.state, task.revision, task.schedule) == ("active", 1, "@daily")
    assert (task.retention_days, task.approver_must_differ) == (7, True)
    assert task.quasi_identifiers == ["city"]
    pins = {(p.role, p.name, p.version, p.input_name) for p in task.scripts}
    assert pins == {
        ("extraction", "customers_pg", 1, "source"),
        ("field_rules", "customers_rules", 1, None),
        ("anonymization", "customers_anon", 1, None),
        ("upload", "to_disk", 1, None),
    }
    # The stored spec says which versions were pinned, so an export shows them.
    assert task.spec["scripts"]["extraction"][0]["version"] == 1
    assert task.spec["scripts"]["upload"]["version"] == 1

    [event] = _task_events(saved_scripts)
    assert (event["action"], event["actor"], event["object_id"]) == (
        "task.create",
        "alice",
        "customers_export",
    )
    assert {s["name"] for s in event["after"]["scripts"]} == {
        "customers_pg",
        "customers_rules",
        "customers_anon",
        "to_disk",
    }


def test_missing_scripts_are_listed_and_nothing_is_written(saved_scripts: sa.Engine) -> None:
    payload = task_payload()
    del payload["scripts"]["field_rules"]
    del payload["scripts"]["upload"]
    with pytest.raises(ValidationFailed) as info:
        tasks.save_task(saved_scripts, payload, "alice")
    paths = {e.path for e in info.value.errors}
    assert {"$.scripts.field_rules", "$.scripts.upload"} <= paths
    assert "field rules" in str(info.value) and "upload" in str(info.value)
    assert _count(saved_scripts, etl_tasks) == 0
    assert _task_events(saved_scripts) == []


def test_unknown_script_names_are_refused(saved_scripts: sa.Engine) -> None:
    payload = task_payload()
    payload["scripts"]["anonymization"] = {"name": "no_such_rules"}
    payload["scripts"]["extraction"][0]["version"] = 7
    with pytest.raises(ValidationFailed) as info:
        tasks.save_task(saved_scripts, payload, "alice")
    paths = {e.path for e in info.value.errors}
    assert "$.scripts.anonymization.name" in paths
    assert "$.scripts.extraction[0].name" in paths
    assert _count(saved_scripts, etl_tasks) == 0
    assert _task_events(saved_scripts) == []


def test_script_of_the_wrong_kind_is_refused(saved_scripts: sa.Engine) -> None:
    payload = task_payload()
    payload["scripts"]["upload"] = {"name": "customers_rules"}  # a field rules script
    with pytest.raises(ValidationFailed) as info:
        tasks.save_task(saved_scripts, payload, "alice")
    assert [e.path for e in info.value.errors] == ["$.scripts.upload.name"]


def test_duplicate_name_is_a_field_error(saved_scripts: sa.Engine) -> None:
    tasks.save_task(saved_scripts, task_payload(), "alice")
    with pytest.raises(ValidationFailed) as info:
        tasks.save_task(saved_scripts, task_payload(), "bob")
    assert [e.path for e in info.value.errors] == ["$.name"]
    assert _count(saved_scripts, etl_tasks) == 1
    assert len(_task_events(saved_scripts)) == 1


def test_column_cross_checks_reach_the_registry(saved_scripts: sa.Engine) -> None:
    with pytest.raises(ValidationFailed) as info:
        tasks.save_task(saved_scripts, task_payload(quasi_identifiers=["zip"]), "alice")
    assert [e.path for e in info.value.errors] == ["$.quasi_identifiers[0]"]
    assert _count(saved_scripts, etl_tasks) == 0


def test_a_failure_mid_write_leaves_nothing(
    saved_scripts: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(conn: sa.Connection, task_id: int, pins: object) -> None:
        raise RuntimeError("disk full")

    monkeypatch.setattr(task_store, "_replace_pins", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        tasks.save_task(saved_scripts, task_payload(), "alice")
    assert _count(saved_scripts, etl_tasks) == 0
    assert _count(saved_scripts, task_scripts) == 0
    assert _task_events(saved_scripts) == []


def test_update_by_slug_repins_and_bumps_revision(saved_scripts: sa.Engine) -> None:
    first = tasks.save_task(saved_scripts, task_payload(), "alice")
    newer = copy.deepcopy(EXTRACTION)
    newer["chunk_size"] = 10_000
    scripts.save_script(
        saved_scripts, kind="extraction", name="customers_pg", spec=newer, actor="alice"
    )
    renamed = task_payload("Customers export (daily)", schedule="0 3 * * *")
    second = tasks.save_task(saved_scripts, renamed, "bob", slug=first.slug)

    assert second.id == first.id
    assert second.slug == "customers_export"  # the DAG id survives a rename
    assert (second.name, second.schedule, second.revision) == (
        "Customers export (daily)",
        "0 3 * * *",
        2,
    )
    assert second.updated_by == "bob"
    assert {p.name: p.version for p in second.scripts}["customers_pg"] == 2
    save = _task_events(saved_scripts, action="task.save")[0]
    assert save["before"]["name"] == "Customers export"
    assert save["after"]["name"] == "Customers export (daily)"


def test_upsert_is_idempotent(saved_scripts: sa.Engine) -> None:
    first = tasks.save_task(saved_scripts, task_payload(), "alice", upsert=True)
    again = tasks.save_task(saved_scripts, task_payload(), "alice", upsert=True)
    assert again.revision == first.revision == 1
    assert len(_task_events(saved_scripts)) == 1

    changed = tasks.save_task(saved_scripts, task_payload(retention_days=30), "alice", upsert=True)
    assert (changed.id, changed.revision, changed.retention_days) == (first.id, 2, 30)


def test_stale_revision_is_a_conflict(saved_scripts: sa.Engine) -> None:
    first = tasks.save_task(saved_scripts, task_payload(), "alice")
    tasks.save_task(saved_scripts, task_payload(retention_days=9), "bob", slug=first.slug)
    with pytest.raises(Conflict, match="revision 2"):
        tasks.save_task(
            saved_scripts,
            task_payload(retention_days=10),
            "alice",
            slug=first.slug,
            expected_revision=1,
        )
    assert tasks.get_task(saved_scripts, first.slug).retention_days == 9


def test_states_delete_and_slug_reuse(saved_scripts: sa.Engine) -> None:
    task = tasks.save_task(saved_scripts, task_payload(), "alice")
    assert tasks.set_state(saved_scripts, task.slug, "paused", "bob").state == "paused"
    assert tasks.set_state(saved_scripts, task.slug, "paused", "bob").state == "paused"
    assert tasks.set_state(saved_scripts, task.slug, "active", "bob").state == "active"
    actions = [e["action"] for e in _task_events(saved_scripts)]
    assert actions == ["task.activate", "task.pause", "task.create"]  # no event for a no-op
    with pytest.raises(ValidationFailed):
        tasks.set_state(saved_scripts, task.slug, "draft", "bob")

    tasks.delete_task(saved_scripts, task.slug, "bob")
    with pytest.raises(NotFound):
        tasks.get_task(saved_scripts, task.slug)
    assert tasks.list_tasks(saved_scripts) == []
    assert tasks.get_task_by_id(saved_scripts, task.id, include_deleted=True).deleted_at

    # The name is free again; the slug is not reused, so Airflow history is not inherited.
    again = tasks.save_task(saved_scripts, task_payload(), "alice")
    assert again.slug == "customers_export_2"


def test_explicit_slug_and_underivable_slug(saved_scripts: sa.Engine) -> None:
    task = tasks.save_task(saved_scripts, task_payload("Выгрузка клиентов", slug="clients"), "a")
    assert task.slug == "clients"
    with pytest.raises(ValidationFailed) as info:
        tasks.save_task(saved_scripts, task_payload("Другая выгрузка", slug="clients"), "a")
    assert [e.path for e in info.value.errors] == ["$.slug"]
    with pytest.raises(ValidationFailed) as info:
        tasks.save_task(saved_scripts, task_payload("Только кириллица"), "a")
    assert [e.path for e in info.value.errors] == ["$.slug"]


def test_dag_errors_are_recorded_on_change_only(saved_scripts: sa.Engine) -> None:
    task = tasks.save_task(saved_scripts, task_payload(), "alice")
    tasks.set_dag_error(saved_scripts, task.slug, "bad cron")
    tasks.set_dag_error(saved_scripts, task.slug, "bad cron")
    assert tasks.get_task(saved_scripts, task.slug).dag_error == "bad cron"
    tasks.set_dag_error(saved_scripts, task.slug, None)
    assert tasks.get_task(saved_scripts, task.slug).dag_error is None
    actions = [e["action"] for e in _task_events(saved_scripts, actor="etl-express")]
    assert actions == ["task.dag_ok", "task.dag_error"]


def test_load_active_bundles(saved_scripts: sa.Engine) -> None:
    a = tasks.save_task(saved_scripts, task_payload("A"), "alice")
    b = tasks.save_task(saved_scripts, task_payload("B"), "alice")
    tasks.save_task(saved_scripts, task_payload("C"), "alice", state="draft")
    d = tasks.save_task(saved_scripts, task_payload("D"), "alice")
    tasks.set_state(saved_scripts, b.slug, "paused", "alice")
    tasks.delete_task(saved_scripts, d.slug, "alice")

    bundles = tasks.load_active_bundles(saved_scripts)
    assert [(t.slug, t.state) for t in bundles] == [(a.slug, "active"), (b.slug, "paused")]
    extraction = next(p for p in bundles[0].scripts if p.role == "extraction")
    assert extraction.spec["query"] == EXTRACTION["query"]
    assert extraction.output_schema is not None


def test_list_and_search(saved_scripts: sa.Engine) -> None:
    tasks.save_task(saved_scripts, task_payload("Orders nightly"), "alice")
    tasks.save_task(saved_scripts, task_payload("Patients", owner="carol"), "alice")
    names = [t.name for t in tasks.list_tasks(saved_scripts, q="carol")]
    assert names == ["Patients"]
    assert [t.name for t in tasks.list_tasks(saved_scripts, q="NIGHT")] == ["Orders nightly"]
    assert len(tasks.list_tasks(saved_scripts, state="active")) == 2


def test_concurrent_creates_of_one_name_leave_one_task(saved_scripts: sa.Engine) -> None:
    from concurrent.futures import ThreadPoolExecutor

    def create(actor: str) -> str:
        try:
            return tasks.save_task(saved_scripts, task_payload("Race"), actor).slug
        except ValidationFailed as exc:
            return exc.errors[0].path

    with ThreadPoolExecutor(max_workers=4) as pool:
        outcomes = sorted(pool.map(create, ["a", "b", "c", "d"]))
    assert outcomes == ["$.name", "$.name", "$.name", "race"]
    assert _count(saved_scripts, etl_tasks) == 1
    assert len(_task_events(saved_scripts, action="task.create")) == 1
