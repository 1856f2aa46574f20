from __future__ import annotations

import pytest

from etl_express.detect.person_bounds import person_bounds, trim_role_words


def _fix(text: str, value: str) -> str:
    start = text.index(value)
    s, e = person_bounds(text, start, start + len(value))
    return text[s:e]


@pytest.mark.parametrize(
    ("text", "model_span", "expected"),
    [
        ("Получатель: Артем Витальевич Ю. Сумма", "Артем Витальевич Ю", "Артем Витальевич Ю."),
        ("Получатель: Любовь Антоновна Д. Сумма", "Любовь Антоновна", "Любовь Антоновна Д."),
        ("Врач: Ершов В. М. Контактный тел", "Ершов В. М. Контактный", "Ершов В. М."),
        ("Discharge summary: Titov, Vyacheslav, admitted", "Vyacheslav", "Titov, Vyacheslav"),
        ("Врач А.А. Ефимов.", "Врач А.А. Ефимов", "А.А. Ефимов"),
        ("Telehealth visit. Pt M. Perry reports", "Pt M. Perry", "M. Perry"),
        ("Анна, Мария пришли", "Мария", "Мария"),
        ("Visit Anna Lee today", "Anna Lee", "Anna Lee"),
    ],
)
def test_person_bounds(text: str, model_span: str, expected: str) -> None:
    assert _fix(text, model_span) == expected


def test_role_word_alone_is_kept() -> None:
    # Nothing would be left of the span: leave it for the caller to judge.
    assert trim_role_words("Customer", 0, 8) == (0, 8)
