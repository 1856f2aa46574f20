from __future__ import annotations

from etl_express.detect.resolve import resolve
from etl_express.detect.spans import Span


def test_higher_score_wins_overlap_and_threshold_applies() -> None:
    text = "x" * 40
    spans = [
        Span(0, 10, "RU_SNILS", 0.75),
        Span(0, 10, "PHONE_NUMBER", 0.6),
        Span(20, 25, "EMAIL_ADDRESS", 0.3),
    ]
    assert resolve(text, spans, 0.5) == [Span(0, 10, "RU_SNILS", 0.75)]


def test_person_parts_split_by_a_space_merge() -> None:
    text = "для Юдина Андрея Леонидовича на"
    spans = [Span(4, 9, "PERSON", 0.85), Span(10, 28, "PERSON", 0.7)]
    assert resolve(text, spans, 0.5) == [Span(4, 28, "PERSON", 0.85)]


def test_persons_split_by_a_comma_stay_apart() -> None:
    text = "Анна, Мария"
    spans = [Span(0, 4, "PERSON", 0.85), Span(6, 11, "PERSON", 0.85)]
    assert len(resolve(text, spans, 0.5)) == 2
