from __future__ import annotations

import pytest
from fastapi import FastAPI, Query
from fastapi.testclient import TestClient
from pydantic import BaseModel

from etl_express.api import problems
from etl_express.api.airflow_client import AirflowCallFailed
from etl_express.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed


@pytest.mark.parametrize(
    ("path", "loc"),
    [
        ("$.query", ["query"]),
        ("$.fields.email.steps[1].pattern", ["fields", "email", "steps", 1, "pattern"]),
        ('$.fields["first name"].steps[0]', ["fields", "first name", "steps", 0]),
        ("$", []),
    ],
)
def test_paths_and_locs_convert_both_ways(path: str, loc: list[str | int]) -> None:
    assert problems.path_to_loc(path) == loc
    assert problems.loc_to_path(loc) == path


class Body(BaseModel):
    name: str
    size: int


def _app() -> FastAPI:
    app = FastAPI()
    problems.install(app)

    @app.get("/fail/{kind}")
    def fail(kind: str) -> None:
        errors = {
            "validation": ValidationFailed([FieldError("$.steps[2].pattern", "bad regex")]),
            "missing": NotFound("no script 'x'"),
            "conflict": Conflict("name 'x' is taken"),
            "forbidden": Forbidden("only an admin may do this"),
            "airflow": AirflowCallFailed("Airflow answered 500"),
        }
        raise errors[kind]

    @app.post("/body")
    def body(payload: Body, limit: int = Query(1, ge=1)) -> None:
        return None

    return app


@pytest.mark.parametrize(
    ("kind", "status"),
    [("missing", 404), ("conflict", 409), ("forbidden", 403), ("airflow", 502)],
)
def test_errors_map_to_status_codes(kind: str, status: int) -> None:
    response = TestClient(_app()).get(f"/fail/{kind}")
    assert response.status_code == status
    assert isinstance(response.json()["detail"], str)


def test_validation_failed_renders_paths() -> None:
    response = TestClient(_app()).get("/fail/validation")
    assert response.status_code == 422
    assert response.json() == {
        "detail": [
            {"loc": ["steps", 2, "pattern"], "path": "$.steps[2].pattern", "msg": "bad regex"}
        ]
    }


def test_request_errors_use_the_same_shape() -> None:
    response = TestClient(_app()).post("/body?limit=0", json={"name": "x", "size": "big"})
    assert response.status_code == 422
    detail = {d["path"]: d for d in response.json()["detail"]}
    assert detail["$.size"]["loc"] == ["size"]
    assert "integer" in detail["$.size"]["msg"]
    assert detail["$.query.limit"]["loc"] == ["query", "limit"]
