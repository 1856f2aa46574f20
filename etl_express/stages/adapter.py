"""Script specs (plain dicts as stored and bundled) → the stage config objects.

The one place that knows both the spec's JSON shape (etl_express.spec) and the stage configs,
so either side can change without touching the other.
"""

from __future__ import annotations

import re
from typing import Any

from etl_express.stages.config import (
    Case,
    Cast,
    Check,
    Default,
    Email,
    FieldRule,
    FieldRulesConfig,
    NullIf,
    ParseDate,
    Phone,
    RegexReplace,
    Step,
    Trim,
    TypeName,
)
from etl_express.stages.errors import SafeMessageError
from etl_express.stages.gx_checks import GX_ROW_WISE_TABLE_EXPECTATIONS
from etl_express.stages.phone import REGIONS

_DECIMAL = re.compile(r"^decimal(?:128|256)?\((\d+),\s*(\d+)\)$")
_SIMPLE_TYPES: dict[str, TypeName] = {
    "string": "string", "utf8": "string", "large_string": "string", "text": "string",
    "int8": "int", "int16": "int", "int32": "int", "uint8": "int", "uint16": "int",
    "int64": "bigint", "uint32": "bigint", "uint64": "bigint",
    "float32": "float", "float64": "float", "double": "float",
    "bool": "bool", "boolean": "bool",
    "date32": "date", "date64": "date", "date": "date",
}  # fmt: skip


def cast_of(to: str, strict: bool = False) -> Cast:
    name = to.strip().lower().replace(" ", "")
    if name in _SIMPLE_TYPES:
        return Cast(_SIMPLE_TYPES[name], strict=strict)
    decimal = _DECIMAL.match(name)
    if decimal:
        return Cast("decimal", int(decimal.group(1)), int(decimal.group(2)), strict=strict)
    if name.startswith("timestamp"):
        return Cast("timestamptz" if "tz=" in name else "datetime", strict=strict)
    raise SafeMessageError(f"cast to {to!r} is not supported by the field rules stage")


def _phone(spec: dict[str, Any]) -> Phone:
    region = spec.get("default_region", "RU")
    if region not in REGIONS:
        raise SafeMessageError(
            f"phone_e164 default_region {region!r}: the vectorized normalizer covers "
            f"{', '.join(REGIONS)}"
        )
    regions = (region, *[r for r in REGIONS if r != region])
    return Phone(
        regions, keep_invalid=spec.get("invalid") == "keep", region_column=spec.get("region_column")
    )


def step_of(spec: dict[str, Any]) -> Step:
    op = spec["op"]
    builders: dict[str, Any] = {
        "cast": lambda: cast_of(spec["to"], bool(spec.get("strict"))),
        "trim": lambda: Trim(spec.get("side", "both"), spec.get("chars")),
        "case": lambda: Case(spec["to"]),
        "null_if": lambda: NullIf(tuple(str(v) for v in spec["values"])),
        "default": lambda: Default(spec["value"]),
        "regex_replace": lambda: RegexReplace(spec["pattern"], spec.get("replacement", "")),
        "phone_e164": lambda: _phone(spec),
        "email": lambda: Email(keep_invalid=spec.get("invalid") == "keep"),
        "parse_date": lambda: ParseDate(tuple(spec["formats"]), spec.get("to", "date")),
    }
    if op not in builders:
        raise SafeMessageError(f"cleaning step {op!r} is not supported")
    step: Step = builders[op]()
    return step


def _check(column: str | None, validation: dict[str, Any]) -> Check:
    kwargs = dict(validation.get("kwargs") or {})
    target = column or kwargs.pop("column", None)
    kwargs.pop("column", None)
    expectation = validation["expectation"]
    if target is None and expectation in GX_ROW_WISE_TABLE_EXPECTATIONS:
        target = ""  # a column pair or several columns: named in its kwargs
    if not isinstance(target, str):
        raise SafeMessageError(
            f"table validation {expectation} is not supported (row-level expectations of "
            "one column, a column pair or columns of one row only)"
        )
    return Check(expectation, target, kwargs, validation.get("severity", "fail"))


def field_rules_config(spec: dict[str, Any], columns: set[str] | None = None) -> FieldRulesConfig:
    """`columns`: the input's columns; rules for absent fields are skipped unless required."""
    fields: list[FieldRule] = []
    checks: list[Check] = []
    for name, rule in (spec.get("fields") or {}).items():
        if columns is not None and name not in columns:
            if rule.get("required"):
                raise SafeMessageError(f"required field {name} is not in the input")
            continue
        steps = tuple(step_of(s) for s in rule.get("steps") or [])
        for step in steps:
            region_column = getattr(step, "region_column", None)
            if columns is not None and region_column and region_column not in columns:
                raise SafeMessageError(
                    f"field {name}: phone_e164 region_column {region_column!r} is not in the input"
                )
        if steps:
            fields.append(FieldRule(name, steps))
        checks += [_check(name, v) for v in rule.get("validations") or []]
    checks += [_check(None, v) for v in spec.get("table_validations") or []]
    dedupe = spec.get("dedupe") or {}
    return FieldRulesConfig(
        tuple(fields),
        tuple(checks),
        tuple(dedupe.get("keys") or ()),
        dedupe_keep="last" if dedupe.get("keep") == "last" else "first",
    )
