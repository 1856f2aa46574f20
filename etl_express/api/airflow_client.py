"""Calls to Airflow's REST API v2 on behalf of the user making our request.

The plugin runs inside Airflow's api-server, so the call goes in-process to the same ASGI app
(no socket, no second login) with the caller's own token: Airflow checks the user's rights on
the DAG exactly as if the user had called ``/api/v2`` directly. When the root app is not known
(our app served on its own), it falls back to HTTP against ``[api] base_url``.
"""

from __future__ import annotations

from typing import Any, Final

import httpx
from fastapi import Request

from etl_express.api.lazy import ROOT_APP_SCOPE_KEY
from etl_express.errors import EtlxError, Forbidden, NotFound

TOKEN_COOKIE: Final = "_token"
TIMEOUT_SECONDS: Final = 30.0


class AirflowCallFailed(EtlxError):
    """Airflow answered a call we made for the user with an unexpected error."""


def caller_token(request: Request) -> str | None:
    """The credential the caller presented: bearer header first, then the UI cookie."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return request.cookies.get(TOKEN_COOKIE)


def _fallback_base_url() -> str:
    from airflow.configuration import conf

    return str(conf.get("api", "base_url", fallback="") or "http://127.0.0.1:8080").rstrip("/")


class AirflowApi:
    """A small client of ``/api/v2`` acting as the user of `request`."""

    def __init__(self, request: Request) -> None:
        self._root_app = request.scope.get(ROOT_APP_SCOPE_KEY)
        self._token = caller_token(request)

    def _client(self) -> httpx.AsyncClient:
        headers = {"Authorization": f"Bearer {self._token}"} if self._token else {}
        if self._root_app is not None:
            return httpx.AsyncClient(
                transport=httpx.ASGITransport(app=self._root_app),
                base_url="http://airflow.in-process",
                headers=headers,
                timeout=TIMEOUT_SECONDS,
            )
        return httpx.AsyncClient(
            base_url=_fallback_base_url(), headers=headers, timeout=TIMEOUT_SECONDS
        )

    async def _call(self, method: str, path: str, **kwargs: Any) -> Any:
        async with self._client() as client:
            response = await client.request(method, path, **kwargs)
        if response.status_code < 300:
            return response.json() if response.content else None
        raise _error_for(response, path)

    async def set_paused(self, dag_id: str, paused: bool) -> dict[str, Any]:
        result: dict[str, Any] = await self._call(
            "PATCH",
            f"/api/v2/dags/{dag_id}",
            params={"update_mask": "is_paused"},
            json={"is_paused": paused},
        )
        return result

    async def trigger(self, dag_id: str, conf: dict[str, Any] | None = None) -> dict[str, Any]:
        # logical_date must be sent explicitly (null = "now, no data interval").
        result: dict[str, Any] = await self._call(
            "POST",
            f"/api/v2/dags/{dag_id}/dagRuns",
            json={"logical_date": None, "conf": conf or {}},
        )
        return result

    async def dag(self, dag_id: str) -> dict[str, Any]:
        result: dict[str, Any] = await self._call("GET", f"/api/v2/dags/{dag_id}")
        return result

    async def dag_runs(self, dag_id: str, limit: int = 25) -> list[dict[str, Any]]:
        result = await self._call(
            "GET",
            f"/api/v2/dags/{dag_id}/dagRuns",
            params={"order_by": "-run_after", "limit": limit},
        )
        runs: list[dict[str, Any]] = result.get("dag_runs", [])
        return runs


def _airflow_detail(response: httpx.Response) -> str:
    try:
        detail = response.json().get("detail")
    except ValueError:
        detail = None
    return str(detail) if detail else response.text[:200]


def _error_for(response: httpx.Response, path: str) -> EtlxError:
    detail = _airflow_detail(response)
    if response.status_code == 404:
        dag_id = path.split("/")[4] if path.startswith("/api/v2/dags/") else path
        return NotFound(
            f"Airflow has not loaded DAG {dag_id!r} (yet): a saved task shows up within about "
            f"30 s; if it does not, see the task's DAG error. Airflow said: {detail}"
        )
    if response.status_code in (401, 403):
        return Forbidden(f"Airflow refused the call for this user: {detail}")
    return AirflowCallFailed(f"Airflow answered {response.status_code} to {path}: {detail}")
