from __future__ import annotations

import pytest
from pydantic import ValidationError

from etl_express.spec.field_rules import FieldRulesSpec
from etl_express.spec.paths import field_errors, join_path, json_path


def test_join_path_quotes_keys_that_are_not_words() -> None:
    assert (
        join_path("$.fields", "email", "steps", 2, "pattern") == "$.fields.email.steps[2].pattern"
    )
    assert join_path("$.fields", "first name") == '$.fields["first name"]'
    assert join_path("$", 'a"b') == '$["a\\"b"]'


def test_union_tags_are_not_part_of_the_path() -> None:
    payload = {"fields": {"trim": {"steps": [{"op": "trim", "side": "middle"}]}}}
    with pytest.raises(ValidationError) as exc:
        FieldRulesSpec.model_validate(payload)
    errors = field_errors(exc.value, payload)
    assert [e.path for e in errors] == ["$.fields.trim.steps[0].side"]
    assert errors[0].message.startswith("side: Input should be")


def test_a_column_named_like_a_tag_keeps_its_place() -> None:
    # "cast" is both a column name and a step tag here: the walk follows the payload.
    assert json_path(("fields", "cast", "steps", 0, "cast", "to"), {
        "fields": {"cast": {"steps": [{"op": "cast", "to": "x"}]}}}) == (
        "$.fields.cast.steps[0].to"
    )  # fmt: skip


def test_missing_field_is_named_even_though_absent() -> None:
    assert json_path(("dedupe", "keys"), {"dedupe": {}}) == "$.dedupe.keys"
