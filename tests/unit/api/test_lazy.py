from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from fastapi import FastAPI, Request
from fastapi.testclient import TestClient

from etl_express.api.lazy import ROOT_APP_SCOPE_KEY, LazyApp

BUILT: list[FastAPI] = []


def build() -> FastAPI:
    app = FastAPI()

    @app.get("/who")
    def who(request: Request) -> dict[str, Any]:
        root = request.scope.get(ROOT_APP_SCOPE_KEY)
        return {"root_title": getattr(root, "title", None)}

    BUILT.append(app)
    return app


def test_builds_once_on_first_request_and_remembers_the_root_app() -> None:
    BUILT.clear()
    lazy = LazyApp(f"{__name__}:build")
    assert BUILT == []
    root = FastAPI(title="root")
    root.mount("/sub", lazy)
    client = TestClient(root)
    assert client.get("/sub/who").json() == {"root_title": "root"}
    client.get("/sub/who")
    assert len(BUILT) == 1


def test_rejects_a_malformed_target() -> None:
    with pytest.raises(ValueError, match=r"package\.module:factory"):
        LazyApp("no_colon")


def test_importing_the_plugin_module_loads_no_heavy_library() -> None:
    # A fresh interpreter: what does the plugin's own module pull in?
    code = (
        "import sys; import etl_express.api.plugin as p; "
        "heavy = [m for m in ('fastapi', 'sqlalchemy', 'airflow', 'polars', 'pydantic') "
        "if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
