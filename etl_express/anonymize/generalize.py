"""Generalization: dates → month/year, ages → bands, numbers → ranges, addresses → city/region."""

from __future__ import annotations

from itertools import pairwise

import polars as pl

from etl_express.anonymize.rules import (
    GeneralizeAddress,
    GeneralizeAge,
    GeneralizeDate,
    GeneralizeNumber,
)
from etl_express.errors import FieldError, ValidationFailed

# City: "г. Москва", "город Москва", or another settlement type ("с. Азов", "пгт Смирных",
# "д. Котлас"); English "…, Springfield, IL 62704" (city before state+ZIP).
CITY_PATTERNS = (
    r"(?:^|[\s,])(?:г\.|город|пгт|рп|пос\.|пос[её]лок|п\.|с\.|село|д\.|дер\.|деревня|ст-ца|"
    r"станица|ст\.|х\.|хутор|аул)\s*([А-ЯЁ][^,]*?)\s*(?:,|$)",
    r"([A-Z][A-Za-z .'-]+?),\s*[A-Z]{2}\s+\d{5}",
)
REGION_PATTERNS = (
    r"((?:[А-ЯЁ][а-яё-]+\s+)?(?:обл\.|область\b|край\b|АО\b)(?:\s+[А-ЯЁ][а-яё-]+)?)",
    r"((?:Респ\.|Республика)\s+[А-ЯЁ][а-яё-]+)",
    r",\s*([A-Z]{2})\s+\d{5}",
)


def _wrong(column: str, param: str, message: str) -> ValidationFailed:
    return ValidationFailed([FieldError(f"$.columns.{column}.{param}", message)])


def generalize_expr(
    column: str,
    rule: GeneralizeDate | GeneralizeAge | GeneralizeNumber | GeneralizeAddress,
    dtype: pl.DataType,
) -> pl.Expr:
    match rule:
        case GeneralizeDate():
            return _date(column, rule, dtype)
        case GeneralizeAge():
            return _age(column, rule, dtype)
        case GeneralizeNumber():
            return _number(column, rule, dtype)
        case GeneralizeAddress():
            return _address(column, rule, dtype)


def _date(column: str, rule: GeneralizeDate, dtype: pl.DataType) -> pl.Expr:
    every = "1mo" if rule.to == "month" else "1y"
    col = pl.col(column)
    if dtype == pl.Date or isinstance(dtype, pl.Datetime):
        return col.dt.truncate(every).cast(pl.Date)
    if dtype != pl.String:
        raise _wrong(column, "kind", f"generalize date needs a date or text column, got {dtype}")
    parsed = pl.coalesce(
        [col.str.strip_chars().str.strptime(pl.Date, f, strict=False) for f in rule.formats]
    )
    # Text in, text out: unparsable values become null (counted as nullified in the stats).
    return parsed.dt.strftime("%Y-%m" if rule.to == "month" else "%Y")


def _age(column: str, rule: GeneralizeAge, dtype: pl.DataType) -> pl.Expr:
    if not dtype.is_numeric():
        raise _wrong(column, "kind", f"generalize age needs a numeric column, got {dtype}")
    b = rule.bands
    labels = [f"<{b[0]}"] + [f"{lo}-{hi - 1}" for lo, hi in pairwise(b)]
    labels.append(f"{b[-1]}+")
    return pl.col(column).cut(b, labels=labels, left_closed=True).cast(pl.String)


def _number(column: str, rule: GeneralizeNumber, dtype: pl.DataType) -> pl.Expr:
    if not dtype.is_numeric():
        raise _wrong(column, "kind", f"generalize number needs a numeric column, got {dtype}")
    lower = (pl.col(column).cast(pl.Float64) / rule.width).floor() * rule.width
    upper = lower + rule.width
    if float(rule.width).is_integer():
        lower, upper = lower.cast(pl.Int64), upper.cast(pl.Int64)
    return pl.concat_str([lower.cast(pl.String), pl.lit("–"), upper.cast(pl.String)])


def _address(column: str, rule: GeneralizeAddress, dtype: pl.DataType) -> pl.Expr:
    if dtype != pl.String:
        raise _wrong(column, "kind", f"generalize address needs a text column, got {dtype}")
    patterns = CITY_PATTERNS if rule.to == "city" else REGION_PATTERNS
    col = pl.col(column)
    return pl.coalesce([col.str.extract(p, 1) for p in patterns]).str.strip_chars()
