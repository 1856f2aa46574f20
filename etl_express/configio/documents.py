"""Reading and writing YAML documents that describe scripts and tasks.

One document per object, any number per file (``---``), files or whole directories:

    kind: extraction            # or field_rules, transformation, anonymization, upload
    name: demo_customers_extract
    description: ...
    spec: {...}
    ---
    kind: task
    spec: {...}
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from etl_express.errors import FieldError, ValidationFailed
from etl_express.spec import ScriptKind

TASK_KIND = "task"
_SCRIPT_KINDS = {kind.value for kind in ScriptKind}


@dataclass(frozen=True)
class ScriptDocument:
    kind: str
    name: str
    description: str | None
    spec: dict[str, Any]
    source: str

    def as_yaml_dict(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.description:
            doc["description"] = self.description
        doc["spec"] = self.spec
        return doc


@dataclass(frozen=True)
class TaskDocument:
    spec: dict[str, Any]
    source: str

    def as_yaml_dict(self) -> dict[str, Any]:
        return {"kind": TASK_KIND, "spec": self.spec}


Document = ScriptDocument | TaskDocument


def _files(paths: Iterable[Path]) -> list[Path]:
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found.extend(sorted(p for p in path.rglob("*") if p.suffix in (".yaml", ".yml")))
        elif path.exists():
            found.append(path)
        else:
            raise ValidationFailed([FieldError("$", f"{path}: no such file or directory")])
    return found


def _document(raw: Any, source: str) -> Document:
    if not isinstance(raw, dict):
        raise ValidationFailed([FieldError("$", f"{source}: a document must be a mapping")])
    kind = raw.get("kind")
    unknown = set(raw) - {"kind", "name", "description", "spec"}
    if unknown:
        fields = ", ".join(sorted(unknown))
        raise ValidationFailed([FieldError("$", f"{source}: unknown top-level field(s) {fields}")])
    if not isinstance(raw.get("spec"), dict):
        raise ValidationFailed([FieldError("$.spec", f"{source}: `spec` must be a mapping")])
    if kind == TASK_KIND:
        return TaskDocument(spec=raw["spec"], source=source)
    if kind not in _SCRIPT_KINDS:
        kinds = ", ".join(sorted(_SCRIPT_KINDS | {TASK_KIND}))
        raise ValidationFailed([FieldError("$.kind", f"{source}: kind must be one of {kinds}")])
    name = raw.get("name")
    if not isinstance(name, str) or not name:
        raise ValidationFailed([FieldError("$.name", f"{source}: a script needs a `name`")])
    description = raw.get("description")
    return ScriptDocument(
        kind=kind,
        name=name,
        description=description if isinstance(description, str) else None,
        spec=raw["spec"],
        source=source,
    )


def load_documents(paths: Iterable[Path]) -> list[Document]:
    """Parse every document; scripts come before tasks so tasks can pin them."""
    documents: list[Document] = []
    for path in _files(paths):
        try:
            raws = list(yaml.safe_load_all(path.read_text(encoding="utf-8")))
        except yaml.YAMLError as exc:
            raise ValidationFailed([FieldError("$", f"{path}: not valid YAML: {exc}")]) from exc
        for index, raw in enumerate(r for r in raws if r is not None):
            documents.append(_document(raw, f"{path}#{index + 1}"))
    return sorted(documents, key=lambda d: isinstance(d, TaskDocument))


def dump_documents(documents: Iterable[Document]) -> str:
    return yaml.safe_dump_all(
        [doc.as_yaml_dict() for doc in documents],
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
