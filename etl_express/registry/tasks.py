"""ETL tasks: validated with etl_express.spec, script versions pinned at save, audited.

The DAG processor imports this module on every parse (load_active_bundles, set_dag_error), so
the spec package is imported only inside the functions that validate.

A save either writes the task, its pins and one audit event together, or nothing at all.
Tasks are found by slug (the DAG id is ``etlx__<slug>``); a task keeps its slug when renamed.
"""

from __future__ import annotations

from collections.abc import Sequence
from operator import attrgetter
from typing import TYPE_CHECKING, Any, Final

import sqlalchemy as sa

from etl_express.errors import Conflict, FieldError, NotFound, ValidationFailed
from etl_express.registry.actors import as_actor
from etl_express.stores import tasks as store
from etl_express.stores.audit import SYSTEM, Actor, AuditedTx, audited
from etl_express.stores.records import TaskRecord
from etl_express.stores.schema import TASK_STATES

if TYPE_CHECKING:
    from etl_express.spec import TaskSpec, ValidationContext

SETTABLE_STATES: Final = ("active", "paused")
# States that have a DAG in Airflow; draft tasks have none.
DAG_STATES: Final = ("active", "paused")


def validate_task(
    engine: sa.Engine, payload: dict[str, Any], ctx: ValidationContext | None = None
) -> TaskSpec:
    """Validate against the registry without saving; raises ValidationFailed."""
    from etl_express.registry.context import RegistryContext
    from etl_express.spec import parse_task

    with engine.connect() as conn:
        return parse_task(payload, RegistryContext(conn, ctx))


def _resolve_pins(tx: AuditedTx, spec: TaskSpec) -> tuple[list[store.Pin], dict[str, Any]]:
    """Pin every referenced script to a version (latest when unspecified), in this transaction.

    Returns the pins and the spec to store, with each resolved version written in.
    """
    from etl_express.registry.context import RegistryContext
    from etl_express.spec import dump_spec

    ctx = RegistryContext(tx.conn)
    stored = dump_spec(spec)
    pins: list[store.Pin] = []
    missing: list[FieldError] = []
    for path, kind, ref in spec.scripts.refs():
        found = ctx.version(ref.name, ref.version)
        if found is None or found.kind != kind.value:
            which = "its latest version" if ref.version is None else f"version {ref.version}"
            missing.append(
                FieldError(
                    f"{path}.name", f"there is no {kind.label} script {ref.name!r} ({which})"
                )
            )
            continue
        index = int(path.rsplit("[", 1)[1].rstrip("]")) if path.endswith("]") else 0
        input_name = getattr(ref, "input", None)
        pins.append(store.Pin(kind.value, index, found.script_id, found.version, input_name))
        _pin_in_spec(stored, kind.value, index, found.version)
    if missing:
        raise ValidationFailed(missing)
    return pins, stored


def _pin_in_spec(stored: dict[str, Any], role: str, index: int, version: int) -> None:
    entry = stored["scripts"][role]
    target = entry[index] if isinstance(entry, list) else entry
    target["version"] = version


def _values(spec: TaskSpec, stored: dict[str, Any], slug: str, state: str) -> store.TaskValues:
    stored["slug"] = slug
    return store.TaskValues(
        slug=slug,
        name=spec.name,
        description=spec.description,
        schedule=spec.schedule,
        state=state,
        retention_days=spec.retention_days,
        approver_must_differ=spec.approver_must_differ,
        owner=spec.owner,
        quasi_identifiers=list(spec.quasi_identifiers),
        spec=stored,
    )


def _free_slug(conn: sa.Connection, wanted: str) -> str:
    taken = store.slugs_in_use(conn, wanted)
    if wanted not in taken:
        return wanted
    for n in range(2, 10_000):
        suffix = f"_{n}"
        candidate = wanted[: 60 - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
    raise Conflict(f"no free slug left for {wanted!r}; give the task an explicit slug")


def _name_taken(name: str) -> ValidationFailed:
    return ValidationFailed([FieldError("$.name", f"a task named {name!r} already exists")])


def _slug_taken(slug: str) -> ValidationFailed:
    return ValidationFailed([FieldError("$.slug", f"slug {slug!r} is used by another task")])


def _check_unique(
    conn: sa.Connection, spec: TaskSpec, payload: dict[str, Any], current: TaskRecord | None
) -> None:
    other = store.get_task(conn, name=spec.name)
    if other is not None and (current is None or other.id != current.id):
        raise _name_taken(spec.name)
    if "slug" in payload and spec.slug:
        other = store.get_task(conn, slug=spec.slug)
        if other is not None and (current is None or other.id != current.id):
            raise _slug_taken(spec.slug)


def _target(conn: sa.Connection, slug: str | None, name: str, upsert: bool) -> TaskRecord | None:
    if slug is not None:
        current = store.get_task(conn, slug=slug, for_update=True)
        if current is None:
            raise NotFound(f"there is no task {slug!r}")
        return current
    if upsert:
        return store.get_task(conn, name=name, for_update=True)
    return None


def _unchanged(current: TaskRecord, values: store.TaskValues, pins: Sequence[store.Pin]) -> bool:
    old_pins = [
        store.Pin(p.role, p.position, p.script_id, p.version, p.input_name) for p in current.scripts
    ]
    key = attrgetter("role", "position")
    return (
        current.spec == values.spec
        and current.state == values.state
        and current.slug == values.slug
        and sorted(old_pins, key=key) == sorted(pins, key=key)
    )


def save_task(
    engine: sa.Engine,
    payload: dict[str, Any],
    actor: str | Actor,
    *,
    slug: str | None = None,
    upsert: bool = False,
    expected_revision: int | None = None,
    state: str | None = None,
    ctx: ValidationContext | None = None,
) -> TaskRecord:
    """Create or update a task from `payload`.

    - `slug` given: update that task (404 → NotFound); its slug stays unless the payload sets one.
    - `upsert`: update the live task with the payload's name, else create (`etlx apply`).
    - otherwise create; an existing name → ValidationFailed on ``$.name``.
    `expected_revision` guards against overwriting someone else's edit (Conflict).
    New tasks start `active` (they get a DAG); updates keep the state unless `state` is given.
    An update that changes nothing writes nothing and returns the task as it is.
    """
    if state is not None and state not in TASK_STATES:
        raise ValidationFailed([FieldError("$.state", f"state must be one of {TASK_STATES}")])
    spec = validate_task(engine, payload, ctx)
    assert spec.slug is not None  # parse_task refuses a task whose slug cannot be derived
    with audited(engine, as_actor(actor)) as tx:
        current = _target(tx.conn, slug, spec.name, upsert)
        if current and expected_revision is not None and current.revision != expected_revision:
            raise Conflict(
                f"task {current.slug!r} is at revision {current.revision}, not "
                f"{expected_revision}: someone saved it meanwhile; reload and try again"
            )
        _check_unique(tx.conn, spec, payload, current)
        pins, stored = _resolve_pins(tx, spec)
        if current is None:
            new_slug = spec.slug if "slug" in payload else _free_slug(tx.conn, spec.slug)
            values = _values(spec, stored, new_slug, state or "active")
            return _write(tx, lambda: store.create_task(tx, values, pins), spec)
        new_slug = spec.slug if "slug" in payload else current.slug
        new_state = state or ("active" if current.state == "draft" else current.state)
        values = _values(spec, stored, new_slug, new_state)
        if _unchanged(current, values, pins):
            tx.nothing_changed()
            return current
        return _write(tx, lambda: store.update_task(tx, current, values, pins), spec)


def _write(tx: AuditedTx, write: Any, spec: TaskSpec) -> TaskRecord:
    """Run the write; losing a unique-index race to another save becomes the same field error
    as if that save had committed first."""
    try:
        with tx.conn.begin_nested():
            record: TaskRecord = write()
    except sa.exc.IntegrityError as exc:
        text = str(exc.orig)
        if "uq_etl_tasks_name_live" not in text and "uq_etl_tasks_slug_live" not in text:
            raise
        # Whichever index PostgreSQL checked first, a same-name race is about the name.
        if "uq_etl_tasks_name_live" in text or store.get_task(tx.conn, name=spec.name):
            raise _name_taken(spec.name) from None
        raise _slug_taken(spec.slug or "") from None
    return record


def get_task(engine: sa.Engine, slug: str) -> TaskRecord:
    with engine.connect() as conn:
        found = store.get_task(conn, slug=slug)
    if found is None:
        raise NotFound(f"there is no task {slug!r}")
    return found


def get_task_by_id(engine: sa.Engine, task_id: int, *, include_deleted: bool = False) -> TaskRecord:
    with engine.connect() as conn:
        found = store.get_task(conn, task_id=task_id, include_deleted=include_deleted)
    if found is None:
        raise NotFound(f"there is no task with id {task_id}")
    return found


def list_tasks(
    engine: sa.Engine,
    *,
    state: str | None = None,
    q: str | None = None,
    limit: int = 100,
    offset: int = 0,
) -> list[TaskRecord]:
    with engine.connect() as conn:
        return store.list_tasks(conn, state=state, q=q, limit=limit, offset=offset)


def set_state(engine: sa.Engine, slug: str, state: str, actor: str | Actor) -> TaskRecord:
    """Activate or pause a task in our registry (the caller pauses the DAG in Airflow)."""
    if state not in SETTABLE_STATES:
        raise ValidationFailed(
            [FieldError("$.state", f"state must be one of {', '.join(SETTABLE_STATES)}")]
        )
    with audited(engine, as_actor(actor)) as tx:
        current = store.get_task(tx.conn, slug=slug, for_update=True)
        if current is None:
            raise NotFound(f"there is no task {slug!r}")
        if current.state == state:
            tx.nothing_changed()
            return current
        action = "task.pause" if state == "paused" else "task.activate"
        return store.set_state(tx, current, state, action)


def delete_task(engine: sa.Engine, slug: str, actor: str | Actor) -> None:
    """Soft delete: the task disappears (and its DAG with it); history stays."""
    with audited(engine, as_actor(actor)) as tx:
        current = store.get_task(tx.conn, slug=slug, for_update=True)
        if current is None:
            raise NotFound(f"there is no task {slug!r}")
        store.soft_delete(tx, current)


def set_dag_error(
    engine: sa.Engine, slug: str, error: str | None, actor: str | Actor = SYSTEM
) -> None:
    """Record (or clear, with None) why a task's DAG failed to build. The DAG processor calls
    this on every parse, so only a change is written and audited."""
    with audited(engine, as_actor(actor)) as tx:
        current = store.get_task(tx.conn, slug=slug, for_update=True)
        if current is None or current.dag_error == error:
            tx.nothing_changed()
            return
        store.set_dag_error(tx, current, error)


def load_active_bundles(engine: sa.Engine) -> list[TaskRecord]:
    """Every task that has a DAG (active or paused), each with its pinned script specs.

    What the DAG compiler reads on each parse: one query for tasks, one for all pins.
    """
    with engine.connect() as conn:
        return store.list_tasks(conn, state=DAG_STATES, limit=100_000)
