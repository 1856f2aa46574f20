"""Free-text columns: detect entities on distinct texts, replace the spans.

Detection (etl_express.detect) runs once per distinct text and language. Replacement values
are computed vectorized per distinct (entity, value) with the same expressions as the column
operators; only the final splice of replacements into each distinct text that has spans is
Python (string surgery has no columnar form), and it touches distinct texts only.

The values found go into the gate's leak index (a copy of one anywhere in the batch is a
leak), except bare place names: "Москва" or "ул. Ленина" without a house number is a
quasi-identifier like a kept city column, which k-anonymity judges, and a comment mentioning
Moscow does not make every "Москва" in the city column a leak. Addresses with a number stay in.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.operators import (
    ColumnOutputs,
    fake_outputs,
    mask_expr,
    pseudonym_outputs,
    run_outputs,
)
from etl_express.anonymize.rules import (
    FAKE_KIND_FOR_ENTITY,
    FakeRule,
    TextColumnRule,
    TextFake,
    TextMask,
    TextOperatorRule,
    TextPseudonym,
    TextRedact,
)
from etl_express.errors import FieldError, ValidationFailed

Detector = Callable[..., list[list[Any]]]
CYRILLIC = r"[А-Яа-яЁё]"
# Locations with a digit (house number, postcode, PO box) identify a household.
_IDENTIFYING = (pl.col("entity") != "LOCATION") | pl.col("value").str.contains(r"[0-9]")
LOCALE_OF_LANG = {"ru": "ru_RU", "en": "en_US"}


@dataclass
class TextOutcome:
    series: pl.Series
    found: Counter[str] = field(default_factory=Counter)
    replaced: Counter[str] = field(default_factory=Counter)
    detected_values: list[str] = field(default_factory=list)
    inserted_values: list[str] = field(default_factory=list)


def default_detector() -> Detector:
    from etl_express.detect import detect_texts

    return detect_texts


def detect_by_language(
    texts: pl.Series, rule: TextColumnRule, detector: Detector
) -> list[tuple[str, str, int, int, str]]:
    """(text, lang, start, end, entity) for every span found in the distinct `texts`."""
    if rule.language == "auto":
        is_ru = texts.str.contains(CYRILLIC)
        groups = {"ru": texts.filter(is_ru), "en": texts.filter(~is_ru)}
    else:
        groups = {rule.language: texts}
    found: list[tuple[str, str, int, int, str]] = []
    for lang, group in groups.items():
        values: Sequence[str] = group.to_list()
        if not values:
            continue
        spans = detector(
            values,
            lang=lang,
            entities=set(rule.entities),
            mode=rule.mode,
            score_threshold=rule.score_threshold,
        )
        for text, text_spans in zip(values, spans, strict=True):
            found.extend((text, lang, s.start, s.end, s.entity) for s in text_spans)
    return found


def replacement_outputs(
    entity: str, op: TextOperatorRule, lang: str, keys: KeyRing
) -> ColumnOutputs:
    """Outputs computing column "replacement" from column "value" (one entity, one language)."""
    value, name = pl.col("value"), "replacement"
    match op:
        case TextRedact():
            tag = op.value if op.value is not None else f"<{entity}>"
            return ColumnOutputs([pl.lit(tag, dtype=pl.String).alias(name)])
        case TextPseudonym():
            prefix = op.prefix if op.prefix is not None else f"{entity}_"
            return pseudonym_outputs(
                value, keys, name=name, prefix=prefix, alphabet="hex", length=op.length
            )
        case TextMask():
            return ColumnOutputs([mask_expr(value, op).alias(name)])
        case TextFake():
            locale = op.locale or LOCALE_OF_LANG[lang]
            rule = FakeRule(operator="fake", kind=FAKE_KIND_FOR_ENTITY[entity], locale=locale)
            return fake_outputs(value, rule, keys, name=name)


def _replacements(spans: pl.DataFrame, rule: TextColumnRule, keys: KeyRing) -> pl.DataFrame:
    pairs = spans.select("entity", "lang", "value").unique()
    parts = []
    for (entity, lang), group in pairs.group_by("entity", "lang"):
        outputs = replacement_outputs(str(entity), rule.entities[str(entity)], str(lang), keys)
        keep = ColumnOutputs([pl.col("entity"), pl.col("lang"), pl.col("value")])
        parts.append(run_outputs(group, [keep, outputs]))
    return pl.concat(parts)


def _splice(text: str, spans: Collection[tuple[int, int, str]]) -> str:
    out, pos = [], 0
    for start, end, repl in sorted(spans):
        if start < pos:  # overlapping span: the earlier one already replaced this stretch
            continue
        out.append(text[pos:start])
        out.append(repl)
        pos = end
    out.append(text[pos:])
    return "".join(out)


def anonymize_text(
    series: pl.Series, rule: TextColumnRule, keys: KeyRing, detector: Detector
) -> TextOutcome:
    if series.dtype != pl.String:
        raise ValidationFailed(
            [
                FieldError(
                    f"$.text_columns.{series.name}", f"needs a text column, got {series.dtype}"
                )
            ]
        )
    counts = series.drop_nulls().value_counts(name="n").filter(pl.col(series.name) != "")
    texts = counts[series.name]
    found = detect_by_language(texts, rule, detector)
    outcome = TextOutcome(series=series)
    if not found:
        return outcome
    spans = pl.DataFrame(
        found, schema=["text", "lang", "start", "end", "entity"], orient="row"
    ).with_columns(value=pl.col("text").str.slice(pl.col("start"), pl.col("end") - pl.col("start")))
    spans = spans.join(_replacements(spans, rule, keys), on=["entity", "lang", "value"])
    spans = spans.join(counts.rename({series.name: "text"}), on="text")
    for row in spans.group_by("entity").agg(pl.col("n").sum()).iter_rows():
        outcome.found[row[0]] += row[1]
        outcome.replaced[row[0]] += row[1]
    outcome.detected_values = spans.filter(_IDENTIFYING)["value"].unique().to_list()
    outcome.inserted_values = spans["replacement"].unique().to_list()
    per_text = spans.group_by("text").agg(pl.col("start"), pl.col("end"), pl.col("replacement"))
    new_texts = [_splice(t, list(zip(s, e, r, strict=True))) for t, s, e, r in per_text.iter_rows()]
    outcome.series = series.replace(per_text["text"], pl.Series(new_texts, dtype=pl.String))
    return outcome
