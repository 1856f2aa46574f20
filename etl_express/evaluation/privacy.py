"""`make eval-privacy`: detection quality, leak check and throughput on the privacy corpus.

Prints a table and writes JSON (default bench/results/privacy.json). Quality: precision,
recall and F1 per entity and language, exact and one-to-one overlap, on texts.jsonl and
records_comment_spans.jsonl. Speed: texts/s per language for our detector and for Presidio's
own BatchAnalyzerEngine on the same texts (see presidio_baseline for what that engine is).
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from etl_express.detect.entities import CORPUS_LABELS
from etl_express.evaluation.corpus import REPO_ROOT, LabeledText, corpus_dir, load_labeled
from etl_express.evaluation.scoring import Scoreboard

DEFAULT_OUTPUT = REPO_ROOT / "bench" / "results" / "privacy.json"
RECALL_TARGETS = {
    "RU_INN": 0.98,
    "RU_SNILS": 0.98,
    "RU_OGRN": 0.98,
    "RU_OMS": 0.98,
    "RU_PASSPORT": 0.98,
    "CREDIT_CARD": 0.98,
    "EMAIL_ADDRESS": 0.98,
    "PHONE_NUMBER": 0.98,
}
PERSON_RECALL_TARGET = 0.90
PRECISION_TARGET = 0.90

Predictor = Callable[[Sequence[str], str], list[list[dict[str, Any]]]]


def our_predictor(mode: str) -> Predictor:
    from etl_express.detect import detect_texts

    def predict(texts: Sequence[str], lang: str) -> list[list[dict[str, Any]]]:
        found = detect_texts(texts, lang=lang, mode=mode)  # type: ignore[arg-type]
        return [[s.to_dict() for s in spans if s.entity in CORPUS_LABELS] for spans in found]

    return predict


def presidio_predictor() -> Predictor:
    from etl_express.evaluation import presidio_baseline

    batch = presidio_baseline.build_batch_analyzer()

    def predict(texts: Sequence[str], lang: str) -> list[list[dict[str, Any]]]:
        return presidio_baseline.analyze(batch, texts)

    return predict


def by_language(items: Sequence[LabeledText]) -> dict[str, list[LabeledText]]:
    groups: dict[str, list[LabeledText]] = {}
    for item in items:
        groups.setdefault(item.lang, []).append(item)
    return groups


def evaluate_quality(items: Sequence[LabeledText], predict: Predictor) -> dict[str, Any]:
    exact, overlap = Scoreboard(overlap=False), Scoreboard(overlap=True)
    for lang, group in sorted(by_language(items).items()):
        predictions = predict([item.text for item in group], lang)
        for item, pred in zip(group, predictions, strict=True):
            exact.add_text(lang, item.spans, pred)
            overlap.add_text(lang, item.spans, pred)
    return {"exact": exact.report(), "overlap": overlap.report()}


def measure_throughput(
    items: Sequence[LabeledText], predictors: dict[str, Predictor], *, rounds: int, sample: int
) -> dict[str, dict[str, dict[str, float]]]:
    """texts/s per detector and language: best of ``rounds`` runs, detectors interleaved.

    The machine is shared, so a single timing mostly measures the neighbours; alternating
    the detectors within each round and keeping each one's best run compares like with like.
    """
    out: dict[str, dict[str, dict[str, float]]] = {name: {} for name in predictors}
    for lang, group in sorted(by_language(items).items()):
        texts = [item.text for item in group][:sample]
        timings: dict[str, list[float]] = {name: [] for name in predictors}
        for predict in predictors.values():
            predict(texts[:2], lang)  # models load outside the timed part
        for round_ in range(rounds):
            names = list(predictors)
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                started = time.perf_counter()
                predictors[name](texts, lang)
                timings[name].append(time.perf_counter() - started)
        for name, seconds in timings.items():
            out[name][lang] = {
                "texts": len(texts),
                "rounds": rounds,
                "best_seconds": round(min(seconds), 3),
                "texts_per_s": round(len(texts) / min(seconds), 1),
                "median_texts_per_s": round(len(texts) / sorted(seconds)[len(seconds) // 2], 1),
            }
    return out


def check_targets(quality: dict[str, Any]) -> dict[str, Any]:
    overlap = quality["overlap"]
    checks: dict[str, Any] = {}
    for entity, target in RECALL_TARGETS.items():
        recall = overlap["by_entity"].get(entity, {}).get("recall")
        checks[f"recall {entity} >= {target}"] = recall is not None and recall >= target
    for key, value in overlap["by_language_entity"].items():
        if key.endswith("/PERSON"):
            checks[f"recall {key} >= {PERSON_RECALL_TARGET}"] = (
                value["recall"] >= PERSON_RECALL_TARGET
            )
    checks[f"precision overall >= {PRECISION_TARGET}"] = (
        overlap["overall"]["precision"] >= PRECISION_TARGET
    )
    return checks


DEFAULT_RECORDS_RULES = REPO_ROOT / "include" / "privacy" / "records_rules.yaml"


def leak_check(directory: Path, rules: Path, operator_values: int) -> dict[str, Any]:
    """helper ANON's leak check of records.csv under ``rules`` and its operator throughput."""
    try:
        module = importlib.import_module("etl_express.anonymize.evaluate")
    except ImportError as exc:
        return {"available": False, "reason": f"etl_express.anonymize.evaluate: {exc}"}
    result: dict[str, Any] = {"available": True, "rules": str(rules)}
    checker = getattr(module, "leak_check_records", None)
    if checker is None:
        result["leak_check"] = {"error": "leak_check_records is not defined"}
    else:
        result["leak_check"] = _guarded(lambda: checker(directory / "records.csv", rules))
    throughput = getattr(module, "operator_throughput", None)
    if throughput is not None and operator_values > 0:
        result["operator_values"] = operator_values
        result["operator_throughput_values_per_s"] = _guarded(lambda: throughput(operator_values))
    return result


def _guarded(call: Callable[[], Any]) -> Any:
    # The anonymizer is another helper's module: report its failure instead of losing the run.
    try:
        return call()
    except Exception as exc:
        return {"error": f"{type(exc).__name__}: {exc}"}


def _fmt(cell: dict[str, Any]) -> str:
    return f"{cell['precision']:.3f} {cell['recall']:.3f} {cell['f1']:.3f} {cell['gold']:>5}"


def print_table(name: str, quality: dict[str, Any]) -> None:
    print(f"\n== {name}: precision recall F1 gold (overlap | exact)")
    overlap, exact = quality["overlap"], quality["exact"]
    for key in sorted(overlap["by_language_entity"]):
        o = overlap["by_language_entity"][key]
        e = exact["by_language_entity"].get(key)
        print(f"{key:22} {_fmt(o)} | {_fmt(e) if e else '-'}")
    for lang in sorted(overlap["by_language"]):
        print(f"{lang + '/ALL':22} {_fmt(overlap['by_language'][lang])}")
    print(f"{'ALL':22} {_fmt(overlap['overall'])} | {_fmt(exact['overall'])}")


def run(
    corpus: Path,
    output: Path,
    *,
    with_presidio: bool,
    modes: Sequence[str],
    records_rules: Path = DEFAULT_RECORDS_RULES,
    operator_values: int = 200_000,
    rounds: int = 3,
    sample: int = 300,
) -> dict[str, Any]:
    items = load_labeled(corpus)
    report: dict[str, Any] = {"corpus": str(corpus), "texts": len(items), "detectors": {}}
    predictors = {f"etlx_{mode}": our_predictor(mode) for mode in modes}
    if with_presidio:
        predictors["presidio_default"] = presidio_predictor()
    for name, predict in predictors.items():
        quality = evaluate_quality(items, predict)
        entry: dict[str, Any] = {"quality": quality}
        if name != "presidio_default":
            entry["targets"] = check_targets(quality)
        report["detectors"][name] = entry
        print_table(name, quality)
    report["load_average_before_timing"] = list(os.getloadavg())
    speeds = measure_throughput(items, predictors, rounds=rounds, sample=sample)
    for name, speed in speeds.items():
        report["detectors"][name]["throughput"] = speed
    report["speedup_vs_presidio"] = _speedups(report["detectors"])
    report["anonymization"] = leak_check(corpus, records_rules, operator_values)
    _print_summary(report)
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(report, ensure_ascii=False, indent=2), encoding="utf-8")
    print(f"\nwritten: {output}")
    return report


def _speedups(detectors: dict[str, Any]) -> dict[str, dict[str, float]]:
    base = detectors.get("presidio_default")
    if base is None:
        return {}
    out: dict[str, dict[str, float]] = {}
    for name, det in detectors.items():
        if name == "presidio_default":
            continue
        out[name] = {
            lang: round(speed["texts_per_s"] / base["throughput"][lang]["texts_per_s"], 2)
            for lang, speed in det["throughput"].items()
            if lang in base["throughput"]
        }
    return out


def _print_summary(report: dict[str, Any]) -> None:
    print("\n== throughput (texts/s)")
    for name, det in report["detectors"].items():
        speeds = ", ".join(f"{k}: {v['texts_per_s']}" for k, v in det["throughput"].items())
        print(f"{name:22} {speeds}")
    for name, ratios in report["speedup_vs_presidio"].items():
        print(f"speedup {name}: {ratios}")
    print("\n== targets")
    for name, det in report["detectors"].items():
        for check, ok in det.get("targets", {}).items():
            print(f"{name:16} {'PASS' if ok else 'FAIL'}  {check}")
    anon = report["anonymization"]
    print("\n== anonymization of records.csv")
    print(json.dumps(anon, ensure_ascii=False, indent=1)[:2000])


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--corpus", help="privacy corpus directory (default ../shared/...)")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="JSON report path")
    parser.add_argument("--modes", default="full,patterns", help="our detector modes to run")
    parser.add_argument("--no-presidio", action="store_true", help="skip the Presidio baseline")
    parser.add_argument("--rounds", type=int, default=3, help="timing rounds (best is kept)")
    parser.add_argument("--sample", type=int, default=300, help="texts per language timed")
    parser.add_argument(
        "--records-rules",
        default=str(DEFAULT_RECORDS_RULES),
        help="anonymization rules for the records.csv leak check",
    )
    parser.add_argument(
        "--operator-values",
        type=int,
        default=200_000,
        help="values per column operator in the throughput run (0 skips it)",
    )
    args = parser.parse_args(argv)
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    run(
        corpus_dir(args.corpus),
        Path(args.output),
        with_presidio=not args.no_presidio,
        modes=[m for m in args.modes.split(",") if m],
        records_rules=Path(args.records_rules),
        operator_values=args.operator_values,
        rounds=args.rounds,
        sample=args.sample,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
