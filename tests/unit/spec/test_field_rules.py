from __future__ import annotations

from etl_express.spec import ColumnSchema, FieldRulesSpec, parse_script
from etl_express.spec.field_rules import PHONE_REGIONS, step_output_type


def test_phone_regions_match_the_stage() -> None:
    from etl_express.stages.phone import REGIONS

    assert set(PHONE_REGIONS) == set(REGIONS)


def test_named_columns_cover_fields_dedupe_and_table_checks() -> None:
    spec = parse_script(
        "field_rules",
        {
            "fields": {"email": {}},
            "dedupe": {"keys": ["id"]},
            "table_validations": [
                {
                    "expectation": "expect_compound_columns_to_be_unique",
                    "kwargs": {"column_list": ["id", "city"]},
                },
                {
                    "expectation": "expect_column_pair_values_to_be_equal",
                    "kwargs": {"column_A": "a", "column_B": "b"},
                },
            ],
        },
    )
    assert isinstance(spec, FieldRulesSpec)
    assert spec.named_columns() == [
        ("$.fields.email", "email"),
        ("$.dedupe.keys[0]", "id"),
        ("$.table_validations[0].kwargs.column_list[0]", "id"),
        ("$.table_validations[0].kwargs.column_list[1]", "city"),
        ("$.table_validations[1].kwargs.column_A", "a"),
        ("$.table_validations[1].kwargs.column_B", "b"),
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
