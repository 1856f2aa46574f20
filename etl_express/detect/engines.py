"""Presidio AnalyzerEngine per (language, entities, mode), built offline and cached.

Never ``AnalyzerEngine()`` without arguments: it would download ``en_core_web_lg``. The
registry holds only the recognizers the requested entities need.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Literal

from etl_express.detect import entities as E
from etl_express.detect.catalog import rules_for

Mode = Literal["full", "patterns"]
NLP_BATCH_SIZE = 256
MODES: tuple[str, ...] = ("full", "patterns")


def prepare_environment() -> None:
    """Settings that must be in place before Presidio/numpy are imported."""
    # Presidio's e-mail recognizer (not used by us, but imported) fetches the public suffix
    # list through tldextract unless this is empty.
    os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")


@dataclass(frozen=True)
class DetectionEngine:
    """A configured AnalyzerEngine plus the fast path ``analyze_batch`` uses.

    ``analyze_batch`` runs the registry's recognizers directly: our recognizers already fold
    context into their scores, so Presidio's context pass (a deep copy of every result and
    a token walk per match) would only cost time, and the NLP pipeline runs only when a
    recognizer reads its output (English NER).
    """

    lang: str
    mode: str
    entities: frozenset[str]
    analyzer: Any  # presidio_analyzer.AnalyzerEngine
    natasha: Any  # NatashaRecognizer | None
    needs_nlp: bool
    # natasha's batch results live on the shared recognizer between prime() and clear().
    lock: threading.Lock = field(default_factory=threading.Lock, compare=False, repr=False)

    def _artifacts(self, texts: Sequence[str], skip: Sequence[bool]) -> Iterator[Any]:
        if not self.needs_nlp:
            yield from (None for _ in texts)
            return
        from presidio_analyzer.nlp_engine import NlpArtifacts

        nlp_engine = self.analyzer.nlp_engine
        to_parse = [t for t, s in zip(texts, skip, strict=True) if not s]
        docs = iter(nlp_engine.get_nlp(self.lang).pipe(to_parse, batch_size=NLP_BATCH_SIZE))
        for skipped in skip:
            if skipped:
                yield None
                continue
            doc = next(docs)
            yield NlpArtifacts(
                entities=list(doc.ents),
                tokens=doc,
                tokens_indices=[],
                lemmas=[],
                nlp_engine=nlp_engine,
                language=self.lang,
            )

    def analyze_batch(self, texts: Sequence[str], threshold: float = 0.0) -> list[list[Any]]:
        """Presidio RecognizerResults per text, from every recognizer in the registry.

        With ``threshold`` above the weak-evidence score, texts whose capitalized words can
        only give weak NER evidence skip the model (see ``prefilter``).
        """
        from etl_express.detect.prefilter import needs_ner
        from etl_express.detect.recognizers import SENTENCE_INITIAL_WORD_SCORE

        wanted = sorted(self.entities)
        recognizers = self.analyzer.registry.get_recognizers(language=self.lang, entities=wanted)
        may_skip = threshold > SENTENCE_INITIAL_WORD_SCORE
        skip = [may_skip and not needs_ner(t) for t in texts]
        with self.lock:
            if self.natasha is not None:
                self.natasha.prime(texts, skip)
            try:
                return [
                    [r for rec in recognizers for r in rec.analyze(text, wanted, artifacts)]
                    for text, artifacts in zip(texts, self._artifacts(texts, skip), strict=True)
                ]
            finally:
                if self.natasha is not None:
                    self.natasha.clear()


def _nlp_engine(lang: str, with_ner: bool) -> Any:
    from presidio_analyzer.nlp_engine import NerModelConfiguration, SpacyNlpEngine

    from etl_express.detect.nlp import EN_MODEL, build_pipeline

    config = NerModelConfiguration(
        model_to_presidio_entity_mapping={
            "PERSON": "PERSON",
            "GPE": "LOCATION",
            "LOC": "LOCATION",
            "FAC": "LOCATION",
        },
        labels_to_ignore=[
            "ORG",
            "NORP",
            "DATE",
            "TIME",
            "CARDINAL",
            "ORDINAL",
            "MONEY",
            "PERCENT",
            "QUANTITY",
            "PRODUCT",
            "EVENT",
            "WORK_OF_ART",
            "LAW",
            "LANGUAGE",
        ],
    )
    model = EN_MODEL if with_ner and lang == "en" else f"blank_{lang}"
    engine = SpacyNlpEngine(
        models=[{"lang_code": lang, "model_name": model}], ner_model_configuration=config
    )
    # Handing over a built pipeline keeps Presidio from loading (or downloading) a model.
    engine.nlp = {lang: build_pipeline(lang, with_ner=with_ner)}  # type: ignore[assignment]
    return engine


@lru_cache(maxsize=16)
def get_engine(lang: str, entities: frozenset[str], mode: str) -> DetectionEngine:
    if lang not in E.LANGUAGES:
        raise ValueError(f"unsupported language {lang!r}; supported: {list(E.LANGUAGES)}")
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {list(MODES)}")
    prepare_environment()
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    from etl_express.detect.recognizers import (
        NatashaRecognizer,
        RuleRecognizer,
        SpacyNerRecognizer,
    )

    recognizers: list[Any] = [RuleRecognizer(rule, lang) for rule in rules_for(entities)]
    wants_ner = mode == "full" and bool(entities & E.NER_LABELS)
    natasha = None
    if wants_ner and lang == "en":
        recognizers.append(SpacyNerRecognizer(lang, entities))
    elif wants_ner and lang == "ru":
        natasha = NatashaRecognizer(entities, lang)
        natasha.load()
        recognizers.append(natasha)
    registry = RecognizerRegistry(recognizers=recognizers, supported_languages=[lang])
    analyzer = AnalyzerEngine(
        registry=registry,
        nlp_engine=_nlp_engine(lang, with_ner=wants_ner),
        supported_languages=[lang],
    )
    return DetectionEngine(lang, mode, entities, analyzer, natasha, wants_ner and lang == "en")
