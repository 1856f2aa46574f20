"""Expectations that Great Expectations itself runs inside the field rules (gx_checks)."""

from __future__ import annotations

import polars as pl
import pytest

from etl_express.spec import parse_script
from etl_express.stages.adapter import field_rules_config
from etl_express.stages.config import Cast, Check, FieldRule, FieldRulesConfig, Trim
from etl_express.stages.errors import SafeMessageError
from etl_express.stages.field_rules import REASONS, apply_field_rules
from etl_express.stages.gx_checks import gx_passes

FRAME = pl.DataFrame(
    {
        "day": ["2024-01-02", "2024-13-01", None, "02.01.2024", "2024-02-29"],
        "doc": ['{"a": 1}', "{a", None, "[1, 2]", "плохо"],
        "code": ["AB-1", "ab-2", "XY-3", None, "Ж-5"],
    }
)


def _failing(check: Check) -> list[int]:
    (passes,) = gx_passes(FRAME, [check])
    return [i for i, ok in enumerate(passes.to_list()) if not ok]


def test_gx_fails_exactly_the_rows_it_lists_and_nulls_pass() -> None:
    strftime = Check(
        "expect_column_values_to_match_strftime_format", "day", {"strftime_format": "%Y-%m-%d"}
    )
    assert _failing(strftime) == [1, 3]
    assert _failing(Check("expect_column_values_to_be_json_parseable", "doc")) == [1, 4]
    assert _failing(Check("expect_column_values_to_be_dateutil_parseable", "day")) == [1]
    regexes = {"regex_list": [r"^[A-Z]{2}-", r"^Ж"]}
    assert _failing(Check("expect_column_values_to_match_regex_list", "code", regexes)) == [1]
    assert _failing(Check("expect_column_values_to_not_match_regex_list", "code", regexes)) == [
        0,
        2,
        4,
    ]


def test_script_checks_run_by_gx_quarantine_beside_polars_checks() -> None:
    """From a saved script to quarantined rows: a GX-run check and a polars check on the same
    chunk, after the cleaning steps, with their reasons and counts."""
    spec = parse_script(
        "field_rules",
        {
            "fields": {
                "day": {
                    "steps": [{"op": "trim"}],
                    "validations": [
                        {
                            "expectation": "expect_column_values_to_match_strftime_format",
                            "kwargs": {"strftime_format": "%Y-%m-%d"},
                            "severity": "quarantine",
                        },
                    ],
                },
                "doc": {
                    "validations": [
                        {
                            "expectation": "expect_column_values_to_be_json_parseable",
                            "severity": "warn",
                        },
                    ],
                },
                "code": {
                    "validations": [
                        {
                            "expectation": "expect_column_values_to_not_be_null",
                            "severity": "quarantine",
                        },
                    ],
                },
            }
        },
    )
    frame = FRAME.with_columns(pl.col("day").str.pad_start(12))  # the trim step runs first
    config = field_rules_config(spec.model_dump(mode="json", exclude_none=True), set(FRAME.columns))
    result = apply_field_rules(frame, config)
    assert result.clean["day"].to_list() == ["2024-01-02", None, "2024-02-29"]
    assert result.quarantine[REASONS].to_list() == [
        "expect_column_values_to_match_strftime_format(day)",
        "expect_column_values_to_match_strftime_format(day); "
        "expect_column_values_to_not_be_null(code)",
    ]
    failed = {c["check"]: c["failed"] for c in result.stats["checks"]}
    assert failed == {
        "expect_column_values_to_match_strftime_format(day)": 2,
        "expect_column_values_to_be_json_parseable(doc)": 2,
        "expect_column_values_to_not_be_null(code)": 1,
    }
    assert result.stats["rows_in"] == 5 and result.stats["rows_out"] == 3


def test_gx_check_after_a_cast_sees_the_cleaned_column_and_a_long_chunk() -> None:
    """Row positions survive a chunk longer than GX's default result lists (COMPLETE)."""
    rows = 50_000
    frame = pl.DataFrame({"n": [str(i) if i % 7 else f"x{i}" for i in range(rows)]})
    config = FieldRulesConfig(
        fields=(FieldRule("n", (Trim(),)),),
        checks=(
            Check(
                "expect_column_values_to_match_regex_list",
                "n",
                {"regex_list": [r"^\d+$"]},
                severity="quarantine",
            ),
        ),
    )
    result = apply_field_rules(frame, config)
    assert result.stats["rows_quarantined"] == len(range(0, rows, 7))
    assert result.quarantine["n"].head(2).to_list() == ["x0", "x7"]
    assert result.clean.height == rows - len(range(0, rows, 7))
    # a cast first: the GX check sees the cast values' text
    cast = FieldRulesConfig(fields=(FieldRule("n", (Cast("string"),)),), checks=config.checks)
    assert apply_field_rules(frame, cast).stats["rows_quarantined"] == len(range(0, rows, 7))


def test_fail_severity_and_a_gx_error_name_the_check_without_values() -> None:
    frame = pl.DataFrame({"day": ["SECRET-VALUE"], "n": [1]})
    fail = FieldRulesConfig(
        checks=(
            Check(
                "expect_column_values_to_match_strftime_format",
                "day",
                {"strftime_format": "%Y"},
                severity="fail",
            ),
        )
    )
    with pytest.raises(SafeMessageError) as info:
        apply_field_rules(frame, fail)
    assert "SECRET" not in str(info.value) and "1 rows" in str(info.value)
    # kwargs GX refuses (a spec saved through the API cannot have them): the check is named
    broken = FieldRulesConfig(
        checks=(
            Check(
                "expect_column_values_to_match_regex_list", "day", {"regex_list": "SECRET-VALUE"}
            ),
        )
    )
    with pytest.raises(SafeMessageError, match="could not run in Great Expectations") as info:
        apply_field_rules(frame, broken)
    assert "SECRET" not in str(info.value)


def test_empty_chunk() -> None:
    frame = pl.DataFrame({"doc": []}, schema={"doc": pl.String})
    config = FieldRulesConfig(checks=(Check("expect_column_values_to_be_json_parseable", "doc"),))
    result = apply_field_rules(frame, config)
    assert result.clean.height == 0 and result.stats["checks"][0]["failed"] == 0


def test_table_validations_of_one_row_quarantine_by_their_columns() -> None:
    frame = pl.DataFrame(
        {
            "started": ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"],
            "ended": ["2024-01-05", "2024-01-15", None, "2024-04-01"],
            "a": [60, 50, 10, 40],
            "b": [40, 50, 20, 60],
        }
    ).with_columns(pl.col("started", "ended").str.to_date())
    spec = {
        "table_validations": [
            {"expectation": "expect_column_pair_values_a_to_be_greater_than_b",
             "kwargs": {"column_A": "ended", "column_B": "started", "or_equal": True},
             "severity": "quarantine"},
            {"expectation": "expect_multicolumn_sum_to_equal",
             "kwargs": {"column_list": ["a", "b"], "sum_total": 100}, "severity": "warn"},
        ]
    }  # fmt: skip
    config = field_rules_config(spec, set(frame.columns))
    result = apply_field_rules(frame, config)
    pair = "expect_column_pair_values_a_to_be_greater_than_b(ended, started)"
    # a pair with one side missing is compared, as GX does
    assert result.quarantine[REASONS].to_list() == [pair, pair]
    assert result.quarantine["a"].to_list() == [50, 10]
    assert result.clean["a"].to_list() == [60, 40]
    failed = {c["check"]: c["failed"] for c in result.stats["checks"]}
    assert failed == {pair: 2, "expect_multicolumn_sum_to_equal(a, b)": 1}
    with pytest.raises(SafeMessageError, match="columns the input lacks: started"):
        apply_field_rules(frame.drop("started"), config)
