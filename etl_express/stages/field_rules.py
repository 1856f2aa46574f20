"""Field rules stage: cleaning steps, then checks (quarantine by severity), then dedupe.

Every step writes a helper column, so the null count after each step is known in O(1)
(polars keeps null counts per column) and the run records how many values each step
nullified (failed conversion, invalid phone, ...) or filled (defaults). One lazy query does
the whole chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

import polars as pl
import pyarrow as pa

from etl_express.stages.checks import check_expr
from etl_express.stages.cleaning import apply_step, step_name
from etl_express.stages.config import (
    Case,
    Cast,
    Email,
    FieldRule,
    FieldRulesConfig,
    ParseDate,
    Phone,
    RegexReplace,
    Step,
)
from etl_express.stages.errors import SafeMessageError
from etl_express.stages.gx_checks import GX_EXPECTATIONS, gx_passes

REASONS = "_etlx_reasons"
SEVERITY = "_etlx_severity"
_OK = "__etlx_ok_"
_ROW = "__etlx_row"
_STRICT = "__etlx_strict_"
_GX = "__etlx_gx_"
# Column-wise steps over one chunk in memory: the streaming engine (polars 2's default) cut
# the chunk into morsels and cost 5-9% more CPU on the bench field rules.
_ENGINE: Final = "in-memory"
_SAMPLE = 2_000
# Steps run on distinct values when there are at most one per this many rows.
_DISTINCT_SHARE = 20


@dataclass
class FieldRulesResult:
    clean: pl.DataFrame
    quarantine: pl.DataFrame
    stats: dict[str, Any] = field(default_factory=dict)


def _as_frame(data: pl.DataFrame | pa.Table | pa.RecordBatch) -> pl.DataFrame:
    if isinstance(data, pl.DataFrame):
        return data
    table = pa.Table.from_batches([data]) if isinstance(data, pa.RecordBatch) else data
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def _missing(frame: pl.DataFrame, config: FieldRulesConfig) -> list[str]:
    wanted = [r.column for r in config.fields] + list(config.dedupe_keys)
    produced = {r.rename or r.column for r in config.fields}
    wanted += [c for check in config.checks for c in check.columns if c not in produced]
    return sorted({c for c in wanted if c not in frame.columns})


def _value_wise(step: Step) -> bool:
    """A step whose result for a value does not depend on the other rows or columns."""
    return not (isinstance(step, Phone) and step.region_column is not None)


def _costly(step: Step) -> bool:
    # Trim, null_if, default and most casts cost less (1-3 ms per 100k) than mapping back.
    return isinstance(step, Case | Email | Phone | RegexReplace | ParseDate)


def _distinct_steps(frame: pl.DataFrame, rule: FieldRule, names: list[str]) -> pl.DataFrame | None:
    """The rule's step columns computed once per distinct value of a repetitive text column
    (one row per value, the value in `rule.column`), or None where that does not pay.

    Most steps map a value to a value (`_value_wise`), so a city column of 7 values is
    trimmed and title-cased 7 times, then mapped back (16 -> 4 ms per 100k rows). A 2,000-row
    sample keeps mostly-distinct columns from paying for it.
    """
    column = frame.get_column(rule.column)
    if column.dtype != pl.String or column.is_empty():
        return None
    if not all(_value_wise(s) for s in rule.steps) or not any(_costly(s) for s in rule.steps):
        return None
    sample = column.head(_SAMPLE)
    if sample.n_unique() * _DISTINCT_SHARE > len(sample):
        return None
    distinct = column.unique()
    if len(distinct) * _DISTINCT_SHARE > len(column):
        return None
    return _chained(distinct.to_frame().lazy(), rule, names).collect(engine=_ENGINE)


def _step_columns(
    lf: pl.LazyFrame, frame: pl.DataFrame, rule: FieldRule, names: list[str]
) -> pl.LazyFrame:
    """`lf` with the step columns of `rule` (see `_chained`), from the distinct values where
    that pays."""
    distinct = _distinct_steps(frame, rule, names)
    if distinct is not None:
        values = distinct.get_column(rule.column)
        return lf.with_columns(
            pl.col(rule.column)
            .replace_strict(values, distinct.get_column(h), return_dtype=distinct.schema[h])
            .alias(h)
            for h in names
        )
    return _chained(lf, rule, names)


def _chained(lf: pl.LazyFrame, rule: FieldRule, names: list[str]) -> pl.LazyFrame:
    """`lf` with one column per step of `rule` (named `names`), each step reading the last."""
    previous = rule.column
    for step, helper in zip(rule.steps, names, strict=True):
        lf = apply_step(lf, step, previous, helper, lf.collect_schema()[previous])
        previous = helper
    return lf


def _clean(
    frame: pl.DataFrame, config: FieldRulesConfig
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    lf = frame.lazy()
    helpers: list[tuple[str, str, str, str]] = []  # (helper, previous, column, step)
    strict: list[tuple[str, str, str]] = []  # (helper, previous, column) of strict casts
    finals: dict[str, str] = {}
    for f_index, rule in enumerate(config.fields):
        names = [f"__etlx_f{f_index}_s{s_index}" for s_index in range(len(rule.steps))]
        lf = _step_columns(lf, frame, rule, names)
        previous = rule.column
        for step, helper in zip(rule.steps, names, strict=True):
            helpers.append((helper, previous, rule.column, step_name(step)))
            if isinstance(step, Cast) and step.strict:
                strict.append((helper, previous, rule.column))
            previous = helper
        finals[rule.rename or rule.column] = previous
    out = lf.collect(engine=_ENGINE)
    stats = []
    for helper, previous, column, name in helpers:
        delta = out[helper].null_count() - out[previous].null_count()
        stats.append(
            {"column": column, "step": name, "nullified": max(delta, 0), "filled": max(-delta, 0)}
        )
    # A strict cast that failed marks the row; the checks quarantine it with this reason.
    out = out.with_columns(
        (pl.col(prev).is_not_null() & pl.col(h).is_null()).alias(f"{_STRICT}{column}")
        for h, prev, column in strict
    )
    renamed = out.with_columns([pl.col(h).alias(c) for c, h in finals.items()])
    keep = [c for c in renamed.columns if not c.startswith("__etlx_f")]
    return renamed.select(keep), stats


def _rules(frame: pl.DataFrame, config: FieldRulesConfig) -> list[tuple[str, str, pl.Expr]]:
    """(label, severity, passes) for every configured check and every strict cast; checks
    that Great Expectations runs read their `_GX` column (see `_with_gx_results`)."""
    rules: list[tuple[str, str, pl.Expr]] = [
        (c.label, c.severity,
         pl.col(f"{_GX}{i}") if c.expectation in GX_EXPECTATIONS
         else check_expr(c, frame.schema.get(c.column)))
        for i, c in enumerate(config.checks)
    ]  # fmt: skip
    for name in frame.columns:
        if name.startswith(_STRICT):
            column = name.removeprefix(_STRICT)
            rules.append((f"cast({column})", "quarantine", ~pl.col(name)))
    return rules


def _with_gx_results(frame: pl.DataFrame, config: FieldRulesConfig) -> pl.DataFrame:
    """`frame` with a pass column per check Great Expectations runs (GX is imported only
    when a script has one)."""
    wanted = [(i, c) for i, c in enumerate(config.checks) if c.expectation in GX_EXPECTATIONS]
    if not wanted:
        return frame
    passes = gx_passes(frame, [c for _, c in wanted])
    names = [f"{_GX}{i}" for i, _ in wanted]
    return frame.with_columns(ok.alias(n) for n, ok in zip(names, passes, strict=True))


def _checks(
    frame: pl.DataFrame, config: FieldRulesConfig
) -> tuple[pl.DataFrame, pl.DataFrame, list[dict[str, Any]]]:
    frame = _with_gx_results(frame, config)
    rules = _rules(frame, config)
    helper_cols = [f"{_OK}{i}" for i in range(len(rules))]
    markers = [c for c in frame.columns if c.startswith((_STRICT, _GX))]
    flagged = frame.with_columns(
        ok.alias(h) for (_, _, ok), h in zip(rules, helper_cols, strict=True)
    )
    stats: list[dict[str, Any]] = []
    for (label, severity, _), helper in zip(rules, helper_cols, strict=True):
        failed = flagged.height - int(flagged[helper].sum())
        stats.append({"check": label, "severity": severity, "failed": failed})
        if failed and severity == "fail":
            raise SafeMessageError(f"check {label} failed on {failed} rows (severity fail)")
    quarantined = [(label, h) for (label, sev, _), h in zip(rules, helper_cols, strict=True)
                   if sev == "quarantine"]  # fmt: skip
    bad = pl.any_horizontal([~pl.col(h) for _, h in quarantined]) if quarantined else pl.lit(False)
    reasons = pl.concat_str(
        [pl.when(~pl.col(h)).then(pl.lit(label)) for label, h in quarantined] or [pl.lit(None)],
        separator="; ",
        ignore_nulls=True,
    )
    drop = helper_cols + markers
    quarantine = (
        flagged.filter(bad)
        .with_columns(reasons.cast(pl.String).alias(REASONS), pl.lit("quarantine").alias(SEVERITY))
        .drop(drop)
    )
    clean = flagged.filter(~bad).drop(drop)
    return (
        clean,
        quarantine,
        [s for s in stats if not s["check"].startswith("cast(") or s["failed"]],
    )


def _kept(config: FieldRulesConfig) -> pl.Expr:
    """True for the row each dedupe key keeps, as unique(keep=..., maintain_order=True) would;
    the filter costs 2 ms per 100k rows against 16-21 ms for that unique."""
    keys = list(config.dedupe_keys)
    key = pl.col(keys[0]) if len(keys) == 1 else pl.struct(keys)
    return key.is_first_distinct() if config.dedupe_keep == "first" else key.is_last_distinct()


def apply_field_rules(
    data: pl.DataFrame | pa.Table | pa.RecordBatch, config: FieldRulesConfig
) -> FieldRulesResult:
    frame = _as_frame(data)
    missing = _missing(frame, config)
    if missing:
        raise SafeMessageError(f"field rules name columns the input lacks: {', '.join(missing)}")
    rows_in = frame.height
    indexed = frame.with_row_index(_ROW)
    cleaned, step_stats = _clean(indexed, config)
    clean, flagged, check_stats = _checks(cleaned, config)
    clean = clean.drop(_ROW)
    # Quarantined rows keep their values as they arrived, so a reviewer sees what was wrong.
    quarantine = indexed.join(flagged.select(_ROW, REASONS, SEVERITY), on=_ROW, how="inner").drop(
        _ROW
    )
    before_dedupe = clean.height
    if config.dedupe_keys:
        clean = clean.filter(_kept(config))
    if config.drop_columns:
        clean = clean.drop([c for c in config.drop_columns if c in clean.columns])
        quarantine = quarantine.drop([c for c in config.drop_columns if c in quarantine.columns])
    stats = {
        "rows_in": rows_in,
        "rows_out": clean.height,
        "rows_quarantined": quarantine.height,
        "rows_deduplicated": before_dedupe - clean.height,
        "steps": step_stats,
        "checks": check_stats,
    }
    return FieldRulesResult(clean=clean, quarantine=quarantine, stats=stats)
