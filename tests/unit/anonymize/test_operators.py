from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from typing import Any

import polars as pl
import pytest

from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.operators import column_outputs, run_outputs
from etl_express.anonymize.rules import parse_rules
from etl_express.errors import ValidationFailed


def apply(
    frame: pl.DataFrame, rule: dict[str, Any], keys: KeyRing, column: str = "v"
) -> pl.DataFrame:
    parsed = parse_rules({"columns": {column: rule}}).columns[column]
    return run_outputs(frame, [column_outputs(column, parsed, frame.schema[column], keys)])


def values(frame: pl.DataFrame, rule: dict[str, Any], keys: KeyRing) -> list[Any]:
    return apply(frame, rule, keys)["v"].to_list()


TEXT = pl.DataFrame({"v": ["alice@example.com", "Ёжик Иванович", None, "", "日本語テキスト"]})


def test_keep_drop_nullify_redact(keys: KeyRing) -> None:
    assert values(TEXT, {"operator": "keep"}, keys) == TEXT["v"].to_list()
    assert apply(TEXT, {"operator": "drop"}, keys).width == 0
    assert values(TEXT, {"operator": "nullify"}, keys) == [None] * 5
    redacted = values(TEXT, {"operator": "redact", "value": "X"}, keys)
    assert redacted == ["X", "X", None, "X", "X"]


def test_nullify_keeps_type_and_height(keys: KeyRing) -> None:
    frame = pl.DataFrame({"v": [1, 2, 3]})
    out = apply(frame, {"operator": "nullify"}, keys)
    assert out.height == 3 and out.schema["v"] == pl.Int64


def test_mask_keeps_first_and_last(keys: KeyRing) -> None:
    out = values(TEXT, {"operator": "mask", "keep_first": 2, "keep_last": 3}, keys)
    assert out[0] == "al" + "*" * 12 + "com"
    assert out[1] == "Ёж" + "*" * 8 + "вич"  # characters, not bytes
    assert out[2] is None and out[3] == ""


def test_mask_short_values_fully(keys: KeyRing) -> None:
    frame = pl.DataFrame({"v": ["abc", "abcdef"]})
    assert values(frame, {"operator": "mask", "keep_first": 2, "keep_last": 2}, keys) == [
        "***",
        "ab**ef",
    ]


def test_mask_preserves_layout_characters(keys: KeyRing) -> None:
    frame = pl.DataFrame({"v": ["+7 (931) 491-26-60"]})
    rule = {"operator": "mask", "keep_last": 2, "char": "#", "preserve": " ()-+"}
    assert values(frame, rule, keys) == ["+# (###) ###-##-60"]


def test_mask_integers_and_refuses_floats(keys: KeyRing) -> None:
    assert values(pl.DataFrame({"v": [1234567]}), {"operator": "mask", "keep_last": 2}, keys) == [
        "*****67"
    ]
    with pytest.raises(ValidationFailed) as info:
        values(pl.DataFrame({"v": [1.5]}), {"operator": "mask"}, keys)
    assert info.value.errors[0].path == "$.columns.v.operator"
    assert "'v'" in info.value.errors[0].message and "Float64" in info.value.errors[0].message


def test_pseudonym_equals_reference_hmac(keys: KeyRing) -> None:
    out = values(TEXT, {"operator": "pseudonym", "prefix": "em_", "length": 20}, keys)
    subkey = keys.subkey("pseudonym").encode()
    expected = hmac.new(subkey, b"alice@example.com", hashlib.sha256).hexdigest()[:20]
    assert out[0] == "em_" + expected
    assert out[2] is None
    assert len(set(out)) == 5  # unicode and empty strings get their own tokens


def test_pseudonym_deterministic_and_key_dependent(keys: KeyRing, other_keys: KeyRing) -> None:
    rule = {"operator": "pseudonym", "alphabet": "base32", "length": 24}
    first, again = values(TEXT, rule, keys), values(TEXT, rule, keys)
    assert first == again
    other = values(TEXT, rule, other_keys)
    assert all(a != b for a, b in zip(first, other, strict=True) if a is not None)
    assert all(
        len(t) == 24 and set(t) <= set("abcdefghijklmnopqrstuvwxyz234567") for t in first if t
    )


def test_pseudonym_same_value_same_token_across_columns(keys: KeyRing) -> None:
    frame = pl.DataFrame({"a": ["x@y.z", "q"], "b": ["q", "x@y.z"]})
    rules = parse_rules({"columns": {c: {"operator": "pseudonym"} for c in "ab"}})
    out = run_outputs(frame, [column_outputs(c, rules.columns[c], pl.String, keys) for c in "ab"])
    assert out["a"].to_list() == out["b"].reverse().to_list()


def test_pseudonym_of_integers_and_dates_refuses_floats(keys: KeyRing) -> None:
    ints = values(pl.DataFrame({"v": [42, None]}), {"operator": "pseudonym"}, keys)
    assert ints[0] == values(pl.DataFrame({"v": ["42"]}), {"operator": "pseudonym"}, keys)[0]
    dates = values(pl.DataFrame({"v": [dt.date(2020, 1, 2)]}), {"operator": "pseudonym"}, keys)
    assert dates[0] is not None
    with pytest.raises(ValidationFailed, match="pseudonym needs"):
        values(pl.DataFrame({"v": [0.1]}), {"operator": "pseudonym"}, keys)


def test_fake_with_token_column(keys: KeyRing) -> None:
    out = apply(
        pl.DataFrame({"v": ["Иванов Иван", None, "Иванов Иван"]}),
        {"operator": "fake", "kind": "person_name", "token_column": "pid"},
        keys,
    )
    assert out.columns == ["v", "pid"]
    assert out["v"][0] == out["v"][2] and out["v"][1] is None
    assert out["pid"][0] == out["pid"][2] and len(out["pid"][0]) == 32


def test_generalize_dates_text_and_typed(keys: KeyRing) -> None:
    text = pl.DataFrame({"v": ["1968-01-16", "17.01.1972", "garbage", None]})
    rule = {"operator": "generalize", "kind": "date", "to": "month"}
    assert values(text, rule, keys) == ["1968-01", "1972-01", None, None]
    typed = pl.DataFrame({"v": [dt.date(1968, 1, 16), dt.date(1972, 12, 31)]})
    rule["to"] = "year"
    assert values(typed, rule, keys) == [dt.date(1968, 1, 1), dt.date(1972, 1, 1)]
    with pytest.raises(ValidationFailed, match="date or text"):
        values(pl.DataFrame({"v": [1]}), rule, keys)


def test_generalize_age_bands(keys: KeyRing) -> None:
    frame = pl.DataFrame({"v": [5, 18, 29, 30, 70, None]})
    rule = {"operator": "generalize", "kind": "age", "bands": [18, 30, 65]}
    assert values(frame, rule, keys) == ["<18", "18-29", "18-29", "30-64", "65+", None]
    with pytest.raises(ValidationFailed) as info:
        values(pl.DataFrame({"v": ["x"]}), rule, keys)
    assert info.value.errors[0].path == "$.columns.v.kind"


def test_generalize_number_ranges(keys: KeyRing) -> None:
    frame = pl.DataFrame({"v": [35447.46, 0.0, 999.99, None]})
    rule = {"operator": "generalize", "kind": "number", "width": 1000}
    assert values(frame, rule, keys) == ["35000–36000", "0–1000", "0–1000", None]


def test_generalize_address(keys: KeyRing) -> None:
    frame = pl.DataFrame(
        {
            "v": [
                "г. Москва, ул. Ленина, д. 1, кв. 2",
                "Свердловская обл., г. Екатеринбург, пр-кт Мира, 5",
                "12 Oak St, Springfield, IL 62704",
                "пер. Спартака, д. 137",
                "с. Азов (Рост.), алл. Кубанская, д. 7/7, 498970",
                "пгт Смирных, ул. Осипенко, д. 8",
            ]
        }
    )
    city = {"operator": "generalize", "kind": "address", "to": "city"}
    assert values(frame, city, keys) == [
        "Москва",
        "Екатеринбург",
        "Springfield",
        None,
        "Азов (Рост.)",
        "Смирных",
    ]
    region = {**city, "to": "region"}
    assert values(frame, region, keys)[1:3] == ["Свердловская обл.", "IL"]


def test_empty_frame(keys: KeyRing) -> None:
    empty = pl.DataFrame({"v": []}, schema={"v": pl.String})
    for rule in (
        {"operator": "pseudonym"},
        {"operator": "fake", "kind": "inn12"},
        {"operator": "mask", "keep_last": 2},
        {"operator": "generalize", "kind": "date"},
    ):
        assert apply(empty, rule, keys).height == 0
