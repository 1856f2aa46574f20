"""A tiny deterministic detector with the etl_express.detect.detect_texts signature.

Unit tests use it to exercise span replacement without loading NLP models; the real detector
is exercised in tests/integration/anonymize.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from etl_express.detect import Span

PATTERNS = {
    "EMAIL_ADDRESS": re.compile(r"[\w.+-]+@[\w-]+\.[\w.]+"),
    "PHONE_NUMBER": re.compile(r"\+7\d{10}"),
    "PERSON": re.compile(r"\b(?:Анна Петрова|John Smith|Иван)\b"),
}


@dataclass
class StubDetector:
    calls: list[tuple[int, str]] = field(default_factory=list)

    def __call__(
        self,
        texts: Sequence[str],
        *,
        lang: str,
        entities: Collection[str] | None = None,
        mode: str = "full",
        score_threshold: float = 0.5,
    ) -> list[list[Span]]:
        self.calls.append((len(texts), lang))
        wanted = set(entities or PATTERNS)
        return [
            [
                Span(m.start(), m.end(), entity, 0.9)
                for entity, pattern in PATTERNS.items()
                if entity in wanted
                for m in pattern.finditer(text)
            ]
            for text in texts
        ]
