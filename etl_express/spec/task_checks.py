"""Task cross-checks that need the registry: scripts exist, and every column named upstream.

The stages run extract → field_rules → transform → anonymize, so field rules must name columns
of the extractions' output, and anonymization (and the task's quasi-identifiers) columns of the
transformation's output when the task has one, else of its extraction. Field-rule casts change
column types before the transformation is bound. Checks run only when the context knows the
schemas; otherwise they are skipped (the registry re-checks at save).
"""

from __future__ import annotations

from etl_express.errors import FieldError
from etl_express.spec.common import ColumnSchema
from etl_express.spec.context import ValidationContext
from etl_express.spec.field_rules import FieldRulesSpec, step_output_type
from etl_express.spec.kinds import ScriptKind
from etl_express.spec.task import TaskSpec


def context_errors(spec: TaskSpec, ctx: ValidationContext) -> list[FieldError]:
    errors = _existence_errors(spec, ctx)
    if errors:
        return errors
    errors += _param_errors(spec, ctx) + _runnable_errors(spec, ctx) + _execution_errors(spec, ctx)
    extracted = _extraction_schemas(spec, ctx)
    if extracted is None:
        return errors
    rules = _field_rules(spec, ctx)
    if rules is not None:
        columns = {c.name for schema in extracted.values() for c in schema}
        errors += _relabel(
            spec.scripts.field_rules.name,
            "$.scripts.field_rules",
            _rules_upstream_errors(rules, columns),
        )
    cleaned = {name: cleaned_schema(schema, rules) for name, schema in extracted.items()}
    upstream, transform_errors = _upstream_schema(spec, ctx, cleaned)
    errors += transform_errors
    if upstream is not None:
        errors += _downstream_errors(spec, ctx, {c.name for c in upstream})
    return errors


def cleaned_schema(schema: list[ColumnSchema], rules: FieldRulesSpec | None) -> list[ColumnSchema]:
    """The schema after field rules: same columns, types changed by casts and parsers."""
    if rules is None:
        return schema
    out = []
    for column in schema:
        rule = rules.fields.get(column.name)
        new_type = step_output_type(rule, column) if rule else column.type
        out.append(column.model_copy(update={"type": new_type or column.type}))
    return out


def _not_upstream(column: str, columns: set[str]) -> str:
    return (
        f"column {column!r} is not in the upstream output (columns: {', '.join(sorted(columns))})"
    )


def _existence_errors(spec: TaskSpec, ctx: ValidationContext) -> list[FieldError]:
    errors: list[FieldError] = []
    for path, kind, ref in spec.scripts.refs():
        if ctx.script_exists(kind, ref.name, ref.version) is False:
            version = "latest version" if ref.version is None else f"version {ref.version}"
            errors.append(
                FieldError(
                    f"{path}.name",
                    f"name: there is no {kind.label} script {ref.name!r} ({version})",
                )
            )
    return errors


# The stage engine (etl_express.stages.entry.transform) runs SQL and Python transformations;
# the flag stays so that an engine without Python support can refuse such tasks at save.
PYTHON_TRANSFORMS_RUNNABLE = True


def _runnable_errors(spec: TaskSpec, ctx: ValidationContext) -> list[FieldError]:
    ref = spec.scripts.transformation
    if ref is None or PYTHON_TRANSFORMS_RUNNABLE:
        return []
    payload = ctx.script_spec(ScriptKind.transformation, ref.name, ref.version)
    if payload and payload.get("language") == "python":
        return [
            FieldError(
                "$.scripts.transformation",
                f"transformation {ref.name!r} is Python; the processing engine runs SQL "
                "transformations only, so attach a SQL one",
            )
        ]
    return []


def _param_errors(spec: TaskSpec, ctx: ValidationContext) -> list[FieldError]:
    """Every `{{ params.x }}` an extraction query reads must be a param of the task."""
    from etl_express.spec.sqlcheck import SQL_DIALECTS, SqlProblem, substitute_templates

    errors: list[FieldError] = []
    for index, ref in enumerate(spec.scripts.extraction):
        payload = ctx.script_spec(ScriptKind.extraction, ref.name, ref.version)
        if not payload or payload.get("source") not in SQL_DIALECTS or not payload.get("query"):
            continue
        try:
            used = substitute_templates(payload["query"], SQL_DIALECTS[payload["source"]])
        except SqlProblem:
            continue  # the stored script was valid when saved; nothing to add here
        missing = [p for p in used.params if p not in spec.params]
        if missing:
            errors.append(
                FieldError(
                    f"$.scripts.extraction[{index}]",
                    f"extraction {ref.name!r} reads {{{{ params.{missing[0]} }}}}; add "
                    f"{', '.join(missing)} to the task's params",
                )
            )
    return errors


def _extraction_schemas(
    spec: TaskSpec, ctx: ValidationContext
) -> dict[str, list[ColumnSchema]] | None:
    schemas: dict[str, list[ColumnSchema]] = {}
    for ref in spec.scripts.extraction:
        schema = ctx.script_schema(ref.name, ref.version)
        if schema is None:
            return None
        schemas[ref.input] = schema
    return schemas


def _field_rules(spec: TaskSpec, ctx: ValidationContext) -> FieldRulesSpec | None:
    ref = spec.scripts.field_rules
    payload = ctx.script_spec(ScriptKind.field_rules, ref.name, ref.version)
    return None if payload is None else FieldRulesSpec.model_validate(dict(payload))


def _rules_upstream_errors(rules: FieldRulesSpec, columns: set[str]) -> list[FieldError]:
    from etl_express.spec.field_rules import upstream_errors

    return upstream_errors(rules, columns)


def _upstream_schema(
    spec: TaskSpec, ctx: ValidationContext, schemas: dict[str, list[ColumnSchema]]
) -> tuple[list[ColumnSchema] | None, list[FieldError]]:
    if spec.scripts.transformation is None:
        return next(iter(schemas.values())), []
    from etl_express.settings import get_settings
    from etl_express.spec.transformation import TransformationSpec, check_transformation

    ref = spec.scripts.transformation
    payload = ctx.script_spec(ScriptKind.transformation, ref.name, ref.version)
    if payload is None:
        return None, []
    transform = TransformationSpec.model_validate(dict(payload))
    declared, bound = set(transform.input_names()), set(schemas)
    if declared != bound:
        return None, [
            FieldError(
                "$.scripts.extraction",
                f"extraction inputs ({', '.join(sorted(bound))}) must match the inputs of "
                f"transformation {ref.name!r} ({', '.join(sorted(declared))})",
            )
        ]
    if transform.language == "python":
        return transform.output_schema, []
    errors, output = check_transformation(
        transform, ctx, allow_python=get_settings().allow_python_transforms, input_schemas=schemas
    )
    return output, [
        FieldError("$.scripts.transformation", f"transformation {ref.name!r}: {e.message}")
        for e in errors
    ]


def _downstream_errors(
    spec: TaskSpec, ctx: ValidationContext, columns: set[str]
) -> list[FieldError]:
    from etl_express.spec.anonymization import AnonymizationSpec, upstream_errors

    errors: list[FieldError] = []
    ref = spec.scripts.anonymization
    payload = ctx.script_spec(ScriptKind.anonymization, ref.name, ref.version)
    if payload is not None:
        rules = AnonymizationSpec.model_validate(dict(payload))
        errors += _relabel(ref.name, "$.scripts.anonymization", upstream_errors(rules, columns))
    errors += [
        FieldError(f"$.quasi_identifiers[{i}]", _not_upstream(name, columns))
        for i, name in enumerate(spec.quasi_identifiers)
        if name not in columns
    ]
    return errors


def _execution_errors(spec: TaskSpec, ctx: ValidationContext) -> list[FieldError]:
    """A streamed task must be one the stream can run (else it would fail at its first run)."""
    if spec.execution != "streamed":
        return []
    from etl_express.stages.transform_mode import streaming_obstacle

    transformation, rules = spec.scripts.transformation, spec.scripts.field_rules
    transform = (
        None if transformation is None
        else ctx.script_spec(ScriptKind.transformation, transformation.name, transformation.version)
    )  # fmt: skip
    field_rules = ctx.script_spec(ScriptKind.field_rules, rules.name, rules.version)
    if transformation is not None and transform is None:
        return []  # not known here: checked again where the registry knows the scripts
    reason = streaming_obstacle(
        [ref.input for ref in spec.scripts.extraction],
        None if transform is None else dict(transform),
        dict((field_rules or {}).get("dedupe") or {}),
    )
    if reason is None:
        return []
    return [FieldError("$.execution", f"execution: streamed cannot run this task: {reason}; "
                                      "choose mapped")]  # fmt: skip


def _relabel(script: str, path: str, errors: list[FieldError]) -> list[FieldError]:
    return [FieldError(path, f"script {script!r} at {e.path}: {e.message}") for e in errors]
