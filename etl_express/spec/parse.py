"""Entry points: validate a script or task payload into its typed spec, or raise ValidationFailed.

Every problem found is reported at once, each as a FieldError with a JSON path into the
payload as written and a sentence. Nothing here writes anywhere.
"""

from __future__ import annotations

import json
from typing import Any, Final

from pydantic import BaseModel, ValidationError

from etl_express.anonymize.rules import AnonymizationRules
from etl_express.errors import FieldError, ValidationFailed
from etl_express.spec.context import ValidationContext
from etl_express.spec.extraction import ExtractionSpec, check_extraction
from etl_express.spec.field_rules import FieldRulesSpec, check_field_rules
from etl_express.spec.kinds import ScriptKind
from etl_express.spec.paths import dedupe, field_errors
from etl_express.spec.task import TaskSpec, missing_roles, shape_errors
from etl_express.spec.transformation import TransformationSpec, check_transformation
from etl_express.spec.upload import UploadSpec, check_upload

ScriptSpec = ExtractionSpec | FieldRulesSpec | TransformationSpec | AnonymizationRules | UploadSpec
MAX_PAYLOAD_BYTES: Final = 1_000_000

MODELS: Final[dict[ScriptKind, type[BaseModel]]] = {
    ScriptKind.extraction: ExtractionSpec,
    ScriptKind.field_rules: FieldRulesSpec,
    ScriptKind.transformation: TransformationSpec,
    ScriptKind.anonymization: AnonymizationRules,
    ScriptKind.upload: UploadSpec,
}


def _envelope_errors(payload: Any, what: str) -> list[FieldError]:
    if not isinstance(payload, dict):
        return [
            FieldError("$", f"{what} must be a mapping of fields, not {type(payload).__name__}")
        ]
    try:
        size = len(json.dumps(payload, default=str).encode())
    except (TypeError, ValueError):
        return [FieldError("$", f"{what} must be plain JSON data")]
    if size > MAX_PAYLOAD_BYTES:
        return [FieldError("$", f"{what} is {size:,} bytes; the limit is {MAX_PAYLOAD_BYTES:,}")]
    return []


def parse_script(
    kind: ScriptKind | str, payload: Any, ctx: ValidationContext | None = None
) -> ScriptSpec:
    """Validate a script payload of `kind`; with a context, also check it against the world.

    Extraction and transformation specs come back with `output_schema` filled in when the
    context could describe them.
    """
    try:
        kind = ScriptKind(kind)
    except ValueError:
        kinds = ", ".join(k.value for k in ScriptKind)
        error = FieldError("$", f"unknown script kind {kind!r}; use {kinds}")
        raise ValidationFailed([error]) from None
    errors = _envelope_errors(payload, f"a {kind.label} script")
    if errors:
        raise ValidationFailed(errors)
    ctx = ctx or ValidationContext()
    model = MODELS[kind]
    try:
        spec = model.model_validate(payload)
    except ValidationError as exc:
        raise ValidationFailed(field_errors(exc, payload, model=model)) from None
    spec, errors = _checks(kind, spec, ctx)
    if errors:
        raise ValidationFailed(dedupe(errors))
    return spec  # type: ignore[return-value]


def _checks(
    kind: ScriptKind, spec: BaseModel, ctx: ValidationContext
) -> tuple[BaseModel, list[FieldError]]:
    if isinstance(spec, ExtractionSpec):
        errors, schema = check_extraction(spec, ctx)
        return spec.model_copy(update={"output_schema": schema}), errors
    if isinstance(spec, TransformationSpec):
        from etl_express.settings import get_settings

        allow = get_settings().allow_python_transforms
        errors, schema = check_transformation(spec, ctx, allow_python=allow)
        return spec.model_copy(update={"output_schema": schema}), errors
    if isinstance(spec, FieldRulesSpec):
        return spec, check_field_rules(spec)
    if isinstance(spec, UploadSpec):
        return spec, check_upload(spec, ctx)
    return spec, []


def parse_task(payload: Any, ctx: ValidationContext | None = None) -> TaskSpec:
    """Validate an ETL task; missing required scripts are listed together in one failure."""
    errors = _envelope_errors(payload, "a task")
    if errors:
        raise ValidationFailed(errors)
    ctx = ctx or ValidationContext()
    missing = missing_roles(payload)
    try:
        spec = TaskSpec.model_validate(payload)
    except ValidationError as exc:
        found = field_errors(exc, payload, model=TaskSpec)
        missing_paths = {e.path for e in missing}
        raise ValidationFailed(
            missing + [e for e in found if not _under(e.path, missing_paths)]
        ) from None
    errors = shape_errors(spec)
    if not errors:
        from etl_express.spec.task_checks import context_errors

        errors = context_errors(spec, ctx)
    if errors:
        raise ValidationFailed(dedupe(errors))
    return spec


def _under(path: str, prefixes: set[str]) -> bool:
    return any(path == p or path.startswith((p + ".", p + "[")) for p in prefixes)


def dump_spec(spec: BaseModel) -> dict[str, Any]:
    """The JSON form the registry stores: aliases, defaults included, no Python objects."""
    return spec.model_dump(mode="json", by_alias=True)
