"""Transformation script: DuckDB SQL over named inputs (or, for admins, Python)."""

from __future__ import annotations

import ast
from typing import Annotated, Final, Literal

from pydantic import Field, StringConstraints

from etl_express.errors import FieldError
from etl_express.spec.common import ColumnSchema, ScriptName, ShortText, StrictModel
from etl_express.spec.context import ValidationContext
from etl_express.spec.paths import LOWER_IDENT_HINT, hinted
from etl_express.spec.sqlcheck import SqlProblem, parse_select, table_names

INPUT_NAME_PATTERN: Final = hinted(r"^[a-z_][a-z0-9_]{0,62}$", LOWER_IDENT_HINT)
InputName = Annotated[str, StringConstraints(pattern=INPUT_NAME_PATTERN)]


class TransformInput(StrictModel):
    """A table the SQL reads; the task binds it to one of its extractions by this name."""

    name: InputName
    script: ScriptName | None = Field(None, description="Extraction script giving its schema.")
    version: int | None = Field(None, ge=1)
    columns: list[ColumnSchema] | None = Field(None, max_length=1000)


class TransformationSpec(StrictModel):
    language: Literal["sql", "python"] = "sql"
    inputs: list[TransformInput] = Field(min_length=1, max_length=20)
    sql: Annotated[str, StringConstraints(min_length=1, max_length=100_000)] | None = None
    code: Annotated[str, StringConstraints(min_length=1, max_length=100_000)] | None = None
    description: ShortText = ""
    output_schema: list[ColumnSchema] | None = Field(None, max_length=1000)

    def input_names(self) -> list[str]:
        return [i.name for i in self.inputs]


def check_transformation(
    spec: TransformationSpec,
    ctx: ValidationContext,
    *,
    allow_python: bool,
    input_schemas: dict[str, list[ColumnSchema]] | None = None,
) -> tuple[list[FieldError], list[ColumnSchema] | None]:
    """Checks, and the output schema when every input schema is known.

    `input_schemas` (from a task's extractions) wins over what the script declares.
    """
    errors = _input_errors(spec)
    if spec.language == "python":
        return errors + _python_errors(spec, ctx, allow_python), None
    if spec.code is not None:
        errors.append(FieldError("$.code", "code is only for language python; use sql"))
    if spec.sql is None:
        return [*errors, FieldError("$.sql", "sql is required for language sql")], None
    try:
        tree = parse_select(spec.sql, "duckdb")
    except SqlProblem as problem:
        return [*errors, FieldError("$.sql", f"sql {problem}")], None
    unknown = sorted(table_names(tree) - set(spec.input_names()))
    if unknown:
        errors.append(
            FieldError(
                "$.sql",
                f"sql reads table {unknown[0]!r}, which is not a declared input "
                f"(inputs: {', '.join(spec.input_names())})",
            )
        )
    schemas = input_schemas if input_schemas is not None else _declared_schemas(spec, ctx)
    if errors or schemas is None:
        return errors, spec.output_schema if input_schemas is None else None
    from etl_express.spec.duckdb_bind import BindError, bind_query

    try:
        return errors, bind_query(spec.sql, schemas)
    except BindError as err:
        return [*errors, FieldError("$.sql", f"sql does not bind to its inputs: {err}")], None


def _input_errors(spec: TransformationSpec) -> list[FieldError]:
    names = spec.input_names()
    return [
        FieldError(f"$.inputs[{i}].name", f"name {n!r} is used by two inputs")
        for i, n in enumerate(names)
        if n in names[:i]
    ]


def _declared_schemas(
    spec: TransformationSpec, ctx: ValidationContext
) -> dict[str, list[ColumnSchema]] | None:
    schemas: dict[str, list[ColumnSchema]] = {}
    for item in spec.inputs:
        schema = item.columns
        if schema is None and item.script is not None:
            schema = ctx.script_schema(item.script, item.version)
        if schema is None:
            return None
        schemas[item.name] = schema
    return schemas


def _python_errors(
    spec: TransformationSpec, ctx: ValidationContext, allow_python: bool
) -> list[FieldError]:
    if not allow_python:
        return [
            FieldError(
                "$.language",
                "language python is disabled on this server "
                "(set ETLX_ALLOW_PYTHON_TRANSFORMS=true to enable it for admins); use sql",
            )
        ]
    if not ctx.is_admin:
        return [FieldError("$.language", "language python may only be saved by an admin")]
    errors: list[FieldError] = []
    if spec.sql is not None:
        errors.append(FieldError("$.sql", "sql is only for language sql; use code"))
    if spec.code is None:
        return [*errors, FieldError("$.code", "code is required for language python")]
    try:
        module = ast.parse(spec.code)
    except SyntaxError as err:
        return [
            *errors,
            FieldError("$.code", f"code has a syntax error on line {err.lineno}: {err.msg}"),
        ]
    if not any(isinstance(n, ast.FunctionDef) and n.name == "transform" for n in module.body):
        errors.append(
            FieldError("$.code", "code must define `def transform(inputs)` returning one frame")
        )
    return errors
