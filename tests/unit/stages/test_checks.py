from __future__ import annotations

import polars as pl
import pytest

from etl_express.stages.checks import check_expr
from etl_express.stages.config import Check
from etl_express.stages.errors import SafeMessageError


def _passes(values: list[object], expectation: str, **kwargs: object) -> list[bool]:
    frame = pl.DataFrame({"c": values}, strict=False)
    return frame.select(check_expr(Check(expectation, "c", dict(kwargs))))["c"].to_list()


def test_nulls_pass_column_map_checks_like_gx() -> None:
    assert _passes([1, None, 5], "expect_column_values_to_be_between", min_value=2) == [
        False,
        True,
        True,
    ]
    assert _passes(["a", None], "expect_column_values_to_not_be_null") == [True, False]


def test_between_strict_bounds() -> None:
    got = _passes([1, 2, 3], "expect_column_values_to_be_between", min_value=1, max_value=3,
                  strict_min=True, strict_max=True)  # fmt: skip
    assert got == [False, True, False]


def test_sets_regex_lengths_unique() -> None:
    assert _passes(["a", "b"], "expect_column_values_to_be_in_set", value_set=["a"]) == [
        True,
        False,
    ]
    assert _passes(["a1", "bb"], "expect_column_values_to_match_regex", regex=r"\d") == [
        True,
        False,
    ]
    assert _passes(["abc", "ж"], "expect_column_value_lengths_to_be_between", min_value=2) == [
        True,
        False,
    ]
    assert _passes([1, 1, 2], "expect_column_values_to_be_unique") == [False, False, True]


def test_unknown_expectation_is_a_safe_error() -> None:
    with pytest.raises(SafeMessageError, match="not supported"):
        check_expr(Check("expect_table_row_count_to_equal", "c"))
