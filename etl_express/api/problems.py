"""The one place that turns ETL-Express errors into HTTP responses.

Field errors always come back as 422 with ``{"detail": [{"loc", "path", "msg"}]}``: ``path`` is
the JSON path the service named (``$.fields.email.steps[1].pattern``), ``loc`` the same path as
a list (``["fields", "email", "steps", 1, "pattern"]``). FastAPI's own request validation
errors are rendered in the same shape so the UI has one format to show inline.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from etl_express.api.airflow_client import AirflowCallFailed
from etl_express.errors import (
    ConfigError,
    Conflict,
    EtlxError,
    FieldError,
    Forbidden,
    NotFound,
    ValidationFailed,
)

_PATH_TOKEN = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]|\[\"([^\"]*)\"\]|\['([^']*)'\]")


def path_to_loc(path: str) -> list[str | int]:
    """``$.steps[2].pattern`` -> ``["steps", 2, "pattern"]``."""
    body = path[1:] if path.startswith("$") else path
    loc: list[str | int] = []
    for name, index, dq, sq in _PATH_TOKEN.findall(body):
        if index:
            loc.append(int(index))
        else:
            loc.append(name or dq or sq)
    return loc


def loc_to_path(loc: Sequence[str | int]) -> str:
    """``["steps", 2, "pattern"]`` -> ``$.steps[2].pattern``."""
    out = "$"
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", part):
            out += f".{part}"
        else:
            out += f'["{part}"]'
    return out


def field_errors_body(errors: Sequence[FieldError]) -> dict[str, Any]:
    return {
        "detail": [{"loc": path_to_loc(e.path), "path": e.path, "msg": e.message} for e in errors]
    }


def _request_error_body(exc: RequestValidationError) -> dict[str, Any]:
    detail = []
    for error in exc.errors():
        loc = list(error.get("loc", ()))
        # Body fields are addressed from the payload's root, like service errors; query and
        # path parameters keep their source as the first element.
        inner = loc[1:] if loc[:1] == ["body"] else loc
        detail.append({"loc": inner, "path": loc_to_path(inner), "msg": error.get("msg", "")})
    return {"detail": detail}


_STATUS: dict[type[EtlxError], int] = {
    NotFound: 404,
    Conflict: 409,
    Forbidden: 403,
    ConfigError: 503,
}


def _status_of(exc: EtlxError) -> int:
    for cls, status in _STATUS.items():
        if isinstance(exc, cls):
            return status
    return 400


async def _etlx_error(_: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, AirflowCallFailed):
        return JSONResponse({"detail": str(exc)}, status_code=502)
    if isinstance(exc, ValidationFailed):
        return JSONResponse(field_errors_body(exc.errors), status_code=422)
    assert isinstance(exc, EtlxError)
    return JSONResponse({"detail": str(exc)}, status_code=_status_of(exc))


async def _request_validation_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    return JSONResponse(_request_error_body(exc), status_code=422)


def install(app: FastAPI) -> None:
    """Register the handlers on `app`."""
    app.add_exception_handler(EtlxError, _etlx_error)
    app.add_exception_handler(RequestValidationError, _request_validation_error)
