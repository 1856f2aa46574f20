from __future__ import annotations

import pytest

from etl_express.detect.prefilter import needs_ner


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Meeting moved. Agenda to follow.", False),
        ("Курьер приехал. Спасибо за ожидание.", False),
        ("курьер приехал", False),
        ("Jane, call me", True),  # opens the sentence but is not followed by a lowercase word
        ("Bethany Brookes asked me", True),
        ("JOHN SMITH called", True),
        ("please ask Ivan about it", True),
        ("Звонила Анна, просила перезвонить", True),
    ],
)
def test_needs_ner(text: str, expected: bool) -> None:
    assert needs_ner(text) is expected
