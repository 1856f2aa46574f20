"""ETL task: schedule, attached script versions, retention and review policy."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from etl_express.errors import FieldError
from etl_express.spec.common import (
    SLUG_PATTERN,
    ColumnName,
    ScriptName,
    ScriptRef,
    ShortText,
    StrictModel,
)
from etl_express.spec.kinds import ScriptKind
from etl_express.spec.paths import hinted
from etl_express.spec.schedule import normalize_schedule
from etl_express.spec.transformation import INPUT_NAME_PATTERN

REQUIRED_ROLES: Final = (
    ScriptKind.extraction,
    ScriptKind.field_rules,
    ScriptKind.anonymization,
    ScriptKind.upload,
)
IDENT_PATTERN: Final = hinted(
    r"^[A-Za-z_][A-Za-z0-9_]{0,62}$", "must be an identifier: letters, digits, '_' (not first)"
)
Name = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Tag = Annotated[
    str,
    StringConstraints(
        pattern=hinted(
            r"^[A-Za-z0-9_.:\-]{1,50}$", "must be 1-50 letters, digits, '_', '.', ':', '-'"
        )
    ),
]
ParamValue = str | int | float | bool | None


class ExtractionRef(StrictModel):
    name: ScriptName
    version: int | None = Field(None, ge=1)
    input: Annotated[str, StringConstraints(pattern=INPUT_NAME_PATTERN)] = Field(
        "source", description="Table name the transformation's SQL reads this extraction as."
    )


class TaskScripts(StrictModel):
    extraction: list[ExtractionRef] = Field(min_length=1, max_length=20)
    field_rules: ScriptRef
    transformation: ScriptRef | None = None
    anonymization: ScriptRef
    upload: ScriptRef

    @field_validator("extraction")
    @classmethod
    def _distinct_inputs(cls, refs: list[ExtractionRef]) -> list[ExtractionRef]:
        names = [r.input for r in refs]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"input name {twice[0]!r} is used twice; give each extraction its own")
        return refs

    def refs(self) -> list[tuple[str, ScriptKind, ScriptRef | ExtractionRef]]:
        """(JSON path, kind, ref) of every attached script."""
        found: list[tuple[str, ScriptKind, ScriptRef | ExtractionRef]] = [
            (f"$.scripts.extraction[{i}]", ScriptKind.extraction, r)
            for i, r in enumerate(self.extraction)
        ]
        for kind in (
            ScriptKind.field_rules,
            ScriptKind.transformation,
            ScriptKind.anonymization,
            ScriptKind.upload,
        ):
            ref = getattr(self, kind.value)
            if ref is not None:
                found.append((f"$.scripts.{kind.value}", kind, ref))
        return found


class TaskSpec(StrictModel):
    name: Name
    slug: Annotated[str, StringConstraints(pattern=SLUG_PATTERN)] | None = Field(
        None, description="DAG id suffix (etlx__<slug>); derived from the name when absent."
    )
    description: ShortText = ""
    owner: Name
    schedule: str | None = Field(None, max_length=100)
    scripts: TaskScripts
    retention_days: int = Field(14, ge=1, le=3650)
    approver_must_differ: bool = Field(
        True, description="Review policy: the approver must be someone other than the editor."
    )
    quasi_identifiers: list[ColumnName] = Field(default_factory=list, max_length=32)
    tags: list[Tag] = Field(default_factory=list, max_length=20)
    params: dict[Annotated[str, StringConstraints(pattern=IDENT_PATTERN)], ParamValue] = Field(
        default_factory=dict, max_length=50
    )
    execution: Literal["mapped", "streamed"] = Field(
        "mapped",
        description="mapped: one Airflow task per stage and chunk, chunks staged as Parquet "
        "between stages (spreads over workers); streamed: one task streams every chunk "
        "through all stages on one worker (faster there; one extraction, a row-wise "
        "transformation, dedupe keeping the first row).",
    )

    @field_validator("schedule")
    @classmethod
    def _schedule(cls, value: str | None) -> str | None:
        return normalize_schedule(value)

    @model_validator(mode="after")
    def _slug(self) -> TaskSpec:
        # Frozen model: set once here, before anyone can see the instance.
        if self.slug is None and slugify(self.name):
            object.__setattr__(self, "slug", slugify(self.name))
        return self

    @property
    def dag_id(self) -> str:
        return f"etlx__{self.slug}"


def shape_errors(spec: TaskSpec) -> list[FieldError]:
    """Checks across fields of the task itself (no context needed)."""
    errors: list[FieldError] = []
    if spec.slug is None:
        errors.append(
            FieldError("$.slug", "slug cannot be derived from this name; give a slug ([a-z0-9_])")
        )
    if len(spec.scripts.extraction) > 1 and spec.scripts.transformation is None:
        errors.append(
            FieldError(
                "$.scripts.transformation",
                "transformation is required when several extractions are attached "
                "(it joins or unions them)",
            )
        )
    return errors


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")[:60]


def missing_roles(payload: dict[str, Any]) -> list[FieldError]:
    """One error per required script role absent from the payload, each naming all of them."""
    scripts = payload.get("scripts")
    if scripts is not None and not isinstance(scripts, dict):
        return []
    scripts = scripts or {}
    missing = [role for role in REQUIRED_ROLES if scripts.get(role.value) in (None, [], {}, "")]
    if not missing:
        return []
    labels = ", ".join(role.label for role in missing)
    message = f"Missing scripts: {labels} — attach one of each before saving"
    return [FieldError(f"$.scripts.{role.value}", message) for role in missing]
