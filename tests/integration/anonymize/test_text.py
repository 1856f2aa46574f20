"""Free-text anonymization and the privacy gate with the real detector (natasha, spaCy).

Towns named like people ("с. Балашов", "Lake Kevin") and town names inside addresses are not
persons, and a coarse town name found in a comment does not make the city columns leak; a
person's name, an INN or a numbered address copied elsewhere, or left in the text, still blocks.
"""

from __future__ import annotations

import polars as pl
import pytest
from pydantic import SecretStr

from etl_express.anonymize.engine import anonymize_frame
from etl_express.anonymize.gate import GateResult, check_batch
from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.rules import AnonymizationRules, parse_rules

KEYS = KeyRing(SecretStr("integration-text-key-0123456789"), version="1")
NAME = "Наркис Анатольевич Назаров"
FRAME = pl.DataFrame(
    {
        "city": ["Балашов", "Lake Kevin", "Москва", "Казань"],
        "address": [
            "с. Балашов, ул. Мира, д. 1, 412300",
            "12 Oak St, Lake Kevin, GA 45541",
            "г. Москва, ул. Тверская, д. 2",
            "г. Казань, ул. Баумана, д. 5",
        ],
        "comment": [
            f"Доставка по адресу с. Балашов, ул. Фрунзе, д. 97, 292488, получатель {NAME}.",
            "Deliver to 61166 Michael Place Apt. 714\nLake Kevin, GA 87749, recipient Ray Bradley.",
            "Доставка по адресу д. Москва, МГУ, наб. Водников, д. 261, 189909.",
            "Сменил почту на ivan.petrov@example.ru, ИНН 500100732259.",
        ],
    }
)
TEXT_ENTITIES = {"PERSON", "EMAIL_ADDRESS", "RU_INN"}


def _rules(*entities: str) -> AnonymizationRules:
    return parse_rules(
        {
            "columns": {"address": {"operator": "generalize", "kind": "address", "to": "city"}},
            "text_columns": {
                "comment": {
                    "language": "auto",
                    "entities": {e: {"operator": "redact"} for e in entities},
                }
            },
        }
    )


def _gate(rules: AnonymizationRules, **changed: list[str]) -> tuple[pl.DataFrame, GateResult]:
    result = anonymize_frame(FRAME, rules, KEYS)
    out = result.frame.with_columns(**{k: pl.Series(v) for k, v in changed.items()})
    return out, check_batch(out, result.leak_index, KEYS, text_rules=rules.text_columns)


@pytest.mark.parametrize("entities", [TEXT_ENTITIES, {*TEXT_ENTITIES, "LOCATION"}])
def test_town_names_kept_in_city_columns_are_not_leaks(entities: set[str]) -> None:
    out, gate = _gate(_rules(*sorted(entities)))
    assert gate.passed, gate.reasons
    assert out["address"].to_list() == ["Балашов", "Lake Kevin", "Москва", "Казань"]
    assert NAME not in out["comment"][0] and "500100732259" not in out["comment"][3]
    if "LOCATION" in entities:  # the delivery addresses in the comments are gone too
        assert "Фрунзе" not in out["comment"][0] and "Michael Place" not in out["comment"][1]


def test_personal_values_from_text_copied_elsewhere_or_left_still_block() -> None:
    rules = _rules(*sorted({*TEXT_ENTITIES, "LOCATION"}))
    copies = {
        "contact": [NAME.upper(), "", "", ""],
        "tax_id": ["", "", "", "5001 0073 2259"],
        "ship_to": ["", "61166 Michael Place Apt. 714\nLake Kevin, GA 87749", "", ""],
    }
    _, gate = _gate(rules, **copies)
    assert {(r.kind, r.column) for r in gate.reasons} == {
        ("value_survived", "contact"),
        ("value_survived", "tax_id"),
        ("value_survived", "ship_to"),
    }
    _, gate = _gate(rules, comment=FRAME["comment"].to_list())
    left = {(r.kind, r.detail.split()[1]) for r in gate.reasons}
    assert {("entity_remains", "PERSON"), ("entity_remains", "RU_INN")} <= left
