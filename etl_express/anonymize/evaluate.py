"""Evaluation hooks used by `make eval-privacy` (helper DETECT's harness calls these).

`leak_check_records` anonymizes the corpus table with a rules file and checks, independently
of the gate's own bookkeeping, that no original personal value is left: exact cells anywhere,
gold comment spans inside their row's text, and any original personal value (>= 6 chars)
inside any anonymized free-text cell. `operator_throughput` measures values/s per operator.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import Any

import polars as pl
from pydantic import SecretStr

from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.rules import AnonymizationRules, load_rules_file, parse_rules

MIN_SUBSTRING = 6


def _norm(expr: pl.Expr) -> pl.Expr:
    return expr.cast(pl.String).str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")


def _pii_columns(csv_path: Path, rules: AnonymizationRules) -> list[str]:
    labels = csv_path.with_name("records_pii.json")
    if labels.exists():
        return list(json.loads(labels.read_text(encoding="utf-8"))["pii_columns"])
    return rules.personal_columns()


def _exact_leaks(original: pl.DataFrame, out: pl.DataFrame, columns: list[str]) -> dict[str, int]:
    cells = (
        pl.concat(
            [
                out.select(_norm(pl.col(c)).alias("v"))
                for c in out.columns
                if not out[c].dtype.is_nested()
            ]
        )["v"]
        .drop_nulls()
        .unique()
        .implode()
    )
    leaks = {}
    for c in columns:
        distinct = original.select(_norm(pl.col(c)).alias("v"))["v"].drop_nulls().unique()
        leaks[c] = int(distinct.filter(distinct != "").is_in(cells).sum())
    return leaks


def _substring_leaks(
    original: pl.DataFrame, out: pl.DataFrame, columns: list[str], text_columns: list[str]
) -> dict[str, int]:
    values = pl.concat([original[c].cast(pl.String) for c in columns]).drop_nulls().unique()
    needles = values.filter(values.str.len_chars() >= MIN_SUBSTRING).to_list()
    result: dict[str, int] = {}
    for c in text_columns:
        texts = out[c].drop_nulls()
        result[c] = (
            int(texts.str.contains_any(needles, ascii_case_insensitive=True).sum())
            if needles
            else 0
        )
    return result


def _gold_span_leaks(csv_path: Path, out: pl.DataFrame, row_key: str) -> dict[str, Any]:
    spans_file = csv_path.with_name("records_comment_spans.jsonl")
    if not spans_file.exists() or "comment" not in out.columns:
        return {"gold_spans": 0, "leaked_spans": 0, "leaked_by_entity": {}}
    rows = [
        json.loads(line) for line in spans_file.read_text(encoding="utf-8").splitlines() if line
    ]
    gold = pl.DataFrame(
        [
            {"id": str(r["id"]), "entity": s["entity"], "value": s["value"]}
            for r in rows
            for s in r["spans"]
        ],
        schema={"id": pl.String, "entity": pl.String, "value": pl.String},
    )
    joined = gold.join(out.select(pl.col(row_key).cast(pl.String).alias("id"), "comment"), on="id")
    joined = joined.with_columns(
        leaked=pl.col("comment").str.contains(pl.col("value"), literal=True).fill_null(False)
    )
    by_entity = joined.group_by("entity").agg(pl.col("leaked").sum()).filter(pl.col("leaked") > 0)
    return {
        "gold_spans": gold.height,
        "leaked_spans": int(joined["leaked"].sum()),
        "leaked_by_entity": dict(by_entity.iter_rows()),
    }


def leak_check_records(csv_path: str | Path, rules_path: str | Path) -> dict[str, Any]:
    """Anonymize records.csv with `rules_path`; count every original PII value left over."""
    from etl_express.anonymize.engine import anonymize_frame
    from etl_express.anonymize.gate import check_batch
    from etl_express.anonymize.report import k_anonymity

    csv_path = Path(csv_path)
    rules = load_rules_file(rules_path)
    keys = KeyRing(SecretStr(secrets.token_hex(32)), version="eval")
    original = pl.read_csv(csv_path, infer_schema=False)
    started = time.perf_counter()
    result = anonymize_frame(original, rules, keys)
    seconds = time.perf_counter() - started
    gate = check_batch(result.frame, result.leak_index, keys, text_rules=rules.text_columns)
    columns = _pii_columns(csv_path, rules)
    meta = (
        json.loads(csv_path.with_name("records_pii.json").read_text(encoding="utf-8"))
        if (csv_path.with_name("records_pii.json").exists())
        else {}
    )
    exact = _exact_leaks(original, result.frame, columns)
    substring = _substring_leaks(original, result.frame, columns, list(rules.text_columns))
    gold = _gold_span_leaks(csv_path, result.frame, meta.get("row_key", "id"))
    leaked_total = sum(exact.values()) + sum(substring.values()) + gold["leaked_spans"]
    return {
        "rows": original.height,
        "rules": str(rules_path),
        "pii_columns": columns,
        "exact_leaks_by_column": exact,
        "text_cells_containing_original_pii": substring,
        **gold,
        "leaked_total": leaked_total,
        "zero_leaks": leaked_total == 0 and gate.passed,
        "gate": gate.as_dict(),
        "entities": result.stats["entities"],
        "k_anonymity": k_anonymity(result.frame, rules.quasi_identifiers),
        "anonymize_seconds": round(seconds, 3),
    }


THROUGHPUT_RULES: dict[str, tuple[str, dict[str, Any]]] = {
    "keep": ("text", {"operator": "keep"}),
    "drop": ("text", {"operator": "drop"}),
    "nullify": ("text", {"operator": "nullify"}),
    "redact": ("text", {"operator": "redact"}),
    "mask": ("text", {"operator": "mask", "keep_first": 2, "keep_last": 2}),
    "pseudonym_hex": ("text", {"operator": "pseudonym", "prefix": "p_"}),
    "pseudonym_base32": ("text", {"operator": "pseudonym", "alphabet": "base32"}),
    "fake_person_name_ru": ("text", {"operator": "fake", "kind": "person_name"}),
    "fake_person_name_en": ("text", {"operator": "fake", "kind": "person_name", "locale": "en_US"}),
    "fake_email": ("text", {"operator": "fake", "kind": "email"}),
    "fake_phone_ru": ("text", {"operator": "fake", "kind": "phone"}),
    "fake_address_ru": ("text", {"operator": "fake", "kind": "address"}),
    "fake_inn12": ("text", {"operator": "fake", "kind": "inn12"}),
    "fake_snils": ("text", {"operator": "fake", "kind": "snils"}),
    "generalize_date_text": ("date_text", {"operator": "generalize", "kind": "date"}),
    "generalize_date": ("date", {"operator": "generalize", "kind": "date", "to": "year"}),
    "generalize_age": ("age", {"operator": "generalize", "kind": "age"}),
    "generalize_number": ("amount", {"operator": "generalize", "kind": "number", "width": 1000}),
    "generalize_address": ("address", {"operator": "generalize", "kind": "address"}),
    "encrypt": ("text", {"operator": "encrypt"}),
}


def _throughput_frame(n: int) -> pl.DataFrame:
    i = pl.col("i")
    days = (i * 7919) % 73_000  # ~200 years of distinct dates
    return pl.DataFrame({"i": pl.int_range(0, n, eager=True)}).select(
        text=pl.format("user{}@example.com", i),
        date_text=(pl.date(1900, 1, 1) + pl.duration(days=days)).dt.strftime("%d.%m.%Y"),
        date=pl.date(1900, 1, 1) + pl.duration(days=days),
        age=(i % 100).cast(pl.Int32),
        amount=(i * 7.31) % 100_000,
        address=pl.format("г. Город{}, ул. Ленина, д. {}", i % 5000, i % 200),
    )


def operator_throughput(n: int = 1_000_000) -> dict[str, float]:
    """Values per second of each column operator on `n` distinct values of one column.

    Plain names time the operator alone (its polars plan; `encrypt` is the one per-distinct-
    value Python path, AES-SIV, and every value here is distinct: its worst case).
    `engine_*` times `anonymize_frame` end to end for one personal column (operator + stats
    + leak index); `gate_*` time building the leak index and checking a batch against it.
    """
    from etl_express.anonymize.encryption import encrypt_series
    from etl_express.anonymize.engine import anonymize_frame
    from etl_express.anonymize.gate import build_leak_index, check_batch
    from etl_express.anonymize.operators import column_outputs, run_outputs

    frame = _throughput_frame(n)
    keys = KeyRing(
        SecretStr(secrets.token_hex(32)),
        encryption_material=SecretStr(_b64(secrets.token_bytes(64))),
    )
    results: dict[str, float] = {}
    for name, (column, spec) in THROUGHPUT_RULES.items():
        rule = parse_rules({"columns": {column: spec}}).columns[column]
        outputs = column_outputs(column, rule, frame.schema[column], keys)
        if outputs.encrypt:
            results[name] = _rate(n, partial(encrypt_series, frame[column], keys))
        else:
            results[name] = _rate(n, partial(run_outputs, frame, [outputs]))
    for name in ("pseudonym_hex", "fake_person_name_ru"):
        column, spec = THROUGHPUT_RULES[name]
        rules = parse_rules({"columns": {column: spec}, "unlisted_columns": "drop"})
        results[f"engine_{name}"] = _rate(n, partial(anonymize_frame, frame, rules, keys))
    index = build_leak_index(frame, ["text"], keys)
    results["gate_build_index"] = _rate(n, partial(build_leak_index, frame, ["text"], keys))
    results["gate_check_column"] = _rate(n, partial(check_batch, frame.select("text"), index, keys))
    return results


def _rate(n: int, fn: Callable[[], object]) -> float:
    started = time.perf_counter()
    fn()
    return round(n / max(time.perf_counter() - started, 1e-9), 1)


def _b64(raw: bytes) -> str:
    import base64

    return base64.b64encode(raw).decode("ascii")
