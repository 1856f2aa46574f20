"""Outbox batches through the real Airflow api-server: list, read, and the admin's override
of a batch the privacy gate blocked (FAB users and tokens from Airflow itself)."""

from __future__ import annotations

import secrets
import subprocess
from typing import Any

import httpx
import pytest
from blocked_batch_seed import seed_blocked_batch

REASON = "the flagged values are synthetic test e-mails (confirmed by the data owner)"


@pytest.fixture(scope="module")
def slug() -> str:
    return f"gate_api_{secrets.token_hex(3)}"


@pytest.fixture(scope="module")
def user_token(airflow_server: Any) -> str:
    """A token of a user with Airflow's `User` role: may run DAGs, is not an admin."""
    password = secrets.token_urlsafe(12)
    name = f"uma_{secrets.token_hex(3)}"
    subprocess.run(
        ["airflow", "users", "create", "--username", name, f"--password={password}",
         "--firstname", "Uma", "--lastname", "User", "--email", f"{name}@example.com",
         "--role", "User"],
        env=airflow_server.env, check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    return str(airflow_server.token(name, password))


def _seed(airflow_server: Any, slug: str) -> int:
    return seed_blocked_batch(airflow_server.etlx_database_url, slug)


def _batch_events(api: httpx.Client, batch_id: int) -> list[dict[str, Any]]:
    params: dict[str, str | int] = {
        "object_type": "batch",
        "object_id": str(batch_id),
        "limit": 100,
    }
    response = api.get("/audit", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def _state(api: httpx.Client, batch_id: int) -> dict[str, Any]:
    response = api.get(f"/batches/{batch_id}")
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_list_and_read_a_blocked_batch(api: httpx.Client, airflow_server: Any, slug: str) -> None:
    batch_id = _seed(airflow_server, slug)
    listed = api.get("/batches", params={"state": "blocked", "task": slug})
    assert listed.status_code == 200, listed.text
    assert [b["id"] for b in listed.json()] == [batch_id]
    assert api.get("/batches", params={"state": "approved", "task": slug}).json() == []

    batch = _state(api, batch_id)
    assert batch["state"] == "blocked"
    assert batch["task_slug"] == slug
    assert batch["blocked_reason"] == "privacy gate: 1 finding(s)"
    assert batch["row_count"] == 3
    assert [c["name"] for c in batch["schema"]] == ["id", "email", "city"]
    assert batch["privacy_report"]["gate"]["reasons"][0]["column"] == "email"

    assert api.get("/batches/999999").status_code == 404
    bad = api.get("/batches", params={"state": "nonsense"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["query", "state"]
    assert api.get("/batches", params={"task": "no_such_task"}).status_code == 404


def test_paging_newest_first(api: httpx.Client, airflow_server: Any) -> None:
    slug = f"gate_pages_{secrets.token_hex(3)}"
    ids = [_seed(airflow_server, slug) for _ in range(3)]
    first = api.get("/batches", params={"task": slug, "limit": 2}).json()
    rest = api.get("/batches", params={"task": slug, "limit": 2, "offset": 2}).json()
    assert [b["id"] for b in first + rest] == sorted(ids, reverse=True)


def test_override_refusals_then_release(
    api: httpx.Client,
    airflow_server: Any,
    viewer_token: str,
    user_token: str,
    slug: str,
) -> None:
    batch_id = _seed(airflow_server, slug)
    before_state, before_events = _state(api, batch_id), _batch_events(api, batch_id)

    for token in (viewer_token, user_token):
        refused = api.post(
            f"/batches/{batch_id}/override",
            json={"reason": REASON},
            headers={"Authorization": f"Bearer {token}"},
        )
        assert refused.status_code == 403, refused.text
        assert "Only an admin" in refused.json()["detail"]
    anonymous = httpx.post(
        f"{airflow_server.url}/etl-express/api/v1/batches/{batch_id}/override",
        json={"reason": REASON},
        timeout=30,
    )
    assert anonymous.status_code == 401

    for body in ({"reason": "  "}, {}, {"reason": "x" * 2001}, {"reason": 5}):
        bad = api.post(f"/batches/{batch_id}/override", json=body)
        assert bad.status_code == 422, (body, bad.text)
        assert [d["path"] for d in bad.json()["detail"]] == ["$.reason"]

    # Nothing half-written by any refusal.
    assert _state(api, batch_id) == before_state
    assert _batch_events(api, batch_id) == before_events

    released = api.post(f"/batches/{batch_id}/override", json={"reason": REASON})
    assert released.status_code == 200, released.text
    batch = released.json()
    assert batch["state"] == "ready_for_review"
    assert batch["expires_at"] is not None
    override = batch["privacy_report"]["override"]
    assert (override["by"], override["reason"]) == ("admin", REASON)
    assert batch["privacy_report"]["gate"]["passed"] is False  # the finding is kept
    assert _state(api, batch_id) == batch

    [event] = [e for e in _batch_events(api, batch_id) if e["action"] == "batch.override_block"]
    assert (event["actor"], event["details"]) == ("admin", {"reason": REASON})
    assert (event["before"]["state"], event["after"]["state"]) == ("blocked", "ready_for_review")
    found = api.get("/audit", params={"q": "override", "object_id": str(batch_id)})
    assert found.json()["total"] == 1

    events_after = _batch_events(api, batch_id)
    again = api.post(f"/batches/{batch_id}/override", json={"reason": REASON})
    assert again.status_code == 409
    assert "ready_for_review" in again.json()["detail"]
    assert _state(api, batch_id) == batch
    assert _batch_events(api, batch_id) == events_after

    assert api.post("/batches/999999/override", json={"reason": REASON}).status_code == 404


def _seed_quarantined(url: str, slug: str) -> int:
    """A published batch of one clean row whose run quarantined two raw rows."""
    import pyarrow as pa
    from blocked_batch_seed import ensure_task

    from etl_express.stages.outbox import finalize_batch, load_chunk
    from etl_express.stages.quarantine import Part, load_quarantine
    from etl_express.stores import batches
    from etl_express.stores.audit import SYSTEM, audited
    from etl_express.stores.db import make_engine

    engine = make_engine(url)
    try:
        task_id = ensure_task(engine, slug)
        with audited(engine, SYSTEM) as tx:
            batch_id = batches.create_batch(tx, task_id=task_id, run_id=None).id
    finally:
        engine.dispose()
    load_chunk(url, batch_id, 0, pa.table({"id": [1], "city": ["Kazan"]}))
    raw = pa.table(
        {
            "id": ["x-1", "2"],
            "email": ["anna@example.ru", None],
            "_etlx_reasons": ["cast(id)", "expect_column_values_to_not_be_null(email)"],
            "_etlx_severity": ["quarantine", "quarantine"],
        }
    )
    load_quarantine(url, batch_id, [Part("orders", 0, raw.schema, 2)], lambda part: raw)
    assert finalize_batch(url, batch_id, 1).state == "ready_for_review"
    return batch_id


def test_quarantined_rows_admins_only_and_audited(
    api: httpx.Client, airflow_server: Any, viewer_token: str, user_token: str
) -> None:
    batch_id = _seed_quarantined(airflow_server.etlx_database_url, f"q_api_{secrets.token_hex(3)}")
    events_before = _batch_events(api, batch_id)
    for token in (viewer_token, user_token):
        headers = {"Authorization": f"Bearer {token}"}
        # everyone sees how many rows were quarantined, not the rows
        detail = api.get(f"/batches/{batch_id}", headers=headers)
        assert detail.status_code == 200 and detail.json()["quarantined_rows"] == 2
        refused = api.get(f"/batches/{batch_id}/quarantine", headers=headers)
        assert refused.status_code == 403, refused.text
        assert "Only an admin may read quarantined rows" in refused.json()["detail"]
        assert "anna@" not in refused.text
    assert _batch_events(api, batch_id) == events_before  # a refusal records nothing

    page = api.get(f"/batches/{batch_id}/quarantine", params={"limit": 1})
    assert page.status_code == 200, page.text
    body = page.json()
    assert (body["total"], body["limit"], body["offset"]) == (2, 1, 0)
    assert body["columns"] == [{"name": "id", "type": "text"}, {"name": "email", "type": "text"}]
    [row] = body["rows"]
    values = {"id": "x-1", "email": "anna@example.ru"}
    assert row == {"input": "orders", "chunk": 0, "row": 0, "reasons": ["cast(id)"],
                   "severity": "quarantine", "values": values}  # fmt: skip
    second = api.get(f"/batches/{batch_id}/quarantine", params={"limit": 1, "offset": 1}).json()
    assert second["rows"][0]["reasons"] == ["expect_column_values_to_not_be_null(email)"]
    assert api.get(f"/batches/{batch_id}/quarantine", params={"limit": 0}).status_code == 422
    assert api.get("/batches/999999/quarantine").status_code == 404

    views = [e for e in _batch_events(api, batch_id) if e["action"] == "batch.quarantine.view"]
    assert [(e["actor"], e["details"]["offset"]) for e in views] == [("admin", 1), ("admin", 0)]
    assert views[1]["details"] == {"limit": 1, "offset": 0, "rows_shown": 1, "total": 2}
