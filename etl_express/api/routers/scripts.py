"""Scripts: list and search, create, new versions, versions, diffs, validation.

Request bodies wrap the script's spec: ``{"kind", "name", "spec": {...}, "comment"}``. Field
errors point into the body, so a problem in the spec has a path under ``$.spec``
(``$.spec.fields.email.steps[1].pattern``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Query, status
from pydantic import BaseModel, Field

from etl_express.api.auth import CurrentUser, actor_name
from etl_express.api.context import AirflowContext
from etl_express.api.deps import EngineDep
from etl_express.errors import Conflict, FieldError, NotFound, ValidationFailed
from etl_express.registry import scripts as registry
from etl_express.spec import ScriptKind, dump_spec
from etl_express.spec.common import SCRIPT_NAME_PATTERN
from etl_express.stores.records import ScriptRecord, ScriptVersionRecord

router = APIRouter(prefix="/scripts", tags=["scripts"])

T = TypeVar("T")
_ENVELOPE_PATHS = frozenset({"$.name", "$.kind", "$.comment", "$.description"})


class ScriptCreate(BaseModel):
    kind: ScriptKind
    name: str = Field(min_length=1, max_length=200)
    spec: dict[str, Any]
    comment: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=2000)


class ScriptUpdate(BaseModel):
    spec: dict[str, Any]
    comment: str | None = Field(None, max_length=2000)
    description: str | None = Field(None, max_length=2000)


class ScriptValidate(BaseModel):
    kind: ScriptKind
    spec: dict[str, Any]


class ValidationResult(BaseModel):
    valid: bool
    spec: dict[str, Any]


class ScriptDetail(BaseModel):
    script: ScriptRecord
    latest: ScriptVersionRecord


class Diff(BaseModel):
    name: str
    old: int
    new: int
    format: str
    diff: str


def _spec_path(path: str) -> str:
    if path in _ENVELOPE_PATHS:
        return path
    return "$.spec" + path[1:]


def in_body(call: Callable[[], T], extra: list[FieldError] | None = None) -> T:
    """Run a registry call; field errors about the spec are re-rooted at ``$.spec``.

    `extra` errors (found by the API itself) are reported together with the call's own, so a
    form shows every problem at once.
    """
    errors = list(extra or [])
    try:
        result = call()
    except ValidationFailed as exc:
        errors += [FieldError(_spec_path(e.path), e.message) for e in exc.errors]
    if errors:
        raise ValidationFailed(errors)
    return result


def _name_errors(name: str) -> list[FieldError]:
    if re.match(SCRIPT_NAME_PATTERN, name):
        return []
    return [
        FieldError(
            "$.name",
            "a script name uses letters, digits, '_', '.', '-' (at most 200), "
            "starting with a letter or digit",
        )
    ]


@router.get("", response_model=list[ScriptRecord], summary="List and search scripts")
def list_scripts(
    engine: EngineDep,
    kind: ScriptKind | None = None,
    q: Annotated[str | None, Query(max_length=200)] = None,
    include_archived: bool = False,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> list[ScriptRecord]:
    return registry.list_scripts(
        engine,
        kind=kind.value if kind else None,
        q=q,
        include_archived=include_archived,
        limit=limit,
        offset=offset,
    )


@router.post(
    "",
    response_model=ScriptVersionRecord,
    status_code=status.HTTP_201_CREATED,
    summary="Create a script (its version 1)",
)
def create_script(body: ScriptCreate, engine: EngineDep, user: CurrentUser) -> ScriptVersionRecord:
    try:
        registry.get_script(engine, body.name)
    except NotFound:
        pass
    else:
        raise Conflict(
            f"script {body.name!r} exists; save a new version with PUT /scripts/{{name}}"
        )
    name_errors = _name_errors(body.name)
    if name_errors:
        # Validate the spec too, so the form shows its errors along with the name's.
        in_body(
            lambda: registry.validate_script(
                engine, kind=body.kind, spec=body.spec, ctx=AirflowContext(user)
            ),
            name_errors,
        )
    return in_body(
        lambda: registry.save_script(
            engine,
            kind=body.kind,
            name=body.name,
            spec=body.spec,
            actor=actor_name(user),
            comment=body.comment,
            description=body.description,
            ctx=AirflowContext(user),
        )
    )


@router.post("/validate", response_model=ValidationResult, summary="Validate; writes nothing")
def validate_script(body: ScriptValidate, engine: EngineDep, user: CurrentUser) -> ValidationResult:
    parsed = in_body(
        lambda: registry.validate_script(
            engine, kind=body.kind, spec=body.spec, ctx=AirflowContext(user)
        )
    )
    return ValidationResult(valid=True, spec=dump_spec(parsed))


@router.get("/{name}", response_model=ScriptDetail, summary="A script and its latest version")
def get_script(name: str, engine: EngineDep) -> ScriptDetail:
    return ScriptDetail(
        script=registry.get_script(engine, name), latest=registry.get_version(engine, name)
    )


@router.put(
    "/{name}",
    response_model=ScriptVersionRecord,
    summary="Save a new version (nothing is written when the spec is unchanged)",
)
def update_script(
    name: str, body: ScriptUpdate, engine: EngineDep, user: CurrentUser
) -> ScriptVersionRecord:
    current = registry.get_script(engine, name)
    return in_body(
        lambda: registry.save_script(
            engine,
            kind=current.kind,
            name=name,
            spec=body.spec,
            actor=actor_name(user),
            comment=body.comment,
            description=body.description,
            ctx=AirflowContext(user),
        )
    )


@router.get(
    "/{name}/versions", response_model=list[ScriptVersionRecord], summary="Versions, newest first"
)
def list_versions(name: str, engine: EngineDep) -> list[ScriptVersionRecord]:
    return registry.list_versions(engine, name)


@router.get("/{name}/versions/{version}", response_model=ScriptVersionRecord)
def get_version(name: str, version: int, engine: EngineDep) -> ScriptVersionRecord:
    return registry.get_version(engine, name, version)


@router.get("/{name}/diff", response_model=Diff, summary="Unified diff between two versions")
def diff_versions(
    name: str,
    engine: EngineDep,
    old: Annotated[int, Query(ge=1)],
    new: Annotated[int, Query(ge=1)],
    format: Literal["yaml", "json"] = "yaml",
) -> Diff:
    text = registry.diff_versions(engine, name, old, new, fmt=format)
    return Diff(name=name, old=old, new=new, format=format, diff=text)
