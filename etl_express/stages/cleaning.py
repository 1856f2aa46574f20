"""Cleaning steps as polars expressions, one function per step kind.

Each step maps one column to one column inside a lazy query. Steps never raise on bad values:
a value that cannot be converted becomes null, and the field rules count those per step.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import polars as pl

from etl_express.stages.config import (
    Case,
    Cast,
    Default,
    Email,
    NullIf,
    ParseDate,
    Phone,
    RegexReplace,
    Step,
    Trim,
)
from etl_express.stages.phone import normalize_phone

_EMAIL = r"^[^@\s]+@[^@\s]+\.[^@\s.]+$"
_EMAIL_TMP = "__etlx_email"
# A cast reads ISO 8601 text only (other layouts: the parse_date step with formats). Left to
# guess, polars picks a layout from each chunk's first value, so the same text could parse in
# one chunk and be null in another.
_ISO_DATE = "%Y-%m-%d"
_ISO_DATETIMES = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M",
                  "%Y-%m-%dT%H:%M", _ISO_DATE)  # fmt: skip
_ISO_OFFSETS = ("%Y-%m-%dT%H:%M:%S%.f%#z", "%Y-%m-%d %H:%M:%S%.f%#z")
_TRUE = ["true", "t", "1", "yes", "y", "да"]
_FALSE = ["false", "f", "0", "no", "n", "нет"]


def _dtype(step: Cast) -> pl.DataType:
    types: dict[str, pl.DataType] = {
        "string": pl.String(),
        "int": pl.Int32(),
        "bigint": pl.Int64(),
        "float": pl.Float64(),
        "date": pl.Date(),
        "datetime": pl.Datetime("us"),
        "timestamptz": pl.Datetime("us", "UTC"),
        "decimal": pl.Decimal(step.precision, step.scale),
    }
    return types[step.to]


def _cast_text(expr: pl.Expr, step: Cast) -> pl.Expr:
    text = expr.str.strip_chars()
    if step.to == "bool":
        lowered = text.str.to_lowercase()
        return pl.when(lowered.is_in(_TRUE)).then(True).when(lowered.is_in(_FALSE)).then(False)
    if step.to == "date":
        return text.str.to_date(_ISO_DATE, strict=False)
    if step.to == "datetime":
        return pl.coalesce([text.str.to_datetime(f, time_unit="us", strict=False)
                            for f in _ISO_DATETIMES])  # fmt: skip
    if step.to == "timestamptz":
        zoned = [text.str.to_datetime(f, time_unit="us", time_zone="UTC", strict=False)
                 for f in _ISO_OFFSETS]  # fmt: skip
        naive = [text.str.to_datetime(f, time_unit="us", strict=False).dt.replace_time_zone("UTC")
                 for f in _ISO_DATETIMES]  # fmt: skip
        return pl.coalesce([*zoned, *naive])
    return text.cast(_dtype(step), strict=False)


def cast_expr(expr: pl.Expr, step: Cast, source: pl.DataType) -> pl.Expr:
    if source == pl.String:
        return _cast_text(expr, step)
    if step.to == "bool":
        return expr.cast(pl.Boolean, strict=False)
    if step.to == "timestamptz" and isinstance(source, pl.Datetime) and source.time_zone is None:
        return expr.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
    return expr.cast(_dtype(step), strict=False)


def _simple(step: Step, expr: pl.Expr) -> pl.Expr | None:
    if isinstance(step, Trim):
        strip = {
            "both": expr.str.strip_chars,
            "left": expr.str.strip_chars_start,
            "right": expr.str.strip_chars_end,
        }[step.side]
        return strip(step.chars)
    if isinstance(step, Case):
        case: dict[str, Callable[[], pl.Expr]] = {
            "lower": expr.str.to_lowercase,
            "upper": expr.str.to_uppercase,
            "title": expr.str.to_titlecase,
        }
        return case[step.mode]()
    if isinstance(step, NullIf):
        return pl.when(expr.cast(pl.String).is_in(list(step.values))).then(None).otherwise(expr)
    if isinstance(step, Default):
        return expr.fill_null(pl.lit(step.value))
    if isinstance(step, RegexReplace):
        return expr.str.replace_all(step.pattern, step.replacement)
    if isinstance(step, ParseDate):
        if step.to == "date":
            return pl.coalesce([expr.str.to_date(f, strict=False) for f in step.formats])
        return pl.coalesce(
            [expr.str.to_datetime(f, time_unit="us", strict=False) for f in step.formats]
        )
    return None


def _email(frame: pl.LazyFrame, step: Email, source: str, target: str) -> pl.LazyFrame:
    # The trimmed, lowercased value is a column of its own: inside when/then polars computed
    # it twice (27 vs 17 ms per 100k values).
    cleaned = pl.col(source).cast(pl.String).str.strip_chars().str.to_lowercase()
    invalid = pl.col(source).cast(pl.String) if step.keep_invalid else pl.lit(None, pl.String)
    ok = pl.col(_EMAIL_TMP).str.contains(_EMAIL)
    valid = pl.when(ok).then(pl.col(_EMAIL_TMP)).otherwise(invalid)
    return (
        frame.with_columns(cleaned.alias(_EMAIL_TMP))
        .with_columns(valid.alias(target))
        .drop(_EMAIL_TMP)
    )


def apply_step(
    frame: pl.LazyFrame, step: Step, source: str, target: str, dtype: pl.DataType
) -> pl.LazyFrame:
    """`target` := `step`(`source`); `dtype` is the source column's type."""
    if isinstance(step, Phone):
        phones = normalize_phone(frame, source, target, step.regions, step.region_column)
        if step.keep_invalid:
            keep = pl.coalesce(pl.col(target), pl.col(source).cast(pl.String))
            phones = phones.with_columns(keep.alias(target))
        return phones
    if isinstance(step, Email):
        return _email(frame, step, source, target)
    expr = pl.col(source)
    if isinstance(step, Cast):
        return frame.with_columns(cast_expr(expr, step, dtype).alias(target))
    needs_text = not isinstance(step, NullIf | Default)
    if needs_text and dtype != pl.String:
        expr = expr.cast(pl.String)
    out = _simple(step, expr)
    if out is None:
        raise TypeError(f"unknown cleaning step {type(step).__name__}")
    return frame.with_columns(out.alias(target))


def step_name(step: Step) -> str:
    names: dict[type[Any], str] = {
        Cast: "cast",
        Trim: "trim",
        Case: "case",
        NullIf: "null_if",
        Default: "default",
        RegexReplace: "regex_replace",
        Phone: "phone",
        Email: "email",
        ParseDate: "parse_date",
    }
    return names[type(step)]
