from __future__ import annotations

import datetime as dt

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


def test_between_compares_iso_string_bounds_as_the_columns_temporal_type() -> None:
    frame = pl.DataFrame(
        {
            "birth": [dt.date(1899, 12, 31), dt.date(1985, 6, 1), None],
            "seen": [
                dt.datetime(2020, 1, 1, tzinfo=dt.UTC),
                dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
                None,
            ],
        }
    )
    birth = Check(
        "expect_column_values_to_be_between",
        "birth",
        {"min_value": "1900-01-01", "max_value": "2026-12-31"},
    )
    seen = Check(
        "expect_column_values_to_be_between", "seen", {"min_value": "2025-01-01T00:00:00+00:00"}
    )
    result = frame.select(
        check_expr(birth, frame.schema["birth"]).alias("birth"),
        check_expr(seen, frame.schema["seen"]).alias("seen"),
    )
    assert result["birth"].to_list() == [False, True, True]  # nulls pass, as in GX
    assert result["seen"].to_list() == [False, True, True]
