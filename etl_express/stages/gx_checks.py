"""Row-level expectations that Great Expectations itself evaluates, one chunk at a time.

The common checks run as polars expressions with GX's semantics (`checks.py`: 4 checks on
1M rows 0.08 s against GX's 5.3 s); these are the value-wise expectations no expression of
ours implements, and the row-wise ones over several columns of a row (a pair, a list). GX's
pandas engine runs each on the chunk's columns with result_format COMPLETE, and the rows it
lists as unexpected fail the check. Nulls count as GX counts them (a column's nulls pass;
a pair with one side missing is compared).

Measured here on 100k values: strftime format 0.86 s, JSON parseable 0.55 s, regex lists
0.09 s, dateutil parseable 4.2 s; importing GX costs 4-7 s, paid only by a process that
runs one of these. Not run (refused when the script is saved, see spec.field_rules): what
judges other rows (increasing, z-scores, outliers; a chunk is not the batch), the column's
type rather than its values (of_type, in_type_list), LIKE patterns (GX evaluates them in SQL
only) and JSON schemas (115 s per 100k values).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from typing import Any, Final

import polars as pl

from etl_express.gx_runnable import GX_COLUMN_EXPECTATIONS, GX_ROW_WISE_TABLE_EXPECTATIONS
from etl_express.stages.config import Check
from etl_express.stages.errors import SafeMessageError

GX_EXPECTATIONS: Final = GX_COLUMN_EXPECTATIONS | GX_ROW_WISE_TABLE_EXPECTATIONS

_LOCK = threading.Lock()  # one GX context per process; its batch definition is reused
_CONTEXT: dict[str, Any] = {}


def _batch_definition() -> Any:
    if "definition" not in _CONTEXT:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False)
        asset = context.data_sources.add_pandas("etlx_chunks").add_dataframe_asset("chunk")
        _CONTEXT["definition"] = asset.add_batch_definition_whole_dataframe("whole")
    return _CONTEXT["definition"]


def _expectation(check: Check) -> Any:
    import great_expectations as gx

    name = "".join(part.title() for part in check.expectation.split("_"))
    if check.column:
        return getattr(gx.expectations, name)(column=check.column, **check.kwargs)
    return getattr(gx.expectations, name)(**check.kwargs)  # its columns are in its kwargs


def gx_passes(frame: pl.DataFrame, checks: Sequence[Check]) -> list[pl.Series]:
    """For each check (all in `GX_EXPECTATIONS`), True where the row of `frame` passes."""
    if not checks:
        return []
    unknown = sorted({c.expectation for c in checks} - GX_EXPECTATIONS)
    if unknown:
        raise SafeMessageError(f"expectation {unknown[0]} is not supported as a row-level check")
    columns = sorted({c for check in checks for c in check.columns})
    data = frame.select(columns).to_pandas()
    passes = []
    with _LOCK:
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": data})
        for check in checks:
            # GX's messages can quote a value: name the check and the column's type only.
            types = ", ".join(f"{c} ({frame.schema[c]})" for c in check.columns)
            refused = SafeMessageError(
                f"check {check.label} could not run in Great Expectations on {types}"
            )
            try:
                result = batch.validate(_expectation(check), result_format="COMPLETE")
            except Exception:
                raise refused from None
            if (result.exception_info or {}).get("raised_exception"):
                raise refused
            failed = [int(i) for i in result.result.get("unexpected_index_list") or []]
            ok = pl.repeat(True, frame.height, dtype=pl.Boolean, eager=True)
            passes.append(ok.scatter(failed, False) if failed else ok)
    return passes
