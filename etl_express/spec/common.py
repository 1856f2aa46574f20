"""Pieces every spec shares: the strict base model, column schemas, names and references."""

from __future__ import annotations

import re
from typing import Annotated, Final

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from etl_express.spec.paths import PATTERN_HINTS

# Airflow's connection id rule (airflow.utils.helpers.validate_key): word characters, dots and
# dashes, at most 250 characters.
CONN_ID_PATTERN: Final = r"^[A-Za-z0-9_.\-]{1,250}$"
# Task slugs become DAG ids `etlx__<slug>`; same rule as the stores' CHECK constraint.
SLUG_PATTERN: Final = r"^[a-z0-9_]{1,60}$"
SCRIPT_NAME_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,199}$"
COLUMN_NAME_MAX: Final = 63  # PostgreSQL's identifier limit: outbox tables must hold every name.

PATTERN_HINTS.update(
    {
        CONN_ID_PATTERN: "must be an Airflow connection id: letters, digits, '_', '.', '-' "
        "(1-250 characters)",
        SLUG_PATTERN: "must be a slug: lowercase letters, digits and '_' (1-60 characters)",
        SCRIPT_NAME_PATTERN: "must start with a letter or digit and use only letters, digits, "
        "'_', '.', '-' (at most 200 characters)",
    }
)

ConnId = Annotated[str, StringConstraints(pattern=CONN_ID_PATTERN)]
ScriptName = Annotated[str, StringConstraints(pattern=SCRIPT_NAME_PATTERN)]
ColumnName = Annotated[str, StringConstraints(min_length=1, max_length=COLUMN_NAME_MAX)]
ShortText = Annotated[str, StringConstraints(max_length=2000)]

# Arrow-style type names. Parameters: decimal128(precision,scale), timestamp[unit(, tz=Zone)].
_TYPE_RE = re.compile(
    r"^(?:bool|int8|int16|int32|int64|uint8|uint16|uint32|uint64|float32|float64|string|binary"
    r"|date32|time64\[us\]|duration\[us\]|null|json"
    r"|decimal128\((?P<p>\d{1,2}),\s?(?P<s>\d{1,2})\)"
    r"|timestamp\[(?:s|ms|us|ns)(?:,\s?tz=[A-Za-z0-9_+\-/:]+)?\]"
    r"|list<.+>|struct<.+>)$"
)


def check_type_name(value: str) -> str:
    match = _TYPE_RE.match(value)
    if not match:
        raise ValueError(
            f"{value!r} is not a known type; use one of bool, int16, int32, int64, float32, "
            "float64, string, binary, date32, time64[us], timestamp[us], timestamp[us, tz=UTC], "
            "decimal128(p,s), json"
        )
    if match.group("p") and int(match.group("s")) > int(match.group("p")):
        raise ValueError(f"{value!r}: the scale must not exceed the precision")
    if match.group("p") and not 1 <= int(match.group("p")) <= 38:
        raise ValueError(f"{value!r}: the precision must be 1..38")
    return value


class StrictModel(BaseModel):
    """Base of every spec model: unknown fields are an error, values do not change later."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=False)


class ColumnSchema(StrictModel):
    """One output column of a script: what downstream scripts can refer to."""

    name: ColumnName
    type: str = Field(description="Arrow-style type name, e.g. int64, string, decimal128(12,2).")
    nullable: bool = True

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        return check_type_name(value)


class ScriptRef(StrictModel):
    """A pinned script version attached to a task (version None = latest, pinned at save)."""

    name: ScriptName
    version: int | None = Field(None, ge=1)


def column_names(schema: list[ColumnSchema] | None) -> set[str] | None:
    return None if schema is None else {c.name for c in schema}
