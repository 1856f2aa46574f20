"""Which values found in free text enter the leak index: identifying ones, not bare place names."""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence

import polars as pl

from etl_express.anonymize.engine import anonymize_frame
from etl_express.anonymize.gate import check_batch
from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.rules import parse_rules
from etl_express.detect import Span

FOUND = {
    "LOCATION": re.compile(r"Балашов, ул\. Фрунзе, д\. 97|Москв[аеу]|ул\. Ленина"),
    "PERSON": re.compile(r"Иван Петров"),
}
RULES = parse_rules(
    {
        "columns": {"address": {"operator": "generalize", "kind": "address", "to": "city"}},
        "text_columns": {
            "comment": {
                "language": "ru",
                "entities": {"PERSON": {"operator": "redact"}, "LOCATION": {"operator": "redact"}},
            }
        },
    }
)


def detector(
    texts: Sequence[str],
    *,
    lang: str,
    entities: Collection[str] | None = None,
    mode: str = "full",
    score_threshold: float = 0.5,
) -> list[list[Span]]:
    return [
        [Span(m.start(), m.end(), e, 0.9) for e, rx in FOUND.items() for m in rx.finditer(t)]
        for t in texts
    ]


def _gate(frame: pl.DataFrame, keys: KeyRing, **kept: list[str]) -> list[tuple[str, str]]:
    result = anonymize_frame(frame, RULES, keys, detector=detector)
    out = result.frame.with_columns(**{k: pl.Series(v) for k, v in kept.items()})
    gate = check_batch(
        out, result.leak_index, keys, text_rules=RULES.text_columns, detector=detector
    )
    return [(r.kind, r.column) for r in gate.reasons]


FRAME = pl.DataFrame(
    {
        "address": ["г. Москва, ул. Тверская, д. 1", "г. Казань, ул. Баумана, д. 5"],
        "city": ["Москва", "Казань"],
        "comment": ["Доставка: Москва, звонить Иван Петров", "Переехал на ул. Ленина"],
    }
)


def test_a_place_name_in_text_does_not_make_the_city_columns_leak(keys: KeyRing) -> None:
    # "Москва" is found in a comment and is also the generalized address and a kept city:
    # a coarse value shared by many people, judged by k-anonymity, not an exact-match leak.
    assert _gate(FRAME, keys) == []
    assert _gate(FRAME, keys, street=["ул. Ленина", "x"]) == []


def test_names_and_numbered_addresses_from_text_still_block_anywhere(keys: KeyRing) -> None:
    frame = FRAME.with_columns(
        comment=pl.Series(["Доставка: Балашов, ул. Фрунзе, д. 97, Иван Петров", "ok"])
    )
    assert _gate(frame, keys) == []
    assert _gate(frame, keys, contact=["x", "иван петров"]) == [("value_survived", "contact")]
    assert _gate(frame, keys, note=["Балашов, ул. Фрунзе, д. 97", "x"]) == [
        ("value_survived", "note")
    ]


def test_a_name_left_in_the_text_still_blocks(keys: KeyRing) -> None:
    result = anonymize_frame(FRAME, RULES, keys, detector=detector)
    leaked = result.frame.with_columns(comment=FRAME["comment"])
    gate = check_batch(
        leaked, result.leak_index, keys, text_rules=RULES.text_columns, detector=detector
    )
    assert ("entity_remains", "comment") in {(r.kind, r.column) for r in gate.reasons}
