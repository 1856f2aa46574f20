"""Presidio recognizers: our pattern rules, spaCy NER results and natasha (Russian NER).

Imports Presidio at module level: import this module only inside functions.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Any, ClassVar

from presidio_analyzer import LocalRecognizer, RecognizerResult
from presidio_analyzer.nlp_engine import NlpArtifacts

from etl_express.detect import entities as E
from etl_express.detect.person_bounds import person_bounds
from etl_express.detect.rules import PatternRule


def _result(recognizer: Any, entity: str, start: int, end: int, score: float) -> Any:
    return RecognizerResult(
        entity_type=entity,
        start=start,
        end=end,
        score=score,
        recognition_metadata={
            RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
            RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
            # Our scores already include context; Presidio must not boost them again.
            RecognizerResult.IS_SCORE_ENHANCED_BY_CONTEXT_KEY: True,
        },
    )


class RuleRecognizer(LocalRecognizer):
    """A PatternRule (regex + checksum + context cues) as a Presidio recognizer."""

    def __init__(self, rule: PatternRule, language: str) -> None:
        self.rule = rule
        super().__init__(
            supported_entities=[rule.entity],
            supported_language=language,
            name=f"etlx_{rule.name}",
            context=[],
        )

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[Any]:
        if self.rule.entity not in entities:
            return []
        return [
            _result(self, c.entity, c.start, c.end, c.score)
            for c in self.rule.find(text)
            # a name shape on a town named like a person ("Lake Kevin, GA 45541"): the address
            # rule covers it when places are wanted
            if not (c.entity == E.PERSON and town_context(text, c.start, c.end))
        ]


# Country names are not labeled; NER models report them as locations.
_COUNTRY = re.compile(
    r"^(?:the\s)?(?:Russia|Russian Federation|USA|US|U\.S\.|United States(?: of America)?|"
    r"America|UK|U\.K\.|United Kingdom|Britain|Great Britain|England|Scotland|Wales|"
    r"Ireland|Germany|France|Netherlands|Spain|Italy|China|Canada|Kazakhstan|Belarus|"
    r"Ukraine|Росси[яиюей]|РФ|США|Великобритани[яиюей]|Англи[яиюей]|Германи[яиюей]|"
    r"Франци[яиюей]|Казахстан[ауе]?|Беларус[ьи]|Белорусси[яиюей]|Украин[аыуе]|Китай|Китая|"
    r"Европ[аыуе])$",
    re.IGNORECASE,
)
_TITLE = re.compile(r"^(?:(?:Mr|Mrs|Ms|Miss|Mx|Dr|Prof|Sir|Dame)\.?\s+|(?:г-н|г-жа)\.?\s+)")
_POSSESSIVE = re.compile(r"(?:'s|’s)$")


_CITY_PREFIX = re.compile(r"(?:^|[\s,(])(?:г|гор|город|city of)\.?\s*$", re.IGNORECASE)
# Settlement types of Russian addresses ("с. Балашов", "д. Владимир", "пгт Смирных"). Lowercase
# only: "С. Иванов" is an initial. The one-letter forms need their dot ("с Иваном" is "with").
_SETTLEMENT_PREFIX = re.compile(
    r"(?:^|[\s,(])(?:(?:с|п|д|х|к|ст|пос|дер)\.|(?:пгт|рп|клх|ст-ца|аул|село|деревня|"
    r"посёлок|поселок|станица|хутор)\.?)\s*$"
)
# "Lake Kevin, GA 45541": the town of a US address line, before its state code and ZIP.
_STATE_ZIP_AFTER = re.compile(r"^,?\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?(?!\w)")
_COMPANY = re.compile(
    r"\b(?:LLC|Inc|Ltd|GmbH|PJSC|JSC|PLC|Corp|Co|LLP|ООО|ОАО|ЗАО|ПАО|АО|ИП|Инк|Инкорпорэйтед|"
    r"Лтд|Лимитед|Групп|Холдинг)\.?$|^(?:ООО|ОАО|ЗАО|ПАО|АО)\b"
)
_COMPANY_AFTER = re.compile(r"^\s+(?:и партн[её]ры|& (?:Co|Partners|Sons)|and Partners)\b")
_SENTENCE_START = re.compile(r"(?:^|[.!?:]\s+|\n\s*)$")


def town_context(text: str, start: int, end: int) -> bool:
    """The words around a span say it is a town: "г. Гагарин", "с. Балашов", "Lake Kevin, GA
    45541" (towns named like people, which models and name shapes take for persons)."""
    before = text[max(0, start - 12) : start]
    return bool(
        _CITY_PREFIX.search(before)
        or _SETTLEMENT_PREFIX.search(before)
        or _STATE_ZIP_AFTER.match(text[end : end + 16])
    )


def ner_entity(text: str, start: int, end: int, entity: str) -> str | None:
    """Correct a model's label using the words around it; None drops the span.

    Models tag codes as places ("INV-46468"), companies as persons ("MedProm LLC") and
    towns named like people as persons ("г. Гагарин", "с. Балашов", "Lake Kevin, GA 45541").
    """
    value = text[start:end]
    if any(ch.isdigit() for ch in value) or _COMPANY.search(value):
        return None
    if _COMPANY_AFTER.match(text[end : end + 16]):
        return None
    if entity == E.PERSON and town_context(text, start, end):
        return E.LOCATION
    return entity


# A lone capitalized word opening a sentence and followed by a lowercase word ("Agenda to
# follow", "Курьер приехал") is as often a common noun as a name ("Jane was born"): reported
# below the default threshold, so a stricter caller (a leak gate at 0.4) still sees it.
SENTENCE_INITIAL_WORD_SCORE = 0.45


def sentence_initial_word(text: str, start: int, end: int) -> bool:
    value = text[start:end].strip()
    if " " in value:
        return False
    followed_by_lowercase = text[end : end + 2].strip()[:1].islower()
    return followed_by_lowercase and bool(_SENTENCE_START.search(text[max(0, start - 12) : start]))


def ner_span(text: str, start: int, end: int, entity: str) -> tuple[int, int] | None:
    """Trim titles and possessives off a model's span; None if it is not a reportable one."""
    value = text[start:end]
    title = _TITLE.match(value)
    if title:
        start += title.end()
    possessive = _POSSESSIVE.search(text[start:end])
    if possessive:
        end -= len(possessive.group())
    if entity == E.PERSON:
        start, end = person_bounds(text, start, end)
    value = text[start:end].strip()
    if len(value) < 2 or not value[0].isupper():
        return None
    if entity == E.LOCATION and _COUNTRY.match(value):
        return None
    return start, end


def _score(text: str, span: tuple[int, int], score: float) -> float:
    if sentence_initial_word(text, *span):
        return min(score, SENTENCE_INITIAL_WORD_SCORE)
    return score


class SpacyNerRecognizer(LocalRecognizer):
    """PERSON and LOCATION from the spaCy model's entities (already in nlp_artifacts)."""

    _LABELS: ClassVar[dict[str, str]] = {
        "PERSON": E.PERSON,
        "GPE": E.LOCATION,
        "LOC": E.LOCATION,
        "FAC": E.LOCATION,
    }
    # The small model often calls unfamiliar (e.g. transliterated) names places; a name
    # shape found by our rules (0.65) outranks its place guess.
    _SCORES: ClassVar[dict[str, float]] = {E.PERSON: 0.85, E.LOCATION: 0.6}

    def __init__(self, language: str, wanted: Iterable[str]) -> None:
        supported = sorted(set(wanted) & E.NER_LABELS)
        super().__init__(
            supported_entities=supported, supported_language=language, name="etlx_spacy_ner"
        )

    def load(self) -> None:
        return None

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[Any]:
        if nlp_artifacts is None or nlp_artifacts.tokens is None:
            return []
        results = []
        for ent in nlp_artifacts.tokens.ents:
            entity = self._LABELS.get(ent.label_)
            entity = entity and ner_entity(text, ent.start_char, ent.end_char, entity)
            if entity is None or entity not in entities:
                continue
            trimmed = ner_span(text, ent.start_char, ent.end_char, entity)
            if trimmed is not None:
                results.append(
                    _result(self, entity, *trimmed, _score(text, trimmed, self._SCORES[entity]))
                )
        return results


class NatashaRecognizer(LocalRecognizer):
    """Russian PER/LOC from natasha's NER tagger (slovnet, numpy), batched via ``prime``."""

    _LABELS: ClassVar[dict[str, str]] = {"PER": E.PERSON, "LOC": E.LOCATION}
    _SCORES: ClassVar[dict[str, float]] = {E.PERSON: 0.85, E.LOCATION: 0.7}

    def __init__(self, wanted: Iterable[str], language: str = "ru") -> None:
        self._tagger: Any = None
        self._primed: dict[str, list[tuple[int, int, str]]] = {}
        supported = sorted(set(wanted) & E.NER_LABELS)
        super().__init__(
            supported_entities=supported, supported_language=language, name="etlx_natasha_ner"
        )

    def load(self) -> None:
        from natasha import NewsEmbedding, NewsNERTagger

        self._tagger = NewsNERTagger(NewsEmbedding())
        # slovnet pads each batch to its longest text; 32 amortizes numpy calls better than
        # the default 8 on short texts without much padding waste.
        self._tagger.batch_size = 32

    def _spans(self, markup: Any) -> list[tuple[int, int, str]]:
        return [(s.start, s.stop, s.type) for s in markup.spans]

    def prime(self, texts: Sequence[str], skip: Sequence[bool] | None = None) -> None:
        """Tag many texts in one batched call; ``analyze`` then reads the results.

        Texts marked in ``skip`` get no model spans.
        """
        skipped = {t for t, s in zip(texts, skip, strict=True) if s} if skip else set()
        # Sorted by length, each batch pads its texts to similar lengths.
        ordered = sorted(set(texts) - skipped, key=len)
        primed: dict[str, list[tuple[int, int, str]]] = {text: [] for text in skipped}
        for text, markup in zip(ordered, self._tagger.map(ordered), strict=True):
            primed[text] = self._spans(markup)
        self._primed = primed

    def clear(self) -> None:
        self._primed = {}

    def analyze(
        self, text: str, entities: list[str], nlp_artifacts: NlpArtifacts | None = None
    ) -> list[Any]:
        spans = self._primed.get(text)
        if spans is None:
            spans = self._spans(self._tagger(text))
        results = []
        for start, end, label in spans:
            entity = self._LABELS.get(label)
            entity = entity and ner_entity(text, start, end, entity)
            if entity is None or entity not in entities:
                continue
            trimmed = ner_span(text, start, end, entity)
            if trimmed is not None:
                results.append(
                    _result(self, entity, *trimmed, _score(text, trimmed, self._SCORES[entity]))
                )
        return results
