"""Field-rules script: per-field cleaning steps, dedupe, and validations as GX expectations."""

from __future__ import annotations

import re
from typing import Annotated, Any, Final, Literal

from pydantic import Field, StringConstraints, field_validator, model_validator

from etl_express.errors import FieldError
from etl_express.gx_runnable import GX_COLUMN_EXPECTATIONS, GX_ROW_WISE_TABLE_EXPECTATIONS
from etl_express.spec.common import ColumnName, ColumnSchema, StrictModel, check_type_name
from etl_express.spec.gx_catalog import expectations, kwarg_problems, suggest
from etl_express.spec.paths import hinted, join_path

Severity = Literal["fail", "quarantine", "warn"]
Scalar = str | int | float | bool
ShortStr = Annotated[str, StringConstraints(max_length=1000)]
MAX_FIELDS: Final = 500
# Regions the vectorized phone normalizer (etl_express.stages.phone) implements; a test keeps
# the two lists equal, so a step that validates here also runs.
PHONE_REGIONS: Final = ("RU", "US", "GB")
# Expectations the field-rules stage evaluates as polars expressions with GX semantics
# (etl_express.stages.checks); a test keeps this equal to the stage's list.
POLARS_EXPECTATIONS: Final = frozenset(
    {
        "expect_column_values_to_not_be_null",
        "expect_column_values_to_be_null",
        "expect_column_values_to_match_regex",
        "expect_column_values_to_not_match_regex",
        "expect_column_values_to_be_between",
        "expect_column_values_to_be_in_set",
        "expect_column_values_to_not_be_in_set",
        "expect_column_value_lengths_to_be_between",
        "expect_column_value_lengths_to_equal",
        "expect_column_values_to_be_unique",
    }
)
# Expectations Great Expectations itself runs on each chunk (etl_express.stages.gx_checks):
# value-wise column checks, and table_validations over several columns of one row.
GX_EXPECTATIONS: Final = GX_COLUMN_EXPECTATIONS
GX_TABLE_EXPECTATIONS: Final = GX_ROW_WISE_TABLE_EXPECTATIONS
RUNNABLE_EXPECTATIONS: Final = POLARS_EXPECTATIONS | GX_EXPECTATIONS
# Why the other row-level column expectations do not run (measured or GX's own limits).
_NOT_RUN: Final = {
    **dict.fromkeys(
        (
            "expect_column_values_to_be_increasing",
            "expect_column_values_to_be_decreasing",
            "expect_column_value_z_scores_to_be_less_than",
            "expect_column_values_to_not_be_outliers",
        ),
        "it judges each value against the other rows, and the stage sees one chunk of the "
        "batch at a time",
    ),
    **dict.fromkeys(
        ("expect_column_values_to_be_of_type", "expect_column_values_to_be_in_type_list"),
        "it checks the column's type, not its values: give the field a cast step",
    ),
    **dict.fromkeys(
        (
            "expect_column_values_to_match_like_pattern",
            "expect_column_values_to_not_match_like_pattern",
            "expect_column_values_to_match_like_pattern_list",
            "expect_column_values_to_not_match_like_pattern_list",
        ),
        "Great Expectations evaluates LIKE patterns in SQL only: use "
        "expect_column_values_to_match_regex",
    ),
    "expect_column_values_to_match_json_schema": "it validated 100k values in 115 s here: use "
    "expect_column_values_to_be_json_parseable, and check fields in the transformation",
}


# Cast targets the stage implements (etl_express.stages.adapter.cast_of; tested together).
_CASTABLE = re.compile(
    r"^(?:string|u?int(?:8|16|32|64)|float32|float64|bool|date32|decimal128\(\d+,\s?\d+\)"
    r"|timestamp\[(?:s|ms|us|ns)(?:,\s?tz=[^\]]+)?\])$"
)


class _Step(StrictModel):
    pass


class CastStep(_Step):
    op: Literal["cast"]
    to: str = Field(
        description="Arrow-style type name, e.g. int64, decimal128(12,2), date32. Text becomes a "
        "date or timestamp only when written as ISO 8601 (2024-01-31, optional time with 'T' or "
        "a space, and for tz=UTC an offset or Z); other layouts: the parse_date step."
    )
    strict: bool = Field(False, description="Fail the row instead of nulling a bad value.")

    @field_validator("to")
    @classmethod
    def _type(cls, value: str) -> str:
        check_type_name(value)
        if not _CASTABLE.match(value):
            raise ValueError(
                f"{value!r} is not a cast target the field-rules stage supports; use string, "
                "int8..int64, uint8..uint64, float32, float64, bool, date32, decimal128(p,s) "
                "or timestamp[us] / timestamp[us, tz=UTC]"
            )
        return value


class TrimStep(_Step):
    op: Literal["trim"]
    side: Literal["both", "left", "right"] = "both"
    chars: Annotated[str, StringConstraints(min_length=1, max_length=32)] | None = None


class CaseStep(_Step):
    op: Literal["case"]
    to: Literal["lower", "upper", "title"]


class NullIfStep(_Step):
    op: Literal["null_if"]
    values: list[Scalar] = Field(min_length=1, max_length=100)


class DefaultStep(_Step):
    op: Literal["default"]
    value: Scalar


class RegexReplaceStep(_Step):
    op: Literal["regex_replace"]
    pattern: Annotated[str, StringConstraints(min_length=1, max_length=1000)]
    replacement: ShortStr = ""

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        return check_regex(pattern)


class PhoneStep(_Step):
    op: Literal["phone_e164"]
    default_region: str = Field(
        "RU", pattern=hinted(r"^[A-Z]{2}$", "must be a two-letter region code such as RU")
    )
    invalid: Literal["null", "keep"] = "null"
    region_column: ColumnName | None = Field(
        None,
        description="Column holding each row's region (RU, US or GB, any case), e.g. the "
        "customer's country: numbers written without a country code are read in that region "
        "first. Rows with another value or null use default_region.",
    )

    @field_validator("default_region")
    @classmethod
    def _supported_region(cls, region: str) -> str:
        if region not in PHONE_REGIONS:
            raise ValueError(
                f"{region!r} is not a region the phone normalizer supports "
                f"({', '.join(PHONE_REGIONS)})"
            )
        return region


class EmailStep(_Step):
    op: Literal["email"]
    invalid: Literal["null", "keep"] = "null"


class ParseDateStep(_Step):
    op: Literal["parse_date"]
    formats: list[Annotated[str, StringConstraints(min_length=2, max_length=64)]] = Field(
        min_length=1, max_length=20
    )
    to: Literal["date", "datetime"] = "date"

    @field_validator("formats")
    @classmethod
    def _strftime(cls, formats: list[str]) -> list[str]:
        for fmt in formats:
            if not re.search(r"%[a-zA-Z]", fmt):
                raise ValueError(f"{fmt!r} has no strftime directive such as %Y, %m, %d")
        return formats


Step = Annotated[
    CastStep
    | TrimStep
    | CaseStep
    | NullIfStep
    | DefaultStep
    | RegexReplaceStep
    | PhoneStep
    | EmailStep
    | ParseDateStep,
    Field(discriminator="op"),
]


class Validation(StrictModel):
    """One Great Expectations expectation (type name + kwargs) and what a failure does."""

    expectation: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    kwargs: dict[str, Any] = Field(default_factory=dict, max_length=30)
    severity: Severity = "fail"


class FieldRule(StrictModel):
    steps: list[Step] = Field(default_factory=list, max_length=50)
    validations: list[Validation] = Field(default_factory=list, max_length=50)
    required: bool = Field(False, description="The field must exist in the input.")


class Dedupe(StrictModel):
    keys: list[ColumnName] = Field(min_length=1, max_length=32)
    keep: Literal["first", "last"] = "first"


class FieldRulesSpec(StrictModel):
    fields: dict[ColumnName, FieldRule] = Field(default_factory=dict, max_length=MAX_FIELDS)
    dedupe: Dedupe | None = None
    table_validations: list[Validation] = Field(default_factory=list, max_length=100)
    description: Annotated[str, StringConstraints(max_length=2000)] = ""

    @model_validator(mode="after")
    def _not_empty(self) -> FieldRulesSpec:
        if not self.fields and self.dedupe is None and not self.table_validations:
            raise ValueError("needs at least one field, a dedupe or a table validation")
        return self

    def named_columns(self) -> list[tuple[str, str]]:
        """(JSON path, column) for every column this script refers to."""
        named = [(join_path("$.fields", name), name) for name in self.fields]
        for name, rule in self.fields.items():
            for i, step in enumerate(rule.steps):
                if isinstance(step, PhoneStep) and step.region_column:
                    path = f"{join_path('$.fields', name)}.steps[{i}].region_column"
                    named.append((path, step.region_column))
        if self.dedupe:
            named += [(f"$.dedupe.keys[{i}]", k) for i, k in enumerate(self.dedupe.keys)]
        for i, val in enumerate(self.table_validations):
            for key, column in _kwarg_columns(val.kwargs):
                named.append((f"$.table_validations[{i}].kwargs.{key}", column))
        return named


def check_regex(pattern: str) -> str:
    """Compile with Python's `re` and with polars' (Rust) engine, which runs the step."""
    try:
        re.compile(pattern)
    except re.error as err:
        raise ValueError(f"is not a valid regular expression: {err}") from None
    import polars as pl

    try:
        pl.select(pl.lit("").str.replace_all(pattern, ""))
    except pl.exceptions.ComputeError as err:
        lines = [ln.strip() for ln in str(err).splitlines()]
        reason = next((ln[7:] for ln in lines if ln.startswith("error: ")), lines[0])
        raise ValueError(
            f"is not supported by the regex engine that runs the step: {reason}"
        ) from None
    return pattern


def _kwarg_columns(kwargs: dict[str, Any]) -> list[tuple[str, str]]:
    found: list[tuple[str, str]] = []
    for key in ("column", "column_A", "column_B"):
        if isinstance(kwargs.get(key), str):
            found.append((key, kwargs[key]))
    columns = kwargs.get("column_list")
    if isinstance(columns, list):
        found += [(f"column_list[{i}]", c) for i, c in enumerate(columns) if isinstance(c, str)]
    return found


def check_field_rules(spec: FieldRulesSpec) -> list[FieldError]:
    errors: list[FieldError] = []
    for name, rule in spec.fields.items():
        for i, validation in enumerate(rule.validations):
            base = join_path("$.fields", name, "validations", i)
            errors += _validation_errors(validation, base, per_field=True)
    for i, validation in enumerate(spec.table_validations):
        errors += _validation_errors(validation, f"$.table_validations[{i}]", per_field=False)
    return errors


def _validation_errors(val: Validation, base: str, *, per_field: bool) -> list[FieldError]:
    entry = expectations().get(val.expectation)
    problem = _placement_problem(val.expectation, entry, per_field)
    if problem is not None:
        return [FieldError(f"{base}.expectation", problem)]
    assert entry is not None
    errors = [
        FieldError(
            f"{base}.kwargs" if key is None else f"{base}.kwargs{join_path('', key)}",
            f"{key or 'kwargs'} {msg}" if key else msg,
        )
        for key, msg in kwarg_problems(
            val.expectation, val.kwargs, {"column"} if per_field else set()
        )
    ]
    errors += _runtime_kwarg_errors(val, base)
    if val.severity == "quarantine" and not entry["row_level"]:
        errors.append(
            FieldError(
                f"{base}.severity",
                f"severity quarantine needs a row-level expectation; {val.expectation} judges "
                "the whole batch, so use fail or warn",
            )
        )
    return errors


def _placement_problem(name: str, entry: dict[str, Any] | None, per_field: bool) -> str | None:
    """Why this expectation cannot stand here (unknown, wrong level, not run), or None."""
    if entry is None:
        return f"expectation {name!r} is not a Great Expectations expectation{suggest(name)}"
    domain = entry["domain"]
    if per_field and domain != "column":
        return (
            f"expectation {name} checks a {domain.replace('_', ' ')}, not one field; "
            "put it under table_validations"
        )
    if not per_field and domain == "column":
        return f"expectation {name} checks one column; put it under fields.<name>"
    if not per_field and name not in GX_TABLE_EXPECTATIONS:
        rows = (" (it compares rows, and the stage sees one chunk of the batch at a time)"
                if entry["row_level"] else "")  # fmt: skip
        return (
            f"expectation {name} is valid in Great Expectations, but the field-rules stage "
            f"does not run it{rows}; table validations run for the columns of one row: "
            f"{', '.join(sorted(GX_TABLE_EXPECTATIONS))}; per-field checks go under "
            "fields.<name> (e.g. expect_column_values_to_be_unique), the rest in the "
            "transformation"
        )
    if not per_field:
        return None
    if name not in RUNNABLE_EXPECTATIONS:
        why = f" ({_NOT_RUN[name]})" if name in _NOT_RUN else ""
        return (
            f"expectation {name} is valid in Great Expectations, but the field-rules stage "
            f"does not run it{why}; supported: {', '.join(sorted(RUNNABLE_EXPECTATIONS))}"
        )
    return None


def _runtime_kwarg_errors(val: Validation, base: str) -> list[FieldError]:
    errors: list[FieldError] = []
    for key in ("row_condition", "condition_parser"):
        if key in val.kwargs:
            errors.append(
                FieldError(
                    f"{base}.kwargs.{key}",
                    f"{key} is not supported by ETL-Express checks; filter in the "
                    "transformation instead",
                )
            )
    patterns = val.kwargs.get("regex_list") if val.expectation in GX_EXPECTATIONS else None
    for i, pattern in enumerate(patterns if isinstance(patterns, list) else []):
        try:  # GX runs them with Python's engine (pandas str.contains)
            re.compile(str(pattern))
        except re.error as err:
            errors.append(FieldError(f"{base}.kwargs.regex_list[{i}]",
                                     f"is not a valid regular expression: {err}"))  # fmt: skip
    mostly = val.kwargs.get("mostly")
    if isinstance(mostly, int | float) and not isinstance(mostly, bool):
        if not 0 <= mostly <= 1:
            errors.append(FieldError(f"{base}.kwargs.mostly", "mostly must be between 0 and 1"))
        elif mostly < 1 and val.severity != "warn":
            errors.append(
                FieldError(
                    f"{base}.kwargs.mostly",
                    f"mostly works with severity warn only: with {val.severity} every failing "
                    "row counts (quarantined or failing the run)",
                )
            )
    return errors


def upstream_errors(spec: FieldRulesSpec, columns: set[str]) -> list[FieldError]:
    """Columns the rules name that the upstream schema does not have (task cross-check)."""
    errors: list[FieldError] = []
    for path, column in spec.named_columns():
        if column not in columns:
            errors.append(
                FieldError(
                    path,
                    f"column {column!r} is not in the upstream output "
                    f"(columns: {', '.join(sorted(columns))})",
                )
            )
    return errors


def step_output_type(rule: FieldRule, upstream: ColumnSchema | None) -> str | None:
    """The field's type after its steps (for downstream schema), when it can be told."""
    type_name = upstream.type if upstream else None
    for step in rule.steps:
        if isinstance(step, CastStep):
            type_name = step.to
        elif isinstance(step, ParseDateStep):
            type_name = "date32" if step.to == "date" else "timestamp[us]"
        elif isinstance(step, PhoneStep | EmailStep):
            type_name = "string"
    return type_name
