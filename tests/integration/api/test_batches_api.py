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
