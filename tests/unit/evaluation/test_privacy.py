"""The evaluation harness with stand-in predictors (the real models run in make eval-privacy)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from etl_express.evaluation.corpus import LabeledText
from etl_express.evaluation.privacy import check_targets, evaluate_quality, measure_throughput

ITEMS = [
    LabeledText("1", "ru", "ИНН 7707083893", [{"start": 4, "end": 14, "entity": "RU_INN"}], "t"),
    LabeledText("2", "en", "hello Anna", [{"start": 6, "end": 10, "entity": "PERSON"}], "t"),
    LabeledText("3", "en", "nothing", [], "t"),
]
GOLD = {item.text: item.spans for item in ITEMS}


def perfect(texts: Sequence[str], lang: str) -> list[list[dict[str, Any]]]:
    return [GOLD[t] for t in texts]


def noisy(texts: Sequence[str], lang: str) -> list[list[dict[str, Any]]]:
    return [[*GOLD[t], {"start": 0, "end": 1, "entity": "EMAIL_ADDRESS"}] for t in texts]


def test_quality_of_a_perfect_and_a_noisy_predictor() -> None:
    assert evaluate_quality(ITEMS, perfect)["exact"]["overall"]["f1"] == 1.0
    overlap = evaluate_quality(ITEMS, noisy)["overlap"]
    assert overlap["overall"]["recall"] == 1.0
    assert overlap["overall"]["precision"] == 0.4
    targets = check_targets(evaluate_quality(ITEMS, noisy))
    assert targets["recall RU_INN >= 0.98"] is True
    assert targets["precision overall >= 0.9"] is False
    assert targets["recall en/PERSON >= 0.9"] is True


def test_throughput_reports_each_detector_and_language() -> None:
    out = measure_throughput(ITEMS, {"a": perfect, "b": noisy}, rounds=2, sample=10)
    assert set(out) == {"a", "b"}
    assert set(out["a"]) == {"ru", "en"}
    assert out["a"]["en"]["texts"] == 2 and out["a"]["en"]["rounds"] == 2
    assert out["b"]["ru"]["texts_per_s"] > 0
