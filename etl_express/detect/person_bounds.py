"""Where a person's name starts and ends: role words, initials, inverted "Surname, First".

Both NER models and our own name shapes slip at the same places; these corrections run on
model spans and again on the final merged PERSON spans.
"""

from __future__ import annotations

import re

# Role words a model sometimes pulls into a name: "Застрахованный Иван Петров", "Врач А. Ефимов".
_ROLE_PREFIX = re.compile(
    r"^(?:(?:клиент\w*|пациент\w*|сотрудни\w*|получател\w*|отправител\w*|заявител\w*|"
    r"кандидат\w*|застрахованн\w*|уважаем\w*|господин\w*|госпож\w*|граждан\w*|товарищ\w*|"
    r"тов\.|pt\.?|врач\w*|доктор\w*|медсестр\w*|менеджер\w*|курьер\w*|муж|жена|сын|дочь|мама|"
    r"папа|контакт\w*|здравствуйте|patient|client|customer|recipient|sender|applicant|"
    r"husband|wife|son|daughter|mother|father|doctor|nurse|manager|courier|driver|contact|"
    r"dear|hi|hello|hey)[:,]?\s+)+",
    re.IGNORECASE,
)
# "Ершов В. М. Контактный": a name written with initials ends at the initials.
_INITIALS_THEN_WORD = re.compile(r"^(\w+\s[А-ЯЁA-Z]\.\s?[А-ЯЁA-Z]\.)\s+\w+$")
# "Артем Витальевич Ю." where the model stopped before the initial's dot or the initial.
_TRAILING_INITIAL = re.compile(r"^(?:\.|\s[А-ЯЁA-Z]\.)")
# "Discharge summary: Titov, Vyacheslav": a record-style "Surname, First" after a label.
_SURNAME_COMMA_BEFORE = re.compile(
    r"(?:[:\n]\s*)([A-ZА-ЯЁ][a-zа-яё]+(?:-[A-ZА-ЯЁ][a-zа-яё]+)?),\s$"
)


def trim_role_words(text: str, start: int, end: int) -> tuple[int, int]:
    """Drop leading role words ("Врач", "Customer", "Hi") from a name span."""
    role = _ROLE_PREFIX.match(text[start:end])
    if role and role.end() < end - start:
        start += role.end()
    return start, end


def person_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    """Fix the usual boundary slips of NER models around initials and inverted names."""
    start, end = trim_role_words(text, start, end)
    initials = _INITIALS_THEN_WORD.match(text[start:end])
    if initials:
        end = start + initials.end(1)
    if text[end - 1 : end].isupper() and text[end - 2 : end - 1].isspace():
        if text[end : end + 1] == ".":
            end += 1
    elif " " in text[start:end].strip():
        trailing = _TRAILING_INITIAL.match(text[end : end + 3])
        if trailing and trailing.group() != ".":
            end += trailing.end()
    if " " not in text[start:end] and text[end : end + 1] in (",", ".", ""):
        window = max(0, start - 40)
        inverted = _SURNAME_COMMA_BEFORE.search(text[window:start])
        if inverted:
            start = window + inverted.start(1)
    return start, end
