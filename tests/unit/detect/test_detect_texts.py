"""detect_texts in pattern mode: offsets, order, duplicates, entity filter, bad arguments."""

from __future__ import annotations

import pytest

from etl_express.detect import Span, detect_texts

RU = "Пациент Иванов И. И., тел. +7 (912) 345-67-89, ИНН 7707083893, почта ivanov@mail.ru."
EN = "Dear Mr. John Smith, call (415) 555-2671 or write to john.smith@example.com."


def _values(text: str, spans: list[Span]) -> dict[str, str]:
    return {s.entity: text[s.start : s.end] for s in spans}


def test_offsets_are_python_string_indices_ru_and_en() -> None:
    ru, ru_dup, empty = detect_texts([RU, RU, ""], lang="ru", mode="patterns")
    assert ru == ru_dup
    assert empty == []
    assert _values(RU, ru) == {
        "PERSON": "Иванов И. И.",
        "PHONE_NUMBER": "+7 (912) 345-67-89",
        "RU_INN": "7707083893",
        "EMAIL_ADDRESS": "ivanov@mail.ru",
    }
    (en,) = detect_texts([EN], lang="en", mode="patterns")
    assert _values(EN, en) == {
        "PERSON": "John Smith",
        "PHONE_NUMBER": "(415) 555-2671",
        "EMAIL_ADDRESS": "john.smith@example.com",
    }
    assert all(isinstance(s, Span) and 0.5 <= s.score < 1.0 for s in ru + en)
    assert [s.start for s in ru] == sorted(s.start for s in ru)


def test_entities_filter_limits_the_result() -> None:
    (spans,) = detect_texts([RU], lang="ru", mode="patterns", entities=["RU_INN"])
    assert [s.entity for s in spans] == ["RU_INN"]


def test_threshold_is_applied() -> None:
    (spans,) = detect_texts([RU], lang="ru", mode="patterns", score_threshold=0.95)
    assert all(s.score >= 0.95 for s in spans)


def test_unknown_entity_and_language_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown entity"):
        detect_texts(["x"], lang="ru", entities=["SSN"])
    with pytest.raises(ValueError, match="unsupported language"):
        detect_texts(["x"], lang="de", mode="patterns")


def test_pool_threshold_by_mode_and_override(monkeypatch: pytest.MonkeyPatch) -> None:
    from etl_express.detect import runner

    monkeypatch.delenv("ETLX_DETECT_POOL_MIN_TEXTS", raising=False)
    assert runner.pool_threshold("full") < runner.pool_threshold("patterns")
    monkeypatch.setenv("ETLX_DETECT_POOL_MIN_TEXTS", "10")
    assert runner.pool_threshold("full") == runner.pool_threshold("patterns") == 10
