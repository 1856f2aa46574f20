"""Scripts and their immutable versions (SQL only; validation lives in etl_express.registry)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert

from etl_express.stores.audit import AuditedTx
from etl_express.stores.jsonable import to_jsonable
from etl_express.stores.records import ScriptRecord, ScriptVersionRecord
from etl_express.stores.schema import script_versions, scripts
from etl_express.stores.text import contains_pattern


@dataclass(frozen=True)
class NewVersion:
    """A validated spec about to become a version."""

    spec: dict[str, Any]
    spec_sha256: str
    output_schema: list[dict[str, Any]] | None
    comment: str | None


def _version_select() -> sa.Select[Any]:
    return sa.select(
        script_versions.c.script_id,
        scripts.c.name,
        scripts.c.kind,
        script_versions.c.version,
        script_versions.c.spec,
        script_versions.c.spec_sha256,
        script_versions.c.output_schema,
        script_versions.c.comment,
        script_versions.c.created_by,
        script_versions.c.created_at,
    ).join(scripts, scripts.c.id == script_versions.c.script_id)


def get_script(conn: sa.Connection, name: str, *, for_update: bool = False) -> ScriptRecord | None:
    stmt = sa.select(scripts).where(scripts.c.name == name)
    if for_update:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).first()
    return None if row is None else ScriptRecord.from_row(row)


def get_script_by_id(conn: sa.Connection, script_id: int) -> ScriptRecord | None:
    row = conn.execute(sa.select(scripts).where(scripts.c.id == script_id)).first()
    return None if row is None else ScriptRecord.from_row(row)


def list_scripts(
    conn: sa.Connection,
    *,
    kind: str | None = None,
    q: str | None = None,
    include_archived: bool = False,
    limit: int = 100,
    offset: int = 0,
) -> list[ScriptRecord]:
    """Scripts by name; `q` matches part of the name or description, case-insensitively."""
    stmt = sa.select(scripts).order_by(scripts.c.name).limit(limit).offset(offset)
    if kind:
        stmt = stmt.where(scripts.c.kind == kind)
    if not include_archived:
        stmt = stmt.where(scripts.c.archived.is_(False))
    if q and q.strip():
        pattern = contains_pattern(q.strip())
        stmt = stmt.where(
            sa.or_(
                scripts.c.name.ilike(pattern, escape="\\"),
                scripts.c.description.ilike(pattern, escape="\\"),
            )
        )
    return [ScriptRecord.from_row(row) for row in conn.execute(stmt)]


def get_version(
    conn: sa.Connection, script_id: int, version: int | None = None
) -> ScriptVersionRecord | None:
    """One version; the newest when `version` is None."""
    stmt = _version_select().where(script_versions.c.script_id == script_id)
    if version is None:
        stmt = stmt.where(script_versions.c.version == scripts.c.latest_version)
    else:
        stmt = stmt.where(script_versions.c.version == version)
    row = conn.execute(stmt).first()
    return None if row is None else ScriptVersionRecord.from_row(row)


def get_version_by_name(
    conn: sa.Connection, name: str, version: int | None = None
) -> ScriptVersionRecord | None:
    """One version of script `name` in one query; the newest when `version` is None."""
    stmt = _version_select().where(scripts.c.name == name)
    if version is None:
        stmt = stmt.where(script_versions.c.version == scripts.c.latest_version)
    else:
        stmt = stmt.where(script_versions.c.version == version)
    row = conn.execute(stmt).first()
    return None if row is None else ScriptVersionRecord.from_row(row)


def list_versions(conn: sa.Connection, script_id: int) -> list[ScriptVersionRecord]:
    """Every version of a script, newest first."""
    stmt = (
        _version_select()
        .where(script_versions.c.script_id == script_id)
        .order_by(script_versions.c.version.desc())
    )
    return [ScriptVersionRecord.from_row(row) for row in conn.execute(stmt)]


def _insert_version(
    tx: AuditedTx, script_id: int, version: int, new: NewVersion
) -> ScriptVersionRecord:
    tx.conn.execute(
        sa.insert(script_versions).values(
            script_id=script_id,
            version=version,
            spec=to_jsonable(new.spec),
            spec_sha256=new.spec_sha256,
            output_schema=to_jsonable(new.output_schema),
            comment=new.comment,
            created_by=tx.actor.name,
        )
    )
    record = get_version(tx.conn, script_id, version)
    assert record is not None  # just inserted in this transaction
    return record


def create_script(
    tx: AuditedTx, *, kind: str, name: str, description: str, new: NewVersion
) -> ScriptVersionRecord | None:
    """Insert a script with version 1; None when another save created the name meanwhile."""
    inserted = tx.conn.execute(
        pg_insert(scripts)
        .values(
            kind=kind,
            name=name,
            description=description,
            created_by=tx.actor.name,
            latest_version=1,
        )
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(scripts.c.id)
    ).first()
    if inserted is None:
        return None
    record = _insert_version(tx, int(inserted.id), 1, new)
    tx.record(
        "script.create",
        "script",
        name,
        after=_audit_view(record, description),
        details={"script_id": record.script_id, "kind": kind, "comment": new.comment},
    )
    return record


def add_version(
    tx: AuditedTx, current: ScriptRecord, *, description: str, new: NewVersion
) -> ScriptVersionRecord:
    """Append version latest+1 of a script locked FOR UPDATE by the caller."""
    previous = get_version(tx.conn, current.id)
    version = current.latest_version + 1
    record = _insert_version(tx, current.id, version, new)
    tx.conn.execute(
        sa.update(scripts)
        .where(scripts.c.id == current.id)
        .values(
            latest_version=version,
            description=description,
            archived=False,
            updated_at=sa.func.now(),
        )
    )
    tx.record(
        "script.save",
        "script",
        current.name,
        before=None if previous is None else _audit_view(previous, current.description),
        after=_audit_view(record, description),
        details={"script_id": current.id, "kind": current.kind, "comment": new.comment},
    )
    return record


def update_description(tx: AuditedTx, current: ScriptRecord, description: str) -> None:
    tx.conn.execute(
        sa.update(scripts)
        .where(scripts.c.id == current.id)
        .values(description=description, updated_at=sa.func.now())
    )
    tx.record(
        "script.describe",
        "script",
        current.name,
        before={"description": current.description},
        after={"description": description},
    )


def set_archived(tx: AuditedTx, current: ScriptRecord, archived: bool) -> None:
    tx.conn.execute(
        sa.update(scripts)
        .where(scripts.c.id == current.id)
        .values(archived=archived, updated_at=sa.func.now())
    )
    tx.record(
        "script.archive" if archived else "script.unarchive",
        "script",
        current.name,
        before={"archived": current.archived},
        after={"archived": archived},
    )


def _audit_view(record: ScriptVersionRecord, description: str) -> dict[str, Any]:
    return {
        "version": record.version,
        "spec_sha256": record.spec_sha256,
        "description": description,
        "spec": record.spec,
    }
