"""What the stores return: typed, immutable records that serialize straight to JSON.

The API renders them with ``model_dump(mode="json")``; the compiler and the CLI read fields.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel, ConfigDict, Field, computed_field


class Record(BaseModel):
    model_config = ConfigDict(frozen=True)

    @classmethod
    def from_row(cls, row: sa.Row[Any] | sa.RowMapping, **extra: Any) -> Any:
        mapping = row._mapping if isinstance(row, sa.Row) else row
        return cls.model_validate({**mapping, **extra})


class ScriptRecord(Record):
    id: int
    kind: str
    name: str
    description: str
    created_by: str
    created_at: dt.datetime
    updated_at: dt.datetime
    latest_version: int
    archived: bool


class ScriptVersionRecord(Record):
    script_id: int
    name: str
    kind: str
    version: int
    spec: dict[str, Any]
    spec_sha256: str
    output_schema: list[dict[str, Any]] | None
    comment: str | None
    created_by: str
    created_at: dt.datetime


class PinnedScript(Record):
    """One script version attached to a task, with what the compiler needs to run it."""

    role: str
    position: int
    input_name: str | None
    script_id: int
    name: str
    kind: str
    version: int
    spec: dict[str, Any]
    spec_sha256: str
    output_schema: list[dict[str, Any]] | None


class TaskRecord(Record):
    id: int
    slug: str
    name: str
    description: str
    schedule: str | None
    state: str
    retention_days: int
    approver_must_differ: bool
    owner: str
    quasi_identifiers: list[str]
    dag_error: str | None
    spec: dict[str, Any]
    created_by: str
    created_at: dt.datetime
    updated_by: str
    updated_at: dt.datetime
    revision: int
    deleted_at: dt.datetime | None
    scripts: list[PinnedScript] = Field(default_factory=list)

    @property
    def dag_id(self) -> str:
        return f"etlx__{self.slug}"


class RunRecord(Record):
    id: int
    task_id: int
    task_slug: str | None = None
    dag_id: str
    dag_run_id: str
    state: str
    stage: str | None
    error: dict[str, Any] | None
    stats: dict[str, Any]
    started_at: dt.datetime
    ended_at: dt.datetime | None


class BatchRecord(Record):
    id: int
    task_id: int
    task_slug: str | None = None
    run_id: int | None
    state: str
    table_name: str | None
    row_count: int
    schema_: list[dict[str, Any]] | dict[str, Any] | None = Field(None, alias="schema")
    privacy_report: dict[str, Any] | None
    key_version: str | None
    created_at: dt.datetime
    updated_at: dt.datetime
    expires_at: dt.datetime | None
    reviewed_by: str | None
    reviewed_at: dt.datetime | None
    blocked_reason: str | None

    model_config = ConfigDict(frozen=True, populate_by_name=True, serialize_by_alias=True)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def quarantined_rows(self) -> int:
        """Rows the field rules quarantined in the run (kept in ``quarantine.batch_<id>``)."""
        summary = (self.privacy_report or {}).get("quarantine") or {}
        return int(summary.get("rows", 0))


class UploadRecord(Record):
    id: int
    batch_id: int
    destination_kind: str
    state: str
    manifest: dict[str, Any]
    started_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None
