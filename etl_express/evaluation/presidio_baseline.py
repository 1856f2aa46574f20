"""Presidio out of the box, for comparison: BatchAnalyzerEngine, default recognizers, and the
same installed spaCy model (en_core_web_sm, full pipeline). Presidio has no Russian support,
so Russian texts go through the same English engine, as a user of plain Presidio would do.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from etl_express.detect.engines import prepare_environment
from etl_express.detect.nlp import EN_MODEL

# Presidio labels that mean the same as the corpus labels; the rest are dropped.
LABEL_MAP = {
    "PERSON": "PERSON",
    "LOCATION": "LOCATION",
    "EMAIL_ADDRESS": "EMAIL_ADDRESS",
    "PHONE_NUMBER": "PHONE_NUMBER",
    "CREDIT_CARD": "CREDIT_CARD",
    "IBAN_CODE": "IBAN_CODE",
    "IP_ADDRESS": "IP_ADDRESS",
}


def build_batch_analyzer() -> Any:
    prepare_environment()
    from presidio_analyzer import AnalyzerEngine, BatchAnalyzerEngine
    from presidio_analyzer.nlp_engine import NlpEngineProvider

    provider = NlpEngineProvider(
        nlp_configuration={
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": EN_MODEL}],
        }
    )
    analyzer = AnalyzerEngine(nlp_engine=provider.create_engine(), supported_languages=["en"])
    return BatchAnalyzerEngine(analyzer_engine=analyzer)


def analyze(batch: Any, texts: Sequence[str], threshold: float = 0.5) -> list[list[dict[str, Any]]]:
    results = batch.analyze_iterator(
        list(texts), language="en", batch_size=64, score_threshold=threshold
    )
    out: list[list[dict[str, Any]]] = []
    for found in results:
        spans = [
            {"start": r.start, "end": r.end, "entity": LABEL_MAP[r.entity_type]}
            for r in found
            if r.entity_type in LABEL_MAP
        ]
        out.append(spans)
    return out
