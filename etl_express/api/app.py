"""The ETL-Express FastAPI app, mounted by the Airflow plugin at /etl-express.

Routes: ``/api/v1/health`` (anonymous), every other ``/api/v1/...`` route and the UI bundle at
``/ui/etl-express.js`` require an authenticated Airflow user (Airflow's own dependency).
OpenAPI: ``/etl-express/api/v1/openapi.json``, Swagger UI at ``/etl-express/api/v1/docs``.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse

from etl_express import __version__
from etl_express.api import problems
from etl_express.api.deps import EngineFactory, EngineHolder
from etl_express.api.plugin import API_PREFIX

DESCRIPTION = """\
ETL-Express: scripts, ETL tasks, runs, outbox review and audit, on top of Apache Airflow.

Authenticate like Airflow's own API: `POST /auth/token` with `{"username", "password"}` and send
`Authorization: Bearer <token>` (the Airflow UI's session cookie works too). Rejected payloads
come back as 422 with `detail: [{loc, path, msg}]`, where `path` is the JSON path of the field
(`$.fields.email.steps[1].pattern`).
"""


def _protected_routers() -> list[APIRouter]:
    from etl_express.api.routers import audit, batches, overview, scripts, tasks

    return [overview.router, audit.router, scripts.router, tasks.router, batches.router]


def create_app(*, engine_factory: EngineFactory | None = None) -> FastAPI:
    """Build the app; `engine_factory` overrides where the database engine comes from."""
    from airflow.api_fastapi.core_api.security import requires_authenticated

    from etl_express.api.routers import bundle, health

    app = FastAPI(
        title="ETL-Express",
        version=__version__,
        description=DESCRIPTION,
        # Served by routes below, behind authentication like everything but the health check.
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
    )
    app.state.engine_holder = EngineHolder(engine_factory)
    problems.install(app)

    authenticated = [Depends(requires_authenticated())]
    app.include_router(health.router, prefix=API_PREFIX)
    for router in _protected_routers():
        app.include_router(router, prefix=API_PREFIX, dependencies=authenticated)
    app.include_router(bundle.router, prefix="/ui", dependencies=authenticated)
    app.include_router(_docs_router(app), prefix=API_PREFIX, dependencies=authenticated)
    return app


def _docs_router(app: FastAPI) -> APIRouter:
    router = APIRouter(include_in_schema=False)

    @router.get("/openapi.json")
    def openapi() -> JSONResponse:
        return JSONResponse(app.openapi())

    @router.get("/docs")
    def docs(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "").rstrip("/")
        return get_swagger_ui_html(
            openapi_url=f"{root}{API_PREFIX}/openapi.json", title="ETL-Express API"
        )

    return router
