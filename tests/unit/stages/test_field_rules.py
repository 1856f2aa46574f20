from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pyarrow as pa
import pytest

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
    Trim,
)
from etl_express.stages.errors import SafeMessageError
from etl_express.stages.field_rules import REASONS, apply_field_rules


def _one(values: list[object], *steps: object, dtype: pl.DataType = pl.String) -> list[object]:
    frame = pl.DataFrame({"c": values}, schema={"c": dtype})
    config = FieldRulesConfig(fields=(FieldRule("c", tuple(steps)),))  # type: ignore[arg-type]
    return apply_field_rules(frame, config).clean["c"].to_list()


def test_text_steps() -> None:
    assert _one(["  Анна  ", None], Trim(), Case("upper")) == ["АННА", None]
    assert _one(["ivan petrov"], Case("title")) == ["Ivan Petrov"]
    assert _one(["n/a", "x", "-"], NullIf(("n/a", "-"))) == [None, "x", None]
    assert _one([None, "x"], Default("unknown")) == ["unknown", "x"]
    assert _one(["12-34 56"], RegexReplace(r"\D", "")) == ["123456"]
    assert _one([" Ivan.Petrov@Mail.RU ", "not-an-email", "a@b"], Email()) == [
        "ivan.petrov@mail.ru",
        None,
        None,
    ]
    assert _one(["8 916 123 45 67"], Phone()) == ["+79161234567"]


def test_casts_are_exact_and_bad_values_become_null() -> None:
    assert _one(["10.10", "abc", None], Cast("decimal", 12, 2)) == [Decimal("10.10"), None, None]
    assert _one(["1", "2x"], Cast("bigint")) == [1, None]
    assert _one(["yes", "нет", "maybe"], Cast("bool")) == [True, False, None]
    assert _one(["2024-02-29", "2024-02-30"], Cast("date")) == [dt.date(2024, 2, 29), None]
    out = _one(["2024-01-01T10:00:00"], Cast("timestamptz"))
    assert out == [dt.datetime(2024, 1, 1, 10, tzinfo=dt.UTC)]
    assert _one([1, 2], Cast("string"), dtype=pl.Int64) == ["1", "2"]


def test_parse_date_tries_formats_in_order() -> None:
    got = _one(["01.02.1990", "1990-02-01", "02/01/1990"], ParseDate(("%d.%m.%Y", "%Y-%m-%d")))
    assert got == [dt.date(1990, 2, 1), dt.date(1990, 2, 1), None]


def test_stats_count_values_each_step_nullified_or_filled() -> None:
    frame = pl.DataFrame({"id": ["1", "x", "3"], "city": [None, "a", None]})
    config = FieldRulesConfig(
        fields=(FieldRule("id", (Cast("bigint"),)), FieldRule("city", (Default("?"),)))
    )
    stats = apply_field_rules(frame, config).stats
    assert stats["steps"] == [
        {"column": "id", "step": "cast", "nullified": 1, "filled": 0},
        {"column": "city", "step": "default", "nullified": 0, "filled": 2},
    ]


def test_checks_quarantine_with_reasons_and_original_values() -> None:
    frame = pl.DataFrame({"id": ["1", "x", "3", "4"], "email": ["a@b.ru", "c@d.ru", "bad", None]})
    config = FieldRulesConfig(
        fields=(FieldRule("id", (Cast("bigint"),)), FieldRule("email", (Email(),))),
        checks=(
            Check("expect_column_values_to_not_be_null", "id", name="id present"),
            Check("expect_column_values_to_not_be_null", "email", severity="warn"),
        ),
    )
    result = apply_field_rules(frame, config)
    assert result.clean["id"].to_list() == [1, 3, 4]
    assert result.quarantine["id"].to_list() == ["x"]  # as it arrived
    assert result.quarantine[REASONS].to_list() == ["id present"]
    assert result.stats["checks"] == [
        {"check": "id present", "severity": "quarantine", "failed": 1},
        {"check": "expect_column_values_to_not_be_null(email)", "severity": "warn", "failed": 2},
    ]
    assert result.stats["rows_quarantined"] == 1 and result.stats["rows_out"] == 3


def test_fail_severity_raises_without_values() -> None:
    frame = pl.DataFrame({"inn": ["SECRET-VALUE"]})
    config = FieldRulesConfig(
        checks=(
            Check(
                "expect_column_values_to_match_regex", "inn", {"regex": r"^\d+$"}, severity="fail"
            ),
        )
    )
    with pytest.raises(SafeMessageError) as info:
        apply_field_rules(frame, config)
    assert "SECRET" not in str(info.value) and "1 rows" in str(info.value)


def test_dedupe_keeps_first_and_counts() -> None:
    frame = pl.DataFrame({"k": [1, 1, 2, 1], "v": ["a", "b", "c", "d"]})
    result = apply_field_rules(frame, FieldRulesConfig(dedupe_keys=("k",)))
    assert result.clean.rows() == [(1, "a"), (2, "c")]
    assert result.stats["rows_deduplicated"] == 2


def test_dedupe_keeps_last_on_several_keys_in_input_order() -> None:
    frame = pl.DataFrame(
        {
            "k": [1, 1, None, 2, 1, None],
            "j": ["x", "y", None, "x", "x", None],
            "v": ["a", "b", "c", "d", "e", "f"],
        }
    )
    config = FieldRulesConfig(dedupe_keys=("k", "j"), dedupe_keep="last")
    result = apply_field_rules(frame, config)
    # nulls are one key value, as in polars' unique
    assert result.clean["v"].to_list() == ["b", "d", "e", "f"]
    assert result.stats["rows_deduplicated"] == 2


def test_empty_input_keeps_schema() -> None:
    frame = pl.DataFrame({"id": [], "p": []}, schema={"id": pl.String, "p": pl.String})
    config = FieldRulesConfig(
        fields=(FieldRule("id", (Cast("bigint"),)), FieldRule("p", (Phone(),))),
        checks=(Check("expect_column_values_to_not_be_null", "id"),),
    )
    result = apply_field_rules(frame, config)
    assert result.clean.height == 0 and result.clean.schema["id"] == pl.Int64
    assert result.quarantine.height == 0


def test_arrow_input_rename_and_drop() -> None:
    table = pa.table({"Email ": [" X@Y.RU "], "secret": ["s"]})
    config = FieldRulesConfig(
        fields=(FieldRule("Email ", (Email(),), rename="email"),), drop_columns=("secret",)
    )
    clean = apply_field_rules(table, config).clean
    assert clean.columns == ["Email ", "email"] and clean["email"].to_list() == ["x@y.ru"]


def test_missing_columns_are_named() -> None:
    config = FieldRulesConfig(fields=(FieldRule("nope", (Trim(),)),))
    with pytest.raises(SafeMessageError, match="nope"):
        apply_field_rules(pl.DataFrame({"a": [1]}), config)


def test_repetitive_text_column_gives_the_same_values_and_counts() -> None:
    # few distinct values: the steps run once per value and are mapped back to the rows
    frame = pl.DataFrame({"c": ["  moscow ", None, "n/a", " LONDON"] * 50})
    steps = (Trim(), NullIf(("n/a",)), Case("title"), Default("Unknown"))
    result = apply_field_rules(frame, FieldRulesConfig(fields=(FieldRule("c", steps),)))
    assert result.clean["c"].to_list() == ["Moscow", "Unknown", "Unknown", "London"] * 50
    counts = [(s["step"], s["nullified"], s["filled"]) for s in result.stats["steps"]]
    assert counts == [("trim", 0, 0), ("null_if", 50, 0), ("case", 0, 0), ("default", 0, 100)]


def test_repetitive_text_column_with_a_strict_cast_quarantines_its_rows() -> None:
    frame = pl.DataFrame({"c": ["1", " 2", "X"] * 40, "k": list(range(120))})
    steps = (Case("lower"), Cast("int", strict=True))
    result = apply_field_rules(frame, FieldRulesConfig(fields=(FieldRule("c", steps),)))
    assert result.clean["c"].to_list() == [1, 2] * 40
    assert result.quarantine["c"].to_list() == ["X"] * 40
    assert set(result.quarantine[REASONS].to_list()) == {"cast(c)"}


def test_text_casts_to_dates_read_iso_8601_whatever_the_chunk_starts_with() -> None:
    """polars, left to guess, picked a layout from each chunk's first value: the same text
    parsed in one chunk and was null in another."""
    values = ["2024-01-02", "2024-01-02 10:00:00", "2024-01-02T10:00:00.5", "2024-01-02T10:00",
              "2024-01-02T10:00:00+03:00", "2024-01-02 10:00:00Z", "02.01.2024", None]  # fmt: skip
    utc = dt.UTC
    expected = [dt.datetime(2024, 1, 2, tzinfo=utc), dt.datetime(2024, 1, 2, 10, tzinfo=utc),
                dt.datetime(2024, 1, 2, 10, 0, 0, 500000, tzinfo=utc),
                dt.datetime(2024, 1, 2, 10, tzinfo=utc), dt.datetime(2024, 1, 2, 7, tzinfo=utc),
                dt.datetime(2024, 1, 2, 10, tzinfo=utc), None, None]  # fmt: skip
    assert _one(values, Cast("timestamptz")) == expected
    assert _one(values[::-1], Cast("timestamptz")) == expected[::-1]
    naive = _one(values[::-1], Cast("datetime"))[::-1]
    assert naive[:4] == [d.replace(tzinfo=None) for d in expected[:4] if d is not None]
    assert naive[4:] == [None] * 4  # an offset needs timestamptz
    dates = [dt.date(2024, 1, 2)] + [None] * 7
    assert _one(values, Cast("date")) == dates and _one(values[::-1], Cast("date")) == dates[::-1]
