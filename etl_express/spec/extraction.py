"""Extraction script: where rows come from (a SQL query on a connection, or files)."""

from __future__ import annotations

import re
from typing import Annotated, Final, Literal

from pydantic import Field, StringConstraints

from etl_express.errors import FieldError
from etl_express.spec.common import ColumnName, ColumnSchema, ConnId, ShortText, StrictModel
from etl_express.spec.context import QueryRejected, ValidationContext
from etl_express.spec.sqlcheck import (
    SQL_DIALECTS,
    Dialect,
    SqlProblem,
    output_names,
    parse_select,
    substitute_templates,
)

SQL_SOURCES: Final[dict[str, Dialect]] = SQL_DIALECTS
FILE_SOURCES: Final = ("csv", "parquet")
CHUNK_MIN: Final = 1_000
CHUNK_MAX: Final = 1_000_000
_S3_RE = re.compile(r"^s3://[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9](/[^\x00-\x1f]*)?$")


class CsvOptions(StrictModel):
    """How the CSV source reads files: a header row names the columns, every value is text."""

    delimiter: str = Field(",", min_length=1, max_length=1)
    encoding: Literal["utf8", "cp1251", "latin1"] = "utf8"
    null_values: list[Annotated[str, StringConstraints(max_length=64)]] = Field(
        default_factory=list, max_length=32
    )


class ExtractionSpec(StrictModel):
    """Read rows from one source; `query` for databases, `path` for files."""

    source: Literal["postgres", "mysql", "csv", "parquet"]
    connection_id: ConnId | None = Field(
        None, description="Airflow connection; for files only needed on S3 (credentials)."
    )
    query: Annotated[str, StringConstraints(min_length=1, max_length=100_000)] | None = None
    path: Annotated[str, StringConstraints(min_length=1, max_length=1024)] | None = Field(
        None, description="Absolute path, glob or s3:// URI of CSV/Parquet files."
    )
    csv: CsvOptions | None = None
    incremental_column: ColumnName | None = None
    chunk_size: int = Field(100_000, ge=CHUNK_MIN, le=CHUNK_MAX)
    statement_timeout_s: int = Field(300, ge=1, le=3600)
    description: ShortText = ""
    output_schema: list[ColumnSchema] | None = Field(
        None, max_length=1000, description="Recorded by validation when the source answers."
    )

    @property
    def dialect(self) -> Dialect | None:
        return SQL_SOURCES.get(self.source)

    def rendered_query(self) -> str:
        """The query with Airflow templates replaced by typed placeholders (for describing)."""
        assert self.query is not None and self.dialect is not None
        return substitute_templates(self.query, self.dialect).rendered


def check_extraction(
    spec: ExtractionSpec, ctx: ValidationContext
) -> tuple[list[FieldError], list[ColumnSchema] | None]:
    """Checks beyond the field types; returns the errors and the described output schema."""
    errors = _shape_errors(spec)
    if errors:
        return errors, None
    if spec.connection_id and ctx.connection_exists(spec.connection_id) is False:
        errors.append(
            FieldError(
                "$.connection_id",
                f"connection_id names unknown connection {spec.connection_id!r}; create it in "
                "Airflow (Admin → Connections) or pick an existing one",
            )
        )
    schema = spec.output_schema
    if spec.dialect is not None:
        query_errors, described = _query_errors(spec, ctx, errors)
        errors += query_errors
        schema = described or schema
    elif not errors:
        file_errors, described = _file_errors(spec, ctx)
        errors += file_errors
        schema = described or schema
    if schema is not None:
        errors += _schema_errors(spec, schema)
    return errors, schema


def _shape_errors(spec: ExtractionSpec) -> list[FieldError]:
    if spec.dialect is not None:
        return _sql_shape_errors(spec)
    errors: list[FieldError] = []
    if spec.query is not None:
        errors.append(
            FieldError("$.query", f"query is not used by {spec.source} sources; remove it")
        )
    if spec.csv is not None and spec.source != "csv":
        errors.append(FieldError("$.csv", "csv options are only for csv sources"))
    if spec.incremental_column is not None:
        errors.append(
            FieldError(
                "$.incremental_column", "incremental_column is only supported for database sources"
            )
        )
    return errors + _path_errors(spec)


def _sql_shape_errors(spec: ExtractionSpec) -> list[FieldError]:
    errors: list[FieldError] = []
    if spec.connection_id is None:
        errors.append(FieldError("$.connection_id", f"connection_id is required for {spec.source}"))
    if spec.query is None:
        errors.append(FieldError("$.query", f"query is required for {spec.source}"))
    for name in ("path", "csv"):
        if getattr(spec, name) is not None:
            errors.append(FieldError(f"$.{name}", f"{name} is only for csv/parquet sources"))
    return errors


def _path_errors(spec: ExtractionSpec) -> list[FieldError]:
    if spec.path is None:
        return [FieldError("$.path", f"path is required for {spec.source} sources")]
    errors: list[FieldError] = []
    if spec.path.startswith("s3://"):
        if not _S3_RE.match(spec.path):
            errors.append(FieldError("$.path", "path is not a valid s3://bucket/key URI"))
        if spec.connection_id is None:
            errors.append(
                FieldError("$.connection_id", "connection_id is required for s3:// paths")
            )
    elif not spec.path.startswith("/") or "/../" in f"{spec.path}/":
        errors.append(
            FieldError("$.path", "path must be absolute (/data/x.csv) or an s3:// URI, without ..")
        )
    return errors


def _query_errors(
    spec: ExtractionSpec, ctx: ValidationContext, earlier: list[FieldError]
) -> tuple[list[FieldError], list[ColumnSchema] | None]:
    assert spec.query is not None and spec.dialect is not None and spec.connection_id
    try:
        rendered = substitute_templates(spec.query, spec.dialect).rendered
        tree = parse_select(rendered, spec.dialect)
    except SqlProblem as problem:
        return [FieldError("$.query", f"query {problem}")], None
    described = None
    if not earlier:  # an unknown connection cannot describe anything
        try:
            described = ctx.describe_query(spec.connection_id, rendered)
        except QueryRejected as rejected:
            return [FieldError("$.query", f"query was rejected by the source: {rejected}")], None
    named = output_names(tree)
    if described is None and named is not None and spec.output_schema is None:
        # No source to ask, but the select list names its columns: check what it can.
        return _schema_errors(spec, [ColumnSchema(name=n, type="null") for n in named]), None
    return [], described


def _file_errors(
    spec: ExtractionSpec, ctx: ValidationContext
) -> tuple[list[FieldError], list[ColumnSchema] | None]:
    assert spec.path is not None
    csv = spec.csv or CsvOptions()
    try:
        described = ctx.describe_files(spec.source, spec.path, csv.delimiter, csv.encoding)
    except QueryRejected as rejected:
        return [FieldError("$.path", f"path cannot be read: {rejected}")], None
    return [], described


def _schema_errors(spec: ExtractionSpec, schema: list[ColumnSchema]) -> list[FieldError]:
    errors: list[FieldError] = []
    names = [c.name for c in schema]
    twice = sorted({n for n in names if names.count(n) > 1})
    if twice:
        errors.append(
            FieldError("$.query", f"query returns column {twice[0]!r} twice; alias one of them")
        )
    if spec.incremental_column is not None and spec.incremental_column not in names:
        errors.append(
            FieldError(
                "$.incremental_column",
                f"incremental_column {spec.incremental_column!r} is not in the query's output "
                f"(columns: {', '.join(names)})",
            )
        )
    return errors
