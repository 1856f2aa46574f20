"""Label corrections applied to NER output, and the rule recognizer's Presidio results."""

from __future__ import annotations

import pytest

from etl_express.detect.recognizers import (
    SENTENCE_INITIAL_WORD_SCORE,
    RuleRecognizer,
    ner_entity,
    ner_span,
    sentence_initial_word,
)
from etl_express.detect.rules_ru_ids import INN


def _label(text: str, value: str, entity: str) -> str | None:
    start = text.index(value)
    return ner_entity(text, start, start + len(value), entity)


@pytest.mark.parametrize(
    ("text", "value", "entity", "expected"),
    [
        ("Пункт выдачи в г. Гагарин. Получатель", "Гагарин", "PERSON", "LOCATION"),
        # towns named like people, by their settlement type or a US state and ZIP after them
        ("по адресу с. Балашов, ул. Фрунзе, д. 97", "Балашов", "PERSON", "LOCATION"),
        ("по адресу д. Владимир, алл. Раздольная", "Владимир", "PERSON", "LOCATION"),
        ("доставка в пгт Смирных, ул. Осипенко", "Смирных", "PERSON", "LOCATION"),
        ("Apt. 714\nLake Kevin, GA 45541, recipient", "Lake Kevin", "PERSON", "LOCATION"),
        # ...but an initial, the preposition "с" and a name before other text stay persons
        ("Договор подписал С. Балашов вчера", "Балашов", "PERSON", "PERSON"),
        ("встреча с Владимиром Петровым", "Владимиром Петровым", "PERSON", "PERSON"),
        ("Kevin Moore, GA office, called", "Kevin Moore", "PERSON", "PERSON"),
        ("reference INV-46468. Amount", "INV-46468", "LOCATION", None),
        ("Payment received from MedProm LLC today", "MedProm LLC", "PERSON", None),
        ("Контрагент Бирюкова и партнеры: ОГРН", "Бирюкова", "PERSON", None),
        ("Мария, перезвоните", "Мария", "PERSON", "PERSON"),
        ("Jane was born in 1985", "Jane", "PERSON", "PERSON"),
        ("Visit Anna Lee today", "Anna Lee", "PERSON", "PERSON"),
    ],
)
def test_ner_label_corrections(text: str, value: str, entity: str, expected: str | None) -> None:
    assert _label(text, value, entity) == expected


def test_ner_span_trims_titles_and_possessives_and_drops_countries() -> None:
    text = "Dr. Emily Stone's report from Russia"
    assert ner_span(text, 0, len("Dr. Emily Stone's"), "PERSON") == (4, len("Dr. Emily Stone"))
    ru = "Застрахованный Иван Петров, полис"
    assert ner_span(ru, 0, len("Застрахованный Иван Петров"), "PERSON") == (15, 26)
    start = text.index("Russia")
    assert ner_span(text, start, start + 6, "LOCATION") is None


def test_rule_recognizer_returns_presidio_results_marked_as_context_scored() -> None:
    recognizer = RuleRecognizer(INN, "ru")
    (result,) = recognizer.analyze("ИНН 7707083893", ["RU_INN"], None)
    assert (result.entity_type, result.start, result.end) == ("RU_INN", 4, 14)
    assert 0.5 < result.score < 1.0
    assert result.recognition_metadata["is_score_enhanced_by_context"] is True
    assert recognizer.analyze("ИНН 7707083893", ["PERSON"], None) == []


@pytest.mark.parametrize(
    ("text", "value", "weak"),
    [
        ("Курьер приехал раньше", "Курьер", True),
        ("Сроки прежние. Agenda to follow.", "Agenda", True),
        ("Jane was born in 1985", "Jane", True),
        ("Мария, перезвоните", "Мария", False),
        ("Hi Anna, see you", "Anna", False),
        ("Anna Lee was here", "Anna Lee", False),
    ],
)
def test_sentence_initial_single_words_are_weak_evidence(text: str, value: str, weak: bool) -> None:
    start = text.index(value)
    assert sentence_initial_word(text, start, start + len(value)) is weak
    assert SENTENCE_INITIAL_WORD_SCORE < 0.5


def test_name_shapes_on_towns_named_like_people_are_not_persons() -> None:
    from etl_express.detect.rules_names import PERSON

    recognizer = RuleRecognizer(PERSON, "en")
    text = "Deliver to 61166 Michael Place Apt. 714\nLake Kevin, GA 87749, recipient Ray Bradley."
    found = [text[r.start : r.end] for r in recognizer.analyze(text, ["PERSON"], None)]
    assert found == ["Ray Bradley"]  # "Lake Kevin" has a name's shape ("-in" surname ending)
