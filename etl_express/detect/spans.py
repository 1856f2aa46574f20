"""The result type of detection: a labeled character range of one text."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Span:
    """One detected entity: ``text[start:end]`` (Python str indices, end exclusive)."""

    start: int
    end: int
    entity: str
    score: float

    def to_dict(self) -> dict[str, object]:
        return {
            "start": self.start,
            "end": self.end,
            "entity": self.entity,
            "score": round(self.score, 4),
        }
