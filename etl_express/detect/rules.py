"""Pattern rules: a regex shape, a validator (checksum) and context cues give a scored span.

The rules are plain Python so they can be tested and reused without Presidio; ``recognizers``
wraps each one as a Presidio recognizer. A score states the evidence: the shape's base score
applies to a match whose checksum (if any) passed; a cue word before the match (or after it,
for cues such as "г.р.") adds ``cue_boost``; a nearer negative cue ("заказ", "invoice") takes
``negative_penalty`` away. Matches whose validator fails are dropped.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

MAX_SCORE = 0.99


@dataclass(frozen=True)
class Shape:
    """One regex spelling of an entity; ``group`` selects the part that is the entity."""

    regex: re.Pattern[str]
    score: float
    group: int | str = 0
    # Some spellings are too ambiguous to report without a cue word.
    needs_cue: bool = False


@dataclass(frozen=True)
class Candidate:
    start: int
    end: int
    entity: str
    score: float


def digits_only(value: str) -> str:
    return "".join(ch for ch in value if ch.isdigit())


def cues(*words: str) -> re.Pattern[str]:
    """Word-start prefix match of any cue (stems catch Russian inflections)."""
    alternatives = "|".join(sorted((re.escape(w) for w in words), key=len, reverse=True))
    return re.compile(rf"(?<![\w])(?:{alternatives})", re.IGNORECASE)


@dataclass(frozen=True)
class PatternRule:
    entity: str
    shapes: tuple[Shape, ...]
    validate: Callable[[str], bool] | None = None
    normalize: Callable[[str], str] = digits_only
    cues_before: re.Pattern[str] | None = None
    cues_after: re.Pattern[str] | None = None
    cue_boost: float = 0.0
    # Text between a cue and the match that cancels the cue (e.g. another date).
    cue_blocker: re.Pattern[str] | None = None
    negative_cues: re.Pattern[str] | None = None
    negative_penalty: float = 0.4
    window_before: int = 48
    window_after: int = 24
    name: str = field(default="")

    def find(self, text: str) -> list[Candidate]:
        found: dict[tuple[int, int], Candidate] = {}
        for shape in self.shapes:
            for match in shape.regex.finditer(text):
                start, end = match.span(shape.group)
                if start == end or (start, end) in found:
                    continue
                candidate = self._score(text, start, end, shape)
                if candidate is not None:
                    found[(start, end)] = candidate
        return list(found.values())

    def _score(self, text: str, start: int, end: int, shape: Shape) -> Candidate | None:
        if self.validate is not None and not self.validate(self.normalize(text[start:end])):
            return None
        cue_at = self._cue_distance(text, start, end)
        if shape.needs_cue and cue_at is None:
            return None
        score = shape.score
        if cue_at is not None:
            score += self.cue_boost
        negative_at = self._negative_distance(text, start)
        if negative_at is not None and (cue_at is None or negative_at < cue_at):
            score -= self.negative_penalty
        if score <= 0:
            return None
        return Candidate(start, end, self.entity, min(score, MAX_SCORE))

    def _cue_distance(self, text: str, start: int, end: int) -> int | None:
        """Characters between the nearest cue and the match, or None when there is none."""
        if self.cues_before is not None:
            lo = max(0, start - self.window_before)
            before = text[lo:start]
            last = None
            for last in self.cues_before.finditer(before):  # noqa: B007 - want the last one
                pass
            if last is not None:
                between = before[last.end() :]
                if self.cue_blocker is None or not self.cue_blocker.search(between):
                    return len(between)
        if self.cues_after is not None:
            after = text[end : end + self.window_after]
            hit = self.cues_after.match(after)
            if hit is not None:
                return hit.start()
        return None

    def _negative_distance(self, text: str, start: int) -> int | None:
        if self.negative_cues is None:
            return None
        lo = max(0, start - self.window_before)
        before = text[lo:start]
        last = None
        for last in self.negative_cues.finditer(before):  # noqa: B007 - want the last one
            pass
        return None if last is None else len(before) - last.end()
