"""Issue 2: the plugin inside a real Airflow api-server (FAB auth manager)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from api_helpers import API


@pytest.mark.parametrize("path", ["/overview", "/audit", "/scripts", "/tasks", "/openapi.json"])
def test_anonymous_requests_to_plugin_routes_get_401(airflow_server: Any, path: str) -> None:
    response = httpx.get(airflow_server.url + API + path, timeout=30)
    assert response.status_code == 401


def test_health_is_anonymous(airflow_server: Any) -> None:
    response = httpx.get(airflow_server.url + API + "/health", timeout=30)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


def test_a_token_from_auth_token_opens_the_overview(api: httpx.Client) -> None:
    response = api.get("/overview")
    assert response.status_code == 200
    body = response.json()
    assert set(body) >= {"tasks", "recent_runs", "batches", "recent_events"}
    assert set(body["tasks"]["by_state"]) == {"draft", "active", "paused"}
    assert "ready_for_review" in body["batches"]["by_state"]


def test_the_bundle_is_listed_by_airflow_and_served(
    airflow_server: Any, airflow_api: httpx.Client
) -> None:
    plugins = airflow_api.get("/api/v2/plugins").json()["plugins"]
    apps = [app for plugin in plugins for app in plugin["react_apps"]]
    ours = next(app for app in apps if app["name"] == "ETL-Express")
    assert ours["bundle_url"] == "/etl-express/ui/etl-express.js"
    assert ours["destination"] == "nav"
    fastapi_apps = [app for plugin in plugins for app in plugin["fastapi_apps"]]
    assert any(app["url_prefix"] == "/etl-express" for app in fastapi_apps)

    anonymous = httpx.get(airflow_server.url + ours["bundle_url"], timeout=30)
    assert anonymous.status_code == 401
    bundle = airflow_api.get(ours["bundle_url"])
    assert bundle.status_code == 200
    assert bundle.headers["content-type"].startswith("text/javascript")
    assert 'globalThis["ETL-Express"]' in bundle.text


def test_openapi_is_published_under_the_mount(api: httpx.Client) -> None:
    spec = api.get("/openapi.json").json()
    assert spec["info"]["title"] == "ETL-Express"
    assert "/api/v1/tasks/{slug}/trigger" in spec["paths"]


def test_the_ui_cookie_authenticates_like_the_bearer_header(airflow_server: Any) -> None:
    token = airflow_server.token()
    response = httpx.get(
        airflow_server.url + API + "/overview", cookies={"_token": token}, timeout=30
    )
    assert response.status_code == 200
