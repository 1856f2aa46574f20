from __future__ import annotations

from pathlib import Path

import pytest

from etl_express.anonymize.rules import (
    FakeRule,
    GeneralizeDate,
    MaskRule,
    TextRedact,
    load_rules_file,
    parse_rules,
)
from etl_express.errors import ValidationFailed


def _paths(payload: object) -> list[tuple[str, str]]:
    with pytest.raises(ValidationFailed) as info:
        parse_rules(payload)
    return [(e.path, e.message) for e in info.value.errors]


def test_valid_rules_parse_into_typed_operators() -> None:
    rules = parse_rules(
        {
            "columns": {
                "phone": {"operator": "mask", "keep_last": 2},
                "name": {"operator": "fake", "kind": "person_name", "token_column": "pid"},
                "bd": {"operator": "generalize", "kind": "date", "to": "year"},
                "id": {"operator": "keep"},
            },
            "text_columns": {
                "c": {"language": "ru", "entities": {"PERSON": {"operator": "redact"}}}
            },
            "quasi_identifiers": ["bd"],
        }
    )
    assert isinstance(rules.columns["phone"], MaskRule)
    assert isinstance(rules.columns["name"], FakeRule)
    assert isinstance(rules.columns["bd"], GeneralizeDate)
    assert isinstance(rules.text_columns["c"].entities["PERSON"], TextRedact)
    assert rules.personal_columns() == ["phone", "name"]  # generalized: judged by k-anonymity


@pytest.mark.parametrize(
    ("payload", "path", "fragment"),
    [
        (
            {"columns": {"e": {"operator": "mask", "keep_first": -1}}},
            "$.columns.e.keep_first",
            "greater than",
        ),
        ({"columns": {"e": {"operator": "bogus"}}}, "$.columns.e", "unknown operator 'bogus'"),
        ({"columns": {"e": {}}}, "$.columns.e.operator", "required"),
        ({"columns": {"e": {"operator": "generalize"}}}, "$.columns.e.kind", "required"),
        (
            {"columns": {"e": {"operator": "generalize", "kind": "number"}}},
            "$.columns.e.width",
            "required",
        ),
        ({"columns": {"e": {"operator": "redact", "foo": 1}}}, "$.columns.e.foo", "Extra"),
        ({"columns": {"e": {"operator": "keep", "personal": True}}}, "$.columns.e", "leak"),
        (
            {"columns": {"mask": {"operator": "mask", "char": "**"}}},
            "$.columns.mask.char",
            "1 character",
        ),
        (
            {"text_columns": {"c": {"entities": {"NOPE": {"operator": "redact"}}}}},
            "$.text_columns.c.entities",
            "unknown entity 'NOPE'",
        ),
        (
            {"text_columns": {"c": {"entities": {"RU_OMS": {"operator": "fake"}}}}},
            "$.text_columns.c.entities",
            "fake is not available",
        ),
        (
            {"columns": {"a": {"operator": "drop"}}, "quasi_identifiers": ["a"]},
            "$.quasi_identifiers",
            "dropped",
        ),
        ({"surprise": 1}, "$.surprise", "Extra"),
        ([1, 2], "$", "mapping"),
    ],
)
def test_errors_name_the_field(payload: object, path: str, fragment: str) -> None:
    errors = _paths(payload)
    assert any(p == path and fragment in m for p, m in errors), errors


def test_rules_file_yaml(tmp_path: Path) -> None:
    f = tmp_path / "r.yaml"
    f.write_text("columns:\n  email: {operator: pseudonym, prefix: em_}\n", encoding="utf-8")
    assert load_rules_file(f).columns["email"].operator == "pseudonym"
    f.write_text("columns: [\n", encoding="utf-8")
    with pytest.raises(ValidationFailed, match="not valid YAML"):
        load_rules_file(f)


def test_generalized_columns_opt_into_the_leak_check_only_explicitly() -> None:
    rules = parse_rules(
        {
            "columns": {
                "bd": {"operator": "generalize", "kind": "date", "to": "year"},
                "salary": {"operator": "generalize", "kind": "number", "width": 1000,
                           "personal": True},
            }
        }
    )  # fmt: skip
    assert rules.personal_columns() == ["salary"]
