from __future__ import annotations

import pytest

from etl_express.stages.adapter import cast_of, field_rules_config
from etl_express.stages.config import Cast, Check, Email, Phone, Trim
from etl_express.stages.errors import SafeMessageError


def test_arrow_type_names_map_to_casts() -> None:
    assert cast_of("int64") == Cast("bigint")
    assert cast_of("decimal128(12,2)", strict=True) == Cast("decimal", 12, 2, strict=True)
    assert cast_of("timestamp[us, tz=UTC]").to == "timestamptz"
    assert cast_of("timestamp[us]").to == "datetime"
    assert cast_of("date32").to == "date"
    with pytest.raises(SafeMessageError, match="json"):
        cast_of("json")


def test_spec_becomes_config_and_absent_optional_fields_are_skipped() -> None:
    spec = {
        "fields": {
            "email": {
                "steps": [{"op": "email", "invalid": "keep"}],
                "validations": [{"expectation": "expect_column_values_to_not_be_null",
                                 "severity": "quarantine"}],
            },
            "phone": {"steps": [{"op": "trim", "side": "left"}, {"op": "phone_e164",
                                                                  "default_region": "GB"}]},
            "missing": {"steps": [{"op": "trim"}]},
        },
        "dedupe": {"keys": ["id"], "keep": "last"},
        "table_validations": [{"expectation": "expect_column_values_to_be_unique",
                               "kwargs": {"column": "id"}, "severity": "warn"}],
    }  # fmt: skip
    config = field_rules_config(spec, {"email", "phone", "id"})
    assert [r.column for r in config.fields] == ["email", "phone"]
    assert config.fields[0].steps == (Email(keep_invalid=True),)
    assert config.fields[1].steps == (Trim("left"), Phone(("GB", "RU", "US")))
    assert config.checks == (
        Check("expect_column_values_to_not_be_null", "email", {}, "quarantine"),
        Check("expect_column_values_to_be_unique", "id", {}, "warn"),
    )
    assert (config.dedupe_keys, config.dedupe_keep) == (("id",), "last")


def test_required_field_missing_and_unsupported_inputs_are_named() -> None:
    with pytest.raises(SafeMessageError, match="required field inn"):
        field_rules_config({"fields": {"inn": {"required": True}}}, {"id"})
    with pytest.raises(SafeMessageError, match="DE"):
        field_rules_config({"fields": {"p": {"steps": [{"op": "phone_e164",
                                                        "default_region": "DE"}]}}})  # fmt: skip
    phone = {"fields": {"p": {"steps": [{"op": "phone_e164", "region_column": "country"}]}}}
    assert field_rules_config(phone, {"p", "country"}).fields[0].steps == (
        Phone(("RU", "US", "GB"), region_column="country"),
    )
    with pytest.raises(SafeMessageError, match="field p: phone_e164 region_column 'country'"):
        field_rules_config(phone, {"p"})
    with pytest.raises(SafeMessageError, match="expect_table_row_count_to_equal"):
        field_rules_config(
            {
                "table_validations": [
                    {"expectation": "expect_table_row_count_to_equal", "kwargs": {"value": 3}}
                ]
            }
        )
