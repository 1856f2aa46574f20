"""The polars checks fail exactly the rows Great Expectations fails (GX 1.x, pandas engine).

Why polars runs them in production is measured in DESIGN §5 and repeated in
etl_express/stages/checks.py; this test is what makes "same meaning as GX" a fact.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd
import polars as pl
import pytest

from etl_express.stages.checks import check_expr
from etl_express.stages.config import Check

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

FRAME = {
    "n": [1, 5, None, 10, -3, 7],
    "s": ["abc", "x1", None, "Ünïcode", "", "zzzz"],
}
CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("expect_column_values_to_not_be_null", "n", {}),
    ("expect_column_values_to_be_null", "s", {}),
    ("expect_column_values_to_be_between", "n", {"min_value": 0, "max_value": 7}),
    ("expect_column_values_to_be_between", "n",
     {"min_value": 1, "max_value": 10, "strict_min": True, "strict_max": True}),
    ("expect_column_values_to_be_in_set", "s", {"value_set": ["abc", "zzzz"]}),
    ("expect_column_values_to_not_be_in_set", "s", {"value_set": ["abc"]}),
    ("expect_column_values_to_match_regex", "s", {"regex": r"^[a-z]+$"}),
    ("expect_column_values_to_not_match_regex", "s", {"regex": r"\d"}),
    ("expect_column_value_lengths_to_be_between", "s", {"min_value": 1, "max_value": 4}),
    ("expect_column_value_lengths_to_equal", "s", {"value": 4}),
    ("expect_column_values_to_be_unique", "n", {}),
]  # fmt: skip


@pytest.fixture(scope="module")
def gx_batch() -> Any:
    import great_expectations as gx

    context = gx.get_context(mode="ephemeral")
    source = context.data_sources.add_pandas("frames")
    asset = source.add_dataframe_asset("checks")
    definition = asset.add_batch_definition_whole_dataframe("whole")
    frame = pd.DataFrame(FRAME)
    frame["n"] = frame["n"].astype("Float64")
    return definition.get_batch(batch_parameters={"dataframe": frame})


def _gx_failed(batch: Any, expectation: str, column: str, kwargs: dict[str, Any]) -> list[int]:
    import great_expectations as gx

    cls_name = "".join(part.title() for part in expectation.split("_"))
    expectation_cls = getattr(gx.expectations, cls_name)
    result = batch.validate(expectation_cls(column=column, **kwargs), result_format="COMPLETE")
    return sorted(int(i) for i in result.result.get("unexpected_index_list") or [])


@pytest.mark.parametrize(("expectation", "column", "kwargs"), CASES)
def test_same_failing_rows_as_gx(
    gx_batch: Any, expectation: str, column: str, kwargs: dict[str, Any]
) -> None:
    frame = pl.DataFrame(FRAME)
    passes = frame.select(check_expr(Check(expectation, column, kwargs)).alias("ok"))["ok"]
    ours = [i for i, ok in enumerate(passes.to_list()) if not ok]
    assert ours == _gx_failed(gx_batch, expectation, column, kwargs)
