"""`etlx apply`: bring the registry in line with YAML documents, idempotently.

The plan says, per document, what would happen (create, new version, update, unchanged); a
dry run stops there. Applying writes through the same registry services as the API, so the
validation, versioning and audit are the same.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from etl_express.configio.documents import Document, ScriptDocument, TaskDocument
from etl_express.errors import FieldError, NotFound, ValidationFailed
from etl_express.registry import scripts as script_service
from etl_express.registry import tasks as task_service
from etl_express.spec import ValidationContext
from etl_express.stores.audit import Actor
from etl_express.stores.records import ScriptRecord, TaskRecord


@dataclass(frozen=True)
class Step:
    action: str  # create | new-version | update | unchanged
    kind: str
    name: str
    detail: str = ""

    def line(self) -> str:
        tail = f" ({self.detail})" if self.detail else ""
        return f"{self.action:12} {self.kind:15} {self.name}{tail}"


def _script_step(engine: sa.Engine, doc: ScriptDocument, ctx: ValidationContext | None) -> Step:
    fingerprint = script_service.spec_fingerprint(engine, kind=doc.kind, spec=doc.spec, ctx=ctx)
    try:
        latest = script_service.get_version(engine, doc.name)
    except NotFound:
        return Step("create", doc.kind, doc.name, "version 1")
    if latest.spec_sha256 == fingerprint:
        return Step("unchanged", doc.kind, doc.name, f"version {latest.version}")
    return Step("new-version", doc.kind, doc.name, f"version {latest.version + 1}")


_PAGE = 100


def _all_scripts(engine: sa.Engine) -> list[ScriptRecord]:
    found: list[ScriptRecord] = []
    while page := script_service.list_scripts(engine, limit=_PAGE, offset=len(found)):
        found.extend(page)
        if len(page) < _PAGE:
            break
    return found


def _all_tasks(engine: sa.Engine) -> list[TaskRecord]:
    found: list[TaskRecord] = []
    while page := task_service.list_tasks(engine, limit=_PAGE, offset=len(found)):
        found.extend(page)
        if len(page) < _PAGE:
            break
    return found


def _task_name(doc: TaskDocument) -> str:
    name = doc.spec.get("name")
    if not isinstance(name, str):
        raise ValidationFailed([FieldError("$.spec.name", f"{doc.source}: a task needs a name")])
    return name


def _check_task(
    engine: sa.Engine, doc: TaskDocument, planned: set[str], ctx: ValidationContext | None
) -> None:
    """Validate a task; references to scripts this same apply creates are not errors yet."""
    try:
        task_service.validate_task(engine, doc.spec, ctx)
    except ValidationFailed as exc:
        real = [e for e in exc.errors if not any(f"'{name}'" in e.message for name in planned)]
        if real:
            raise ValidationFailed(real) from exc


def _task_step(engine: sa.Engine, doc: TaskDocument) -> Step:
    name = _task_name(doc)
    existing = {task.name: task for task in _all_tasks(engine)}
    if name not in existing:
        return Step("create", "task", name)
    return Step("update", "task", name, f"if changed; now revision {existing[name].revision}")


def plan(
    engine: sa.Engine, documents: list[Document], ctx: ValidationContext | None = None
) -> list[Step]:
    """What applying would do. Scripts are validated fully; tasks once their scripts exist."""
    steps: list[Step] = []
    planned = {doc.name for doc in documents if isinstance(doc, ScriptDocument)}
    for doc in documents:
        if isinstance(doc, ScriptDocument):
            steps.append(_script_step(engine, doc, ctx))
        else:
            _check_task(engine, doc, planned, ctx)
            steps.append(_task_step(engine, doc))
    return steps


def apply(
    engine: sa.Engine,
    documents: list[Document],
    actor: str | Actor,
    ctx: ValidationContext | None = None,
) -> list[Step]:
    steps: list[Step] = []
    for doc in documents:
        if isinstance(doc, ScriptDocument):
            before = _script_step(engine, doc, ctx)
            script_service.save_script(
                engine,
                kind=doc.kind,
                name=doc.name,
                spec=doc.spec,
                actor=actor,
                description=doc.description,
                comment=f"etlx apply {doc.source}",
                ctx=ctx,
            )
            steps.append(before)
        else:
            steps.append(_apply_task(engine, doc, actor, ctx))
    return steps


def _apply_task(
    engine: sa.Engine, doc: TaskDocument, actor: str | Actor, ctx: ValidationContext | None
) -> Step:
    name = _task_name(doc)
    before = {task.name: task.revision for task in _all_tasks(engine)}
    saved = task_service.save_task(engine, doc.spec, actor, upsert=True, ctx=ctx)
    if name not in before:
        return Step("create", "task", saved.name, f"DAG {saved.dag_id}")
    if saved.revision == before[name]:
        return Step("unchanged", "task", saved.name, f"revision {saved.revision}")
    return Step("update", "task", saved.name, f"revision {saved.revision}")


def export(engine: sa.Engine) -> list[Document]:
    """Every live script (latest version) and task, as documents `apply` accepts."""
    documents: list[Document] = []
    for script in _all_scripts(engine):
        version = script_service.get_version(engine, script.name)
        documents.append(
            ScriptDocument(
                kind=script.kind,
                name=script.name,
                description=script.description or None,
                spec=dict(version.spec),
                source=f"registry:{script.name}@{version.version}",
            )
        )
    for task in _all_tasks(engine):
        documents.append(TaskDocument(spec=dict(task.spec), source=f"registry:{task.slug}"))
    return documents
