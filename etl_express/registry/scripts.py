"""Scripts: validated at save, stored as immutable versions, every save audited.

Saving a spec identical to the latest version (same canonical JSON) creates nothing and writes
no audit event; any other save appends version latest+1 in one transaction with its event.
"""

from __future__ import annotations

import difflib
import re
from typing import Any, Literal

import sqlalchemy as sa
from pydantic import BaseModel

from etl_express.errors import Conflict, FieldError, NotFound, ValidationFailed
from etl_express.registry.actors import as_actor
from etl_express.registry.canonical import canonical_pretty_json, canonical_yaml, spec_sha256
from etl_express.registry.context import RegistryContext
from etl_express.spec import ScriptKind, ValidationContext, dump_spec, parse_script
from etl_express.spec.common import SCRIPT_NAME_PATTERN
from etl_express.stores import scripts as store
from etl_express.stores.audit import Actor, audited
from etl_express.stores.records import ScriptRecord, ScriptVersionRecord

DiffFormat = Literal["yaml", "json"]
MAX_TEXT = 2000  # description and comment, as the specs' own description fields
_NAME_RULE = "letters, digits, '_', '.', '-' (at most 200), starting with a letter or digit"


def _check_kind(kind: ScriptKind | str) -> ScriptKind:
    try:
        return ScriptKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in ScriptKind)
        raise ValidationFailed(
            [FieldError("$.kind", f"unknown kind {kind!r}; use {kinds}")]
        ) from None


def _check_name(name: str) -> str:
    if not isinstance(name, str) or not re.match(SCRIPT_NAME_PATTERN, name):
        raise ValidationFailed([FieldError("$.name", f"a script name uses {_NAME_RULE}")])
    return name


def _check_text(path: str, value: str | None) -> None:
    if value is not None and len(value) > MAX_TEXT:
        raise ValidationFailed([FieldError(path, f"at most {MAX_TEXT} characters, please")])


def _stored_form(parsed: BaseModel, payload: dict[str, Any]) -> tuple[dict[str, Any], Any]:
    """(spec to store, output schema); a validation-recorded schema is kept out of the spec so
    that reaching the source does not by itself make a new version."""
    spec = dump_spec(parsed)
    output_schema = spec.get("output_schema")
    if "output_schema" in spec and "output_schema" not in payload:
        del spec["output_schema"]
    return spec, output_schema


def validate_script(
    engine: sa.Engine,
    *,
    kind: ScriptKind | str,
    spec: dict[str, Any],
    ctx: ValidationContext | None = None,
) -> BaseModel:
    """Validate without saving (the API's and CLI's `validate`); raises ValidationFailed."""
    checked_kind = _check_kind(kind)
    with engine.connect() as conn:
        return parse_script(checked_kind, spec, RegistryContext(conn, ctx))


def save_script(
    engine: sa.Engine,
    *,
    kind: ScriptKind | str,
    name: str,
    spec: dict[str, Any],
    actor: str | Actor,
    comment: str | None = None,
    description: str | None = None,
    ctx: ValidationContext | None = None,
) -> ScriptVersionRecord:
    """Validate `spec` and store it as the next version of script `name` (created if new).

    Raises ValidationFailed (nothing written) for a bad kind, name or spec, and when `name`
    already belongs to a script of another kind.
    """
    checked_kind = _check_kind(kind)
    _check_name(name)
    _check_text("$.description", description)
    _check_text("$.comment", comment)
    parsed = validate_script(engine, kind=checked_kind, spec=spec, ctx=ctx)
    stored, output_schema = _stored_form(parsed, spec)
    new = store.NewVersion(
        spec=stored,
        spec_sha256=spec_sha256(stored),
        output_schema=output_schema,
        comment=comment,
    )
    text = description if description is not None else str(stored.get("description") or "")
    with audited(engine, as_actor(actor)) as tx:
        current = store.get_script(tx.conn, name, for_update=True)
        if current is None:
            created = store.create_script(
                tx, kind=checked_kind.value, name=name, description=text, new=new
            )
            if created is None:
                raise Conflict(f"script {name!r} was created by someone else just now; save again")
            return created
        if current.kind != checked_kind.value:
            raise ValidationFailed(
                [FieldError("$.name", f"{name!r} is already a {current.kind} script")]
            )
        latest = store.get_version(tx.conn, current.id)
        if latest is not None and latest.spec_sha256 == new.spec_sha256:
            if text != current.description:
                store.update_description(tx, current, text)
            else:
                tx.nothing_changed()
            return latest
        return store.add_version(tx, current, description=text, new=new)


def get_script(engine: sa.Engine, name: str) -> ScriptRecord:
    with engine.connect() as conn:
        found = store.get_script(conn, name)
    if found is None:
        raise NotFound(f"there is no script named {name!r}")
    return found


def list_scripts(
    engine: sa.Engine,
    *,
    kind: str | None = None,
    q: str | None = None,
    include_archived: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[ScriptRecord]:
    with engine.connect() as conn:
        return store.list_scripts(
            conn, kind=kind, q=q, include_archived=include_archived, limit=limit, offset=offset
        )


def get_version(engine: sa.Engine, name: str, version: int | None = None) -> ScriptVersionRecord:
    """One version of script `name`; the latest when `version` is None."""
    with engine.connect() as conn:
        script = store.get_script(conn, name)
        found = None if script is None else store.get_version(conn, script.id, version)
    if found is None:
        which = "" if version is None else f" version {version}"
        raise NotFound(f"there is no script {name!r}{which}")
    return found


def list_versions(engine: sa.Engine, name: str) -> list[ScriptVersionRecord]:
    """Every version of `name`, newest first."""
    with engine.connect() as conn:
        script = store.get_script(conn, name)
        if script is None:
            raise NotFound(f"there is no script named {name!r}")
        return store.list_versions(conn, script.id)


def diff_versions(
    engine: sa.Engine, name: str, old: int, new: int, *, fmt: DiffFormat = "yaml"
) -> str:
    """Unified diff between the canonical YAML (or JSON) of two versions; '' when equal."""
    render = canonical_yaml if fmt == "yaml" else canonical_pretty_json
    before = get_version(engine, name, old)
    after = get_version(engine, name, new)
    lines = difflib.unified_diff(
        render(before.spec).splitlines(keepends=True),
        render(after.spec).splitlines(keepends=True),
        fromfile=f"{name}@v{old}",
        tofile=f"{name}@v{new}",
    )
    return "".join(lines)


def set_archived(engine: sa.Engine, name: str, *, archived: bool, actor: str | Actor) -> None:
    """Hide a script from lists (or show it again); its versions stay pinned where used."""
    with audited(engine, as_actor(actor)) as tx:
        current = store.get_script(tx.conn, name, for_update=True)
        if current is None:
            raise NotFound(f"there is no script named {name!r}")
        if current.archived == archived:
            tx.nothing_changed()
            return
        store.set_archived(tx, current, archived)


def spec_fingerprint(
    engine: sa.Engine,
    *,
    kind: ScriptKind | str,
    spec: dict[str, Any],
    ctx: ValidationContext | None = None,
) -> str:
    """The sha256 the next version would have: equal to the latest's when saving changes nothing."""
    parsed = validate_script(engine, kind=kind, spec=spec, ctx=ctx)
    stored, _ = _stored_form(parsed, spec)
    return spec_sha256(stored)
