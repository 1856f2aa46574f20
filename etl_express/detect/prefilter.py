"""Which texts a name/place model can add anything to.

Both NER models key on capitalization. A capitalized word that opens a sentence and is
followed by a lowercase word is reported at most as weak evidence (see
``recognizers.SENTENCE_INITIAL_WORD_SCORE``), so a text whose capitalized words are all of
that kind can skip the model when the caller's threshold is above that score. Texts with
all-caps words, Latin or Cyrillic, are kept.
"""

from __future__ import annotations

import re

_CAPITALIZED = re.compile(r"(?<![\w'’-])[A-ZА-ЯЁ][\w'’-]*")
_OPENS_SENTENCE = re.compile(r"(?:^|[.!?:]\s+|\n\s*)$")
_THEN_LOWERCASE = re.compile(r"\s+[a-zа-яё]")


def needs_ner(text: str) -> bool:
    for match in _CAPITALIZED.finditer(text):
        start, end = match.span()
        opens = _OPENS_SENTENCE.search(text[max(0, start - 4) : start]) is not None
        if not opens or not _THEN_LOWERCASE.match(text, end):
            return True
    return False
