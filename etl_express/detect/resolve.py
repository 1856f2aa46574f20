"""Turn overlapping candidates into the non-overlapping spans a text gets."""

from __future__ import annotations

from collections.abc import Iterable

from etl_express.detect.entities import LOCATION, PERSON
from etl_express.detect.person_bounds import person_bounds
from etl_express.detect.spans import Span

# For these, two detectors seeing parts of one name or address are merged into one span.
_MERGEABLE = frozenset({PERSON, LOCATION})


def _touches(text: str, left: Span, right: Span) -> bool:
    """Overlapping, or a person's name split only by spaces ("Юдина" + "Андрея Леонидовича")."""
    if right.start < left.end:
        return True
    return (
        left.entity == PERSON
        and 0 < right.start - left.end <= 2
        and not text[left.end : right.start].strip(" ")
    )


def _merge_same_entity(text: str, spans: list[Span]) -> list[Span]:
    merged: list[Span] = []
    for span in sorted(spans, key=lambda s: (s.entity, s.start, -s.end)):
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.entity == span.entity
            and span.entity in _MERGEABLE
            and _touches(text, last, span)
        ):
            merged[-1] = Span(
                last.start, max(last.end, span.end), last.entity, max(last.score, span.score)
            )
        else:
            merged.append(span)
    return merged


def _tidy(text: str, span: Span) -> Span:
    if span.entity != PERSON:
        return span
    start, end = person_bounds(text, span.start, span.end)
    return span if (start, end) == (span.start, span.end) else Span(start, end, PERSON, span.score)


def resolve(text: str, candidates: Iterable[Span], threshold: float) -> list[Span]:
    """Keep spans at or above ``threshold``; on overlap the higher score (then longer) wins."""
    kept = [s for s in candidates if s.score >= threshold]
    kept = [_tidy(text, span) for span in _merge_same_entity(text, kept)]
    chosen: list[Span] = []
    for span in sorted(kept, key=lambda s: (-s.score, -(s.end - s.start), s.start)):
        if all(span.end <= c.start or c.end <= span.start for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: (s.start, s.end))
