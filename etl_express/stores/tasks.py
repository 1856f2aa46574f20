"""ETL tasks and the script versions they pin (SQL only; validation in etl_express.registry)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import sqlalchemy as sa

from etl_express.stores.audit import AuditedTx
from etl_express.stores.jsonable import to_jsonable
from etl_express.stores.records import PinnedScript, TaskRecord
from etl_express.stores.schema import etl_tasks, script_versions, scripts, task_scripts
from etl_express.stores.text import contains_pattern


@dataclass(frozen=True)
class TaskValues:
    """The columns of a task a save sets."""

    slug: str
    name: str
    description: str
    schedule: str | None
    state: str
    retention_days: int
    approver_must_differ: bool
    owner: str
    quasi_identifiers: list[str]
    spec: dict[str, Any]


@dataclass(frozen=True)
class Pin:
    """One attached script version."""

    role: str
    position: int
    script_id: int
    version: int
    input_name: str | None = None


def _pins_select() -> sa.Select[Any]:
    return (
        sa.select(
            task_scripts.c.task_id,
            task_scripts.c.role,
            task_scripts.c.position,
            task_scripts.c.input_name,
            task_scripts.c.script_id,
            scripts.c.name,
            scripts.c.kind,
            task_scripts.c.version,
            script_versions.c.spec,
            script_versions.c.spec_sha256,
            script_versions.c.output_schema,
        )
        .join(scripts, scripts.c.id == task_scripts.c.script_id)
        .join(
            script_versions,
            sa.and_(
                script_versions.c.script_id == task_scripts.c.script_id,
                script_versions.c.version == task_scripts.c.version,
            ),
        )
        .order_by(task_scripts.c.task_id, task_scripts.c.role, task_scripts.c.position)
    )


def load_pins(conn: sa.Connection, task_ids: Iterable[int]) -> dict[int, list[PinnedScript]]:
    """Pinned scripts (with their specs) of each task, in role then position order."""
    ids = list(task_ids)
    out: dict[int, list[PinnedScript]] = {task_id: [] for task_id in ids}
    if not ids:
        return out
    for row in conn.execute(_pins_select().where(task_scripts.c.task_id.in_(ids))):
        out[row.task_id].append(PinnedScript.from_row(row))
    return out


def _with_pins(conn: sa.Connection, rows: Sequence[sa.Row[Any]]) -> list[TaskRecord]:
    pins = load_pins(conn, [row.id for row in rows])
    return [TaskRecord.from_row(row, scripts=pins[row.id]) for row in rows]


def get_task(
    conn: sa.Connection,
    *,
    task_id: int | None = None,
    slug: str | None = None,
    name: str | None = None,
    include_deleted: bool = False,
    for_update: bool = False,
) -> TaskRecord | None:
    """A live task by id, slug or name (deleted ones only by id with `include_deleted`)."""
    stmt = sa.select(etl_tasks)
    if task_id is not None:
        stmt = stmt.where(etl_tasks.c.id == task_id)
    elif slug is not None:
        stmt = stmt.where(etl_tasks.c.slug == slug)
    elif name is not None:
        stmt = stmt.where(etl_tasks.c.name == name)
    else:
        raise TypeError("get_task needs task_id, slug or name")
    if not include_deleted:
        stmt = stmt.where(etl_tasks.c.deleted_at.is_(None))
    if for_update:
        stmt = stmt.with_for_update()
    rows = conn.execute(stmt).all()
    return _with_pins(conn, rows)[0] if rows else None


def list_tasks(
    conn: sa.Connection,
    *,
    state: str | Sequence[str] | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[TaskRecord]:
    """Live tasks by name; `q` matches part of name, slug, description or owner."""
    stmt = (
        sa.select(etl_tasks)
        .where(etl_tasks.c.deleted_at.is_(None))
        .order_by(etl_tasks.c.name)
        .limit(limit)
        .offset(offset)
    )
    if isinstance(state, str):
        stmt = stmt.where(etl_tasks.c.state == state)
    elif state:
        stmt = stmt.where(etl_tasks.c.state.in_(list(state)))
    if q and q.strip():
        pattern = contains_pattern(q.strip())
        columns = (etl_tasks.c.name, etl_tasks.c.slug, etl_tasks.c.description, etl_tasks.c.owner)
        stmt = stmt.where(sa.or_(*(col.ilike(pattern, escape="\\") for col in columns)))
    return _with_pins(conn, conn.execute(stmt).all())


def slugs_in_use(conn: sa.Connection, prefix: str) -> set[str]:
    """Slugs starting with `prefix`, deleted tasks' too: a new task must not inherit the
    Airflow history of a deleted task's DAG id."""
    stmt = sa.select(etl_tasks.c.slug).where(etl_tasks.c.slug.startswith(prefix, autoescape=True))
    return set(conn.execute(stmt).scalars())


def _replace_pins(conn: sa.Connection, task_id: int, pins: Sequence[Pin]) -> None:
    conn.execute(sa.delete(task_scripts).where(task_scripts.c.task_id == task_id))
    if pins:
        conn.execute(sa.insert(task_scripts), [{"task_id": task_id, **asdict(pin)} for pin in pins])


def _pin_view(pins: Sequence[PinnedScript]) -> list[dict[str, Any]]:
    return [
        {"role": p.role, "name": p.name, "version": p.version, "input_name": p.input_name}
        for p in pins
    ]


def audit_view(task: TaskRecord) -> dict[str, Any]:
    """What the audit trail keeps of a task: its columns and pinned versions, not the specs."""
    data = task.model_dump(mode="json", exclude={"scripts", "created_at", "updated_at"})
    data["scripts"] = _pin_view(task.scripts)
    return data


def create_task(tx: AuditedTx, values: TaskValues, pins: Sequence[Pin]) -> TaskRecord:
    row = tx.conn.execute(
        sa.insert(etl_tasks)
        .values(
            **_columns(values),
            created_by=tx.actor.name,
            updated_by=tx.actor.name,
        )
        .returning(etl_tasks.c.id)
    ).one()
    _replace_pins(tx.conn, int(row.id), pins)
    task = get_task(tx.conn, task_id=int(row.id))
    assert task is not None  # inserted in this transaction
    tx.record("task.create", "task", task.slug, after=audit_view(task))
    return task


def update_task(
    tx: AuditedTx, current: TaskRecord, values: TaskValues, pins: Sequence[Pin]
) -> TaskRecord:
    """Overwrite a task locked FOR UPDATE by the caller; bumps its revision."""
    tx.conn.execute(
        sa.update(etl_tasks)
        .where(etl_tasks.c.id == current.id)
        .values(
            **_columns(values),
            updated_by=tx.actor.name,
            updated_at=sa.func.now(),
            revision=etl_tasks.c.revision + 1,
            dag_error=None,
        )
    )
    _replace_pins(tx.conn, current.id, pins)
    task = get_task(tx.conn, task_id=current.id)
    assert task is not None
    tx.record("task.save", "task", task.slug, before=audit_view(current), after=audit_view(task))
    return task


def _columns(values: TaskValues) -> dict[str, Any]:
    data = asdict(values)
    data["spec"] = to_jsonable(values.spec)
    data["quasi_identifiers"] = list(values.quasi_identifiers)
    return data


def set_state(tx: AuditedTx, current: TaskRecord, state: str, action: str) -> TaskRecord:
    tx.conn.execute(
        sa.update(etl_tasks)
        .where(etl_tasks.c.id == current.id)
        .values(state=state, updated_at=sa.func.now())
    )
    tx.record(action, "task", current.slug, before={"state": current.state}, after={"state": state})
    return current.model_copy(update={"state": state})


def soft_delete(tx: AuditedTx, current: TaskRecord) -> None:
    """Hide the task and free its name and slug; runs, batches and pins stay for history."""
    tx.conn.execute(
        sa.update(etl_tasks)
        .where(etl_tasks.c.id == current.id)
        .values(deleted_at=sa.func.now(), state="paused", updated_at=sa.func.now())
    )
    tx.record("task.delete", "task", current.slug, before=audit_view(current), after=None)


def set_dag_error(tx: AuditedTx, current: TaskRecord, error: str | None) -> None:
    tx.conn.execute(
        sa.update(etl_tasks).where(etl_tasks.c.id == current.id).values(dag_error=error)
    )
    tx.record(
        "task.dag_error" if error else "task.dag_ok",
        "task",
        current.slug,
        before={"dag_error": current.dag_error},
        after={"dag_error": error},
    )
