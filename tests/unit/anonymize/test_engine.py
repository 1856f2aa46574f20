from __future__ import annotations

import polars as pl
import pytest
from detector_stub import StubDetector

from etl_express.anonymize.engine import anonymize_frame
from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.rules import parse_rules
from etl_express.errors import ValidationFailed

FRAME = pl.DataFrame(
    {
        "id": [1, 2, 3, 4],
        "name": ["Анна Петрова", "John Smith", None, "Анна Петрова"],
        "email": ["a@x.ru", "j@y.com", "a@x.ru", None],
        "bd": ["1980-05-06", "1990-01-02", None, "1980-05-30"],
        "note": [
            "Пишите Анна Петрова на a@x.ru или +79001234567",
            "Call John Smith",
            None,
            "Пишите Анна Петрова на a@x.ru или +79001234567",
        ],
    }
)
RULES = parse_rules(
    {
        "columns": {
            "id": {"operator": "keep"},
            "name": {"operator": "fake", "kind": "person_name", "token_column": "person_id"},
            "email": {"operator": "pseudonym", "prefix": "em_"},
            "bd": {"operator": "generalize", "kind": "date", "to": "year"},
        },
        "text_columns": {
            "note": {
                "entities": {
                    "PERSON": {"operator": "redact"},
                    "EMAIL_ADDRESS": {"operator": "pseudonym", "prefix": "em_", "length": 16},
                    "PHONE_NUMBER": {"operator": "mask", "keep_last": 2},
                }
            }
        },
        "quasi_identifiers": ["bd"],
    }
)


def test_frame_and_stats(keys: KeyRing) -> None:
    result = anonymize_frame(FRAME, RULES, keys, detector=StubDetector())
    out = result.frame
    assert out.columns == ["id", "name", "person_id", "email", "bd", "note"]
    assert out["bd"].to_list() == ["1980", "1990", None, "1980"]
    assert out["note"][0] == f"Пишите <PERSON> на {out['email'][0]} или " + "*" * 10 + "67"
    assert out["note"][1] == "Call <PERSON>"
    stats = result.stats
    assert stats["key"]["version"] == "7"
    assert stats["columns"]["email"] == {
        "operator": "pseudonym",
        "rows": 4,
        "non_null": 3,
        "changed": 3,
        "nullified": 0,
    }
    assert stats["columns"]["bd"]["operator"] == "generalize:date"
    assert stats["columns"]["id"]["changed"] == 0
    # entities are counted per row: the first text occurs twice
    assert stats["entities"]["PERSON"] == {"found": 3, "replaced": 3}
    assert stats["entities"]["EMAIL_ADDRESS"] == {"found": 2, "replaced": 2}


def test_detection_runs_on_distinct_texts_per_language(keys: KeyRing) -> None:
    detector = StubDetector()
    anonymize_frame(FRAME, RULES, keys, detector=detector)
    assert sorted(detector.calls) == [(1, "en"), (1, "ru")]


def test_deterministic_and_key_dependent(keys: KeyRing, other_keys: KeyRing) -> None:
    a = anonymize_frame(FRAME, RULES, keys, detector=StubDetector()).frame
    b = anonymize_frame(FRAME, RULES, keys, detector=StubDetector()).frame
    c = anonymize_frame(FRAME, RULES, other_keys, detector=StubDetector()).frame
    assert a.equals(b)
    assert a["email"][0] != c["email"][0] and a["person_id"][0] != c["person_id"][0]


def test_unknown_and_unlisted_columns_named(keys: KeyRing) -> None:
    rules = parse_rules({"columns": {"nope": {"operator": "drop"}}, "unlisted_columns": "error"})
    with pytest.raises(ValidationFailed) as info:
        anonymize_frame(FRAME, rules, keys)
    paths = {e.path for e in info.value.errors}
    assert paths == {"$.columns.nope", "$.unlisted_columns"}


def test_unlisted_drop_and_token_clash(keys: KeyRing) -> None:
    rules = parse_rules({"columns": {"id": {"operator": "keep"}}, "unlisted_columns": "drop"})
    assert anonymize_frame(FRAME, rules, keys).frame.columns == ["id"]
    clash = parse_rules(
        {"columns": {"name": {"operator": "fake", "kind": "first_name", "token_column": "id"}}}
    )
    with pytest.raises(ValidationFailed, match="names a column the data has"):
        anonymize_frame(FRAME, clash, keys)


def test_empty_frame(keys: KeyRing) -> None:
    result = anonymize_frame(FRAME.clear(), RULES, keys, detector=StubDetector())
    assert result.frame.height == 0
    assert result.stats["columns"]["email"]["changed"] == 0


def test_fake_never_equals_an_original_of_its_column(keys: KeyRing) -> None:
    # A column holding a third of the male first-name pool: many first picks collide.
    from etl_express.anonymize.pools import name_pools

    names = name_pools("ru_RU").first_male.to_list()[:100]
    frame = pl.DataFrame({"n": names})
    rules = parse_rules({"columns": {"n": {"operator": "fake", "kind": "first_name"}}})
    out = anonymize_frame(frame, rules, keys).frame["n"]
    assert int(out.is_in(frame["n"].implode()).sum()) == 0


def test_encrypt_column_round_trip(keys: KeyRing) -> None:
    import base64

    from pydantic import SecretStr

    from etl_express.anonymize.encryption import decrypt_series

    ring = KeyRing(
        keys.material, encryption_material=SecretStr(base64.b64encode(bytes(64)).decode())
    )
    rules = parse_rules({"columns": {"email": {"operator": "encrypt"}}})
    out = anonymize_frame(FRAME.select("email"), rules, ring).frame["email"]
    assert out[0] == out[2] and out[0].startswith("enc:v1:") and out[3] is None
    assert decrypt_series(out, ring, roles=["Admin"]).to_list() == FRAME["email"].to_list()


def test_text_rule_on_non_text_column_named(keys: KeyRing) -> None:
    rules = parse_rules({"text_columns": {"id": {"entities": {"PERSON": {"operator": "redact"}}}}})
    with pytest.raises(ValidationFailed) as info:
        anonymize_frame(FRAME, rules, keys, detector=StubDetector())
    assert info.value.errors[0].path == "$.text_columns.id"


def test_repeated_values_get_the_same_outputs_as_per_row(keys: KeyRing) -> None:
    """Keyed operators run once per distinct value when values repeat; the frame must be the
    one the per-row path gives, nulls, token columns and column order included."""
    from etl_express.anonymize.operators import column_outputs, run_outputs

    names = ["Анна Петрова", "John Smith", None, "Ян Ли"] * 10
    frame = pl.DataFrame(
        {
            "id": list(range(40)),
            "name": names,
            "email": ["a@x.ru", None] * 20,
            "inn": pl.Series([7707083893, None, 500100732259, 42] * 10, dtype=pl.Int64),
        }
    )
    rules = parse_rules(
        {
            "columns": {
                "name": {"operator": "fake", "kind": "person_name", "token_column": "pid"},
                "email": {"operator": "pseudonym", "prefix": "em_"},
                "inn": {"operator": "pseudonym", "alphabet": "base32", "length": 20},
            },
        }
    )
    out = anonymize_frame(frame, rules, keys).frame
    per_row = run_outputs(
        frame,
        [column_outputs(c, rules.columns[c], frame.schema[c], keys) for c in rules.columns],
    )
    assert out.columns == ["id", "name", "pid", "email", "inn"]
    assert out.drop("id").equals(per_row)
    assert out["name"][2] is None and out["email"][1] is None and out["inn"][1] is None


def test_typed_columns_counted_changed_by_value(keys: KeyRing) -> None:
    import datetime as dt

    frame = pl.DataFrame({"born": [dt.date(1980, 5, 6), dt.date(1980, 1, 1), None]})
    rules = parse_rules(
        {"columns": {"born": {"operator": "generalize", "kind": "date", "to": "year"}}}
    )
    result = anonymize_frame(frame, rules, keys)
    assert result.frame["born"].to_list() == [dt.date(1980, 1, 1), dt.date(1980, 1, 1), None]
    stats = result.stats["columns"]["born"]
    assert (stats["non_null"], stats["changed"], stats["nullified"]) == (2, 1, 0)
