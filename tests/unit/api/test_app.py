from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from etl_express.api.app import create_app


def _unreachable_engine() -> sa.Engine:
    raise AssertionError("this test must not open the database")


@pytest.fixture
def client(airflow_auth: None) -> Iterator[TestClient]:
    with TestClient(create_app(engine_factory=_unreachable_engine)) as client:
        yield client


def test_health_is_anonymous_and_opens_no_database(client: TestClient) -> None:
    response = client.get("/api/v1/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/overview",
        "/api/v1/audit",
        "/api/v1/scripts",
        "/api/v1/tasks",
        "/api/v1/openapi.json",
        "/api/v1/docs",
        "/ui/etl-express.js",
    ],
)
def test_every_other_route_needs_a_user(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 401
    assert response.json() == {"detail": "Not authenticated"}


def test_a_forged_token_is_refused(client: TestClient) -> None:
    response = client.get("/ui/etl-express.js", headers={"Authorization": "Bearer abc.def.ghi"})
    assert response.status_code == 403


def test_bundle_is_served_as_javascript_with_a_token(
    client: TestClient, viewer_headers: dict[str, str]
) -> None:
    response = client.get("/ui/etl-express.js", headers=viewer_headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert 'globalThis["ETL-Express"]' in response.text


def test_the_ui_cookie_authenticates_too(
    client: TestClient, make_token: Callable[[str, str], str]
) -> None:
    client.cookies.set("_token", make_token("victor", "viewer"))
    try:
        assert client.get("/ui/etl-express.js").status_code == 200
    finally:
        client.cookies.clear()


def test_openapi_is_under_api_v1_and_declares_bearer_auth(
    client: TestClient, viewer_headers: dict[str, str]
) -> None:
    spec = client.get("/api/v1/openapi.json", headers=viewer_headers).json()
    assert spec["info"]["title"] == "ETL-Express"
    assert "/api/v1/overview" in spec["paths"]
    schemes = spec["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())
    health = spec["paths"]["/api/v1/health"]["get"]
    assert "security" not in health


def test_openapi_documents_the_routes_of_both_issues(
    client: TestClient, viewer_headers: dict[str, str]
) -> None:
    paths = client.get("/api/v1/openapi.json", headers=viewer_headers).json()["paths"]
    for path, method in [
        ("/api/v1/scripts", "post"),
        ("/api/v1/scripts/validate", "post"),
        ("/api/v1/scripts/{name}", "put"),
        ("/api/v1/scripts/{name}/versions", "get"),
        ("/api/v1/scripts/{name}/diff", "get"),
        ("/api/v1/tasks", "post"),
        ("/api/v1/tasks/validate", "post"),
        ("/api/v1/tasks/{slug}", "delete"),
        ("/api/v1/tasks/{slug}/trigger", "post"),
        ("/api/v1/tasks/{slug}/pause", "post"),
        ("/api/v1/tasks/{slug}/unpause", "post"),
        ("/api/v1/tasks/{slug}/runs", "get"),
    ]:
        assert method in paths[path], (path, method)


def test_swagger_ui_points_at_the_mounted_openapi(
    client: TestClient, viewer_headers: dict[str, str]
) -> None:
    html = client.get("/api/v1/docs", headers=viewer_headers).text
    assert "/api/v1/openapi.json" in html
