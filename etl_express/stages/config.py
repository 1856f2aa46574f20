"""Plain config objects the stage functions take (the spec adapter builds them from scripts).

They carry only what a stage needs, so stages are testable without the spec models, and the
spec can change shape without touching stage code (see `etl_express.stages.adapter`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

CaseMode = Literal["lower", "upper", "title"]
Severity = Literal["warn", "quarantine", "fail"]
TypeName = Literal[
    "string", "int", "bigint", "float", "bool", "date", "datetime", "timestamptz", "decimal"
]


@dataclass(frozen=True)
class Cast:
    """`strict`: a value that does not convert quarantines its row instead of becoming null."""

    to: TypeName
    precision: int = 38
    scale: int = 2
    strict: bool = False


@dataclass(frozen=True)
class Trim:
    side: Literal["both", "left", "right"] = "both"
    chars: str | None = None


@dataclass(frozen=True)
class Case:
    mode: CaseMode


@dataclass(frozen=True)
class NullIf:
    values: tuple[str, ...]


@dataclass(frozen=True)
class Default:
    value: Any


@dataclass(frozen=True)
class RegexReplace:
    pattern: str
    replacement: str = ""


@dataclass(frozen=True)
class Phone:
    """`regions` orders how national numbers are read; a row whose `region_column` names a
    supported region reads them in that region first."""

    regions: tuple[str, ...] = ("RU", "US", "GB")
    keep_invalid: bool = False
    region_column: str | None = None


@dataclass(frozen=True)
class Email:
    keep_invalid: bool = False


@dataclass(frozen=True)
class ParseDate:
    formats: tuple[str, ...]
    to: Literal["date", "datetime"] = "date"


Step = Cast | Trim | Case | NullIf | Default | RegexReplace | Phone | Email | ParseDate


@dataclass(frozen=True)
class FieldRule:
    """Cleaning steps applied in order to one column (`rename` gives the output name)."""

    column: str
    steps: tuple[Step, ...]
    rename: str | None = None


@dataclass(frozen=True)
class Check:
    """One row-level expectation, named as in Great Expectations, with its kwargs.

    `column` is the field a field's validation checks; a table validation (a column pair or
    several columns in one row) has none and names its columns in its kwargs (`column_A`,
    `column_B`, `column_list`), as GX does.

    Severity: `warn` counts failing rows and keeps them; `quarantine` moves them to the
    quarantine with the check's name as reason; `fail` fails the chunk (no rows leave).
    """

    expectation: str
    column: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    severity: Severity = "quarantine"
    name: str | None = None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns the check reads."""
        if self.column:
            return (self.column,)
        named = [self.kwargs[k] for k in ("column_A", "column_B") if k in self.kwargs]
        return tuple(str(c) for c in [*named, *(self.kwargs.get("column_list") or [])])

    @property
    def label(self) -> str:
        return self.name or f"{self.expectation}({', '.join(self.columns)})"


@dataclass(frozen=True)
class FieldRulesConfig:
    fields: tuple[FieldRule, ...] = ()
    checks: tuple[Check, ...] = ()
    dedupe_keys: tuple[str, ...] = ()
    drop_columns: tuple[str, ...] = ()
    dedupe_keep: Literal["first", "last"] = "first"


@dataclass(frozen=True)
class TransformConfig:
    """`sql` reads the upstream rows under `input_name` (one flow per task)."""

    sql: str
    input_name: str = "input"
