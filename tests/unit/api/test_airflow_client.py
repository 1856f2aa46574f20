from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from etl_express.api.airflow_client import AirflowApi, AirflowCallFailed, _error_for, caller_token
from etl_express.api.lazy import LazyApp
from etl_express.errors import Forbidden, NotFound


def _token_of(headers: dict[str, str], cookies: dict[str, str]) -> str | None:
    app = FastAPI()

    @app.get("/t")
    def t(request: Request) -> dict[str, str | None]:
        return {"token": caller_token(request)}

    client = TestClient(app, cookies=cookies)
    return client.get("/t", headers=headers).json()["token"]  # type: ignore[no-any-return]


def test_the_bearer_header_wins_over_the_cookie() -> None:
    assert _token_of({"Authorization": "Bearer abc"}, {"_token": "cookie"}) == "abc"
    assert _token_of({}, {"_token": "cookie"}) == "cookie"
    assert _token_of({"Authorization": "Basic xyz"}, {}) is None


@pytest.mark.parametrize(
    ("status", "error"),
    [(404, NotFound), (403, Forbidden), (401, Forbidden), (500, AirflowCallFailed)],
)
def test_airflow_errors_become_ours(status: int, error: type[Exception]) -> None:
    response = httpx.Response(status, json={"detail": "nope"})
    made = _error_for(response, "/api/v2/dags/etlx__x")
    assert isinstance(made, error)
    assert "nope" in str(made)
    if status == 404:
        assert "etlx__x" in str(made)


ROOT_CALLS: list[dict[str, str | None]] = []


def sub_app() -> FastAPI:
    app = FastAPI()

    @app.post("/pause/{dag_id}")
    async def pause(dag_id: str, request: Request) -> dict[str, object]:
        return await AirflowApi(request).set_paused(dag_id, True)

    return app


def test_calls_go_in_process_to_the_root_app_with_the_callers_token() -> None:
    # The root app stands in for Airflow's: it answers the REST v2 route our client calls.
    root = FastAPI()

    @root.patch("/api/v2/dags/{dag_id}")
    def patch_dag(
        dag_id: str, update_mask: str, request: Request, body: dict[str, bool]
    ) -> dict[str, object]:
        ROOT_CALLS.append({"auth": request.headers.get("authorization"), "mask": update_mask})
        return {"dag_id": dag_id, "is_paused": body["is_paused"]}

    root.mount("/etl-express", LazyApp(f"{__name__}:sub_app"))
    response = TestClient(root).post(
        "/etl-express/pause/etlx__demo", headers={"Authorization": "Bearer user-token"}
    )
    assert response.json() == {"dag_id": "etlx__demo", "is_paused": True}
    assert ROOT_CALLS == [{"auth": "Bearer user-token", "mask": "is_paused"}]
