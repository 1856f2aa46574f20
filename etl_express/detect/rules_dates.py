"""Dates of birth: a date is reported only when a birth cue marks it (д.р., DOB, born, ...)."""

from __future__ import annotations

import re

from etl_express.detect import entities as E
from etl_express.detect.rules import PatternRule, Shape, cues

_RU_MONTHS = (
    r"(?:января|февраля|марта|апреля|мая|июня|июля|августа|сентября|октября|ноября|декабря)"
)
_EN_MONTHS = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH = r"(?:0?[1-9]|1[0-2])"
_YEAR = r"(?:19|20)\d{2}"
_L = r"(?<![\w.\-/])"
_R = r"(?![\w\-/]|[.]\d)"

_SHAPES = (
    rf"{_DAY}[./\-]{_MONTH}[./\-]{_YEAR}",
    rf"{_MONTH}/{_DAY}/{_YEAR}",
    rf"{_YEAR}-{_MONTH}-{_DAY}",
    rf"{_DAY} {_RU_MONTHS} {_YEAR}",
    rf"{_DAY}(?:st|nd|rd|th)? (?:of )?{_EN_MONTHS},? {_YEAR}",
    rf"{_EN_MONTHS} {_DAY}(?:st|nd|rd|th)?,? {_YEAR}",
)

DATE_OF_BIRTH = PatternRule(
    entity=E.DATE_OF_BIRTH,
    name="date_of_birth",
    shapes=(
        *(Shape(re.compile(_L + body + _R, re.IGNORECASE), 0.0) for body in _SHAPES),
        # A bare year counts only with a cue: "1985 г.р.", "born in 1985".
        Shape(re.compile(_L + _YEAR + r"(?![\w\-/.]\d)"), 0.0, needs_cue=True),
    ),
    normalize=str,
    cues_before=cues(
        "д.р.",
        "д. р.",
        "д.р",
        "дата рождения",
        "даты рождения",
        "датой рождения",
        "рожд",
        "родил",
        "dob",
        "d.o.b",
        "date of birth",
        "birth date",
        "birthdate",
        "birthday",
        "born",
    ),
    cues_after=re.compile(
        r"\s*(?:г\.?\s?р\.?|года? рождения|г\. рождения|\(?(?:dob|born|birth))",
        re.IGNORECASE,
    ),
    cue_boost=0.85,
    # Another date or year between the cue and this one means the cue belongs to that one.
    cue_blocker=re.compile(r"\d{4}|\d{1,2}[./]\d{1,2}[./]\d{2}"),
    window_before=40,
    window_after=20,
)

RULES: tuple[PatternRule, ...] = (DATE_OF_BIRTH,)
