from __future__ import annotations

from etl_express.spec import ColumnSchema, FieldRulesSpec, parse_script
from etl_express.spec.field_rules import (
    GX_EXPECTATIONS,
    GX_TABLE_EXPECTATIONS,
    PHONE_REGIONS,
    POLARS_EXPECTATIONS,
    RUNNABLE_EXPECTATIONS,
    step_output_type,
)
from etl_express.spec.gx_catalog import expectations


def test_phone_regions_match_the_stage() -> None:
    from etl_express.stages.phone import REGIONS

    assert set(PHONE_REGIONS) == set(REGIONS)


def test_runnable_expectations_match_the_stage_and_gx() -> None:
    from etl_express.stages import gx_checks
    from etl_express.stages.checks import SUPPORTED_EXPECTATIONS

    assert POLARS_EXPECTATIONS == SUPPORTED_EXPECTATIONS
    assert GX_EXPECTATIONS == gx_checks.GX_COLUMN_EXPECTATIONS
    assert GX_TABLE_EXPECTATIONS == gx_checks.GX_ROW_WISE_TABLE_EXPECTATIONS
    assert all(expectations()[name]["row_level"] for name in GX_TABLE_EXPECTATIONS)
    assert {expectations()[name]["domain"] for name in GX_TABLE_EXPECTATIONS} == {
        "column_pair",
        "multicolumn",
    }
    assert not POLARS_EXPECTATIONS & GX_EXPECTATIONS
    assert RUNNABLE_EXPECTATIONS == POLARS_EXPECTATIONS | GX_EXPECTATIONS
    assert all(expectations()[name]["row_level"] for name in RUNNABLE_EXPECTATIONS)


def test_named_columns_cover_fields_and_dedupe() -> None:
    spec = parse_script("field_rules", {"fields": {"email": {}}, "dedupe": {"keys": ["id"]}})
    assert isinstance(spec, FieldRulesSpec)
    assert spec.named_columns() == [("$.fields.email", "email"), ("$.dedupe.keys[0]", "id")]


def test_phone_region_column_is_a_named_column() -> None:
    step = {"op": "phone_e164", "region_column": "country"}
    spec = parse_script("field_rules", {"fields": {"phone": {"steps": [{"op": "trim"}, step]}}})
    assert isinstance(spec, FieldRulesSpec)
    assert spec.named_columns() == [
        ("$.fields.phone", "phone"),
        ("$.fields.phone.steps[1].region_column", "country"),
    ]


def test_steps_decide_the_output_type() -> None:
    spec = parse_script(
        "field_rules",
        {
            "fields": {
                "a": {"steps": [{"op": "cast", "to": "int64"}, {"op": "default", "value": 0}]},
                "b": {"steps": [{"op": "parse_date", "formats": ["%d.%m.%Y"]}]},
                "c": {"steps": [{"op": "trim"}]},
            }
        },
    )
    assert isinstance(spec, FieldRulesSpec)
    text = ColumnSchema(name="x", type="string")
    assert step_output_type(spec.fields["a"], text) == "int64"
    assert step_output_type(spec.fields["b"], text) == "date32"
    assert step_output_type(spec.fields["c"], text) == "string"
    assert step_output_type(spec.fields["c"], None) is None


def test_every_cast_the_spec_accepts_the_stage_builds() -> None:
    import pytest

    from etl_express.errors import ValidationFailed
    from etl_express.stages.adapter import cast_of

    accepted = ["string", "int8", "int32", "int64", "uint16", "uint64", "float32", "float64"]
    accepted += ["bool", "date32"]
    accepted += ["decimal128(12,2)", "timestamp[us]", "timestamp[ms, tz=UTC]"]
    for target in accepted:
        parse_script("field_rules", {"fields": {"x": {"steps": [{"op": "cast", "to": target}]}}})
        cast_of(target)
    for target in ["binary", "json", "time64[us]", "list<int64>", "duration[us]"]:
        with pytest.raises(ValidationFailed, match="not a cast target"):
            parse_script(
                "field_rules", {"fields": {"x": {"steps": [{"op": "cast", "to": target}]}}}
            )


def test_row_wise_table_validations_are_accepted_and_name_their_columns() -> None:
    spec = parse_script(
        "field_rules",
        {
            "table_validations": [
                {
                    "expectation": "expect_column_pair_values_a_to_be_greater_than_b",
                    "kwargs": {"column_A": "ended", "column_B": "started", "or_equal": True},
                    "severity": "quarantine",
                },
                {
                    "expectation": "expect_multicolumn_sum_to_equal",
                    "kwargs": {"column_list": ["a", "b"], "sum_total": 100},
                    "severity": "warn",
                },
            ]
        },
    )
    assert isinstance(spec, FieldRulesSpec)
    assert [column for _, column in spec.named_columns()] == ["ended", "started", "a", "b"]
