"""Field rules stage: cleaning steps, then checks (quarantine by severity), then dedupe.

Every step writes a helper column, so the null count after each step is known in O(1)
(polars keeps null counts per column) and the run records how many values each step
nullified (failed conversion, invalid phone, ...) or filled (defaults). One lazy query does
the whole chunk.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl
import pyarrow as pa

from etl_express.stages.checks import check_expr
from etl_express.stages.cleaning import apply_step, step_name
from etl_express.stages.config import FieldRulesConfig
from etl_express.stages.errors import SafeMessageError

REASONS = "_etlx_reasons"
SEVERITY = "_etlx_severity"
_OK = "__etlx_ok_"
_ROW = "__etlx_row"


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
    wanted += [c.column for c in config.checks if c.column not in produced]
    return sorted({c for c in wanted if c not in frame.columns})


def _clean(
    frame: pl.DataFrame, config: FieldRulesConfig
) -> tuple[pl.DataFrame, list[dict[str, Any]]]:
    lf = frame.lazy()
    helpers: list[tuple[str, str, str, str]] = []  # (helper, previous, column, step)
    finals: dict[str, str] = {}
    schema = dict(frame.schema)
    for f_index, rule in enumerate(config.fields):
        previous = rule.column
        for s_index, step in enumerate(rule.steps):
            helper = f"__etlx_f{f_index}_s{s_index}"
            lf = apply_step(lf, step, previous, helper, schema[previous])
            schema[helper] = lf.collect_schema()[helper]
            helpers.append((helper, previous, rule.column, step_name(step)))
            previous = helper
        finals[rule.rename or rule.column] = previous
    out = lf.collect()
    stats = []
    for helper, previous, column, name in helpers:
        delta = out[helper].null_count() - out[previous].null_count()
        stats.append(
            {"column": column, "step": name, "nullified": max(delta, 0), "filled": max(-delta, 0)}
        )
    renamed = out.with_columns([pl.col(h).alias(c) for c, h in finals.items()])
    keep = [c for c in renamed.columns if not c.startswith("__etlx_f")]
    return renamed.select(keep), stats


def _checks(
    frame: pl.DataFrame, config: FieldRulesConfig
) -> tuple[pl.DataFrame, pl.DataFrame, list[dict[str, Any]]]:
    if not config.checks:
        return (
            frame,
            frame.head(0).with_columns(
                pl.lit(None, pl.String).alias(REASONS), pl.lit(None, pl.String).alias(SEVERITY)
            ),
            [],
        )
    oks = [check_expr(c).alias(f"{_OK}{i}") for i, c in enumerate(config.checks)]
    flagged = frame.with_columns(oks)
    stats = []
    for i, check in enumerate(config.checks):
        failed = flagged.height - int(flagged[f"{_OK}{i}"].sum())
        stats.append({"check": check.label, "severity": check.severity, "failed": failed})
        if failed and check.severity == "fail":
            raise SafeMessageError(f"check {check.label} failed on {failed} rows (severity fail)")
    quarantined = [i for i, c in enumerate(config.checks) if c.severity == "quarantine"]
    reason_parts = [
        pl.when(~pl.col(f"{_OK}{i}")).then(pl.lit(config.checks[i].label)) for i in quarantined
    ]
    bad = (
        pl.any_horizontal([~pl.col(f"{_OK}{i}") for i in quarantined])
        if quarantined
        else pl.lit(False)
    )
    helper_cols = [f"{_OK}{i}" for i in range(len(config.checks))]
    reasons = (
        pl.concat_str(reason_parts, separator="; ", ignore_nulls=True)
        if reason_parts
        else pl.lit(None, pl.String)
    )
    quarantine = (
        flagged.filter(bad)
        .with_columns(reasons.alias(REASONS), pl.lit("quarantine").alias(SEVERITY))
        .drop(helper_cols)
    )
    clean = flagged.filter(~bad).drop(helper_cols)
    return clean, quarantine, stats


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
        clean = clean.unique(subset=list(config.dedupe_keys), keep="first", maintain_order=True)
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
