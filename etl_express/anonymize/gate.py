"""Privacy gate: did any original personal value survive anonymization?

During the run the engine builds a `LeakIndex`: keyed hashes (HMAC with the "leak" subkey) of
the normalized original values of every personal column and of every entity detected in free
text. The index holds no raw values, so it can be kept with the batch, merged across chunks
and checked later. The check hashes every cell of the output batch the same way and looks it
up (polars `is_in` on hash columns), then runs a detection pass over text columns. Reasons
name columns, entity types and counts, never values.

Normalization: strip, casefold, collapse whitespace; values with >= 9 digits are also
compared by their digits alone, so "+7 (931) 491-26-60" and "79314912660" match (9 keeps
8-digit dates out of the digit comparison).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import polars as pl

from etl_express.anonymize.hashing import hmac_hex
from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.rules import TextColumnRule
from etl_express.anonymize.text import Detector, detect_by_language

LEAK_PURPOSE = "leak"
MIN_DIGITS = 9
MIN_TEXT_CHARS = 2  # one-character "values" are noise, not identifiers


@dataclass(frozen=True)
class LeakIndex:
    """Keyed hashes of original personal values (`hashes`) and of replacement values the
    engine itself inserted into text (`allowed`: a fake name is not a leak)."""

    hashes: pl.Series
    allowed: pl.Series
    key_version: str

    def merge(self, other: LeakIndex) -> LeakIndex:
        if other.key_version != self.key_version:
            raise ValueError("leak indexes built with different key versions cannot be merged")
        return LeakIndex(
            pl.concat([self.hashes, other.hashes]).unique(),
            pl.concat([self.allowed, other.allowed]).unique(),
            self.key_version,
        )


@dataclass(frozen=True)
class GateReason:
    kind: str  # "value_survived" | "entity_remains"
    column: str
    count: int
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "column": self.column,
            "count": self.count,
            "detail": self.detail,
        }


@dataclass(frozen=True)
class GateResult:
    passed: bool
    reasons: list[GateReason] = field(default_factory=list)
    checked_cells: int = 0

    @property
    def blocked(self) -> bool:
        return not self.passed

    def as_dict(self) -> dict[str, object]:
        return {
            "passed": self.passed,
            "checked_cells": self.checked_cells,
            "reasons": [r.as_dict() for r in self.reasons],
        }


def _forms(text: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(text form, digits form) of a String expression; null where a form does not apply."""
    norm = text.str.strip_chars().str.to_lowercase().str.replace_all(r"\s+", " ")
    norm = pl.when(norm.str.len_chars() >= MIN_TEXT_CHARS).then(pl.concat_str([pl.lit("t:"), norm]))
    digits = text.str.replace_all(r"[^0-9]+", "")  # ASCII class: 5x faster than \D
    digits = pl.when(digits.str.len_chars() >= MIN_DIGITS).then(
        pl.concat_str([pl.lit("d:"), digits])
    )
    return norm, digits


def _hashed_forms(values: pl.Series, keys: KeyRing, *, counted: bool = True) -> pl.DataFrame:
    """Distinct values with the keyed hash of each form ("ht", "hd") and, when `counted`,
    how often each occurs ("n"); staged so each form and HMAC is computed once."""
    subkey = keys.subkey(LEAK_PURPOSE)
    distinct = values.cast(pl.String).drop_nulls().rename("v")
    counts = distinct.value_counts(name="n") if counted else distinct.unique().to_frame()
    norm, digits = _forms(pl.col("v"))
    return (
        counts.lazy()
        .with_columns(ft=norm, fd=digits)
        .with_columns(ht=hmac_hex(pl.col("ft"), subkey), hd=hmac_hex(pl.col("fd"), subkey))
        .select(pl.exclude("v", "ft", "fd"))
        .collect()
    )


def hash_values(values: pl.Series, keys: KeyRing) -> pl.Series:
    """Keyed hashes of both normalized forms of every non-null value (unique)."""
    forms = _hashed_forms(values, keys, counted=False)
    return pl.concat([forms["ht"], forms["hd"]]).drop_nulls().unique().rename("h")


def build_leak_index(
    original: pl.DataFrame,
    personal_columns: Iterable[str],
    keys: KeyRing,
    *,
    detected_values: Iterable[str] = (),
    inserted_values: Iterable[str] = (),
) -> LeakIndex:
    parts = [hash_values(original[c], keys) for c in personal_columns if c in original.columns]
    parts.append(hash_values(pl.Series(list(detected_values), dtype=pl.String), keys))
    allowed = hash_values(pl.Series(list(inserted_values), dtype=pl.String), keys)
    hashes = pl.concat(parts).unique()
    return LeakIndex(hashes, allowed, keys.version)


def surviving_values(frame: pl.DataFrame, index: LeakIndex, keys: KeyRing) -> list[GateReason]:
    reasons = []
    for column in frame.columns:
        dtype = frame[column].dtype
        if dtype.is_nested() or dtype == pl.Binary or frame.height == 0:
            continue
        hits = _cell_hits(frame[column], index, keys)
        if hits:
            detail = f"{hits} cell(s) equal an original personal value after normalization"
            reasons.append(GateReason("value_survived", column, hits, detail))
    return reasons


def _cell_hits(values: pl.Series, index: LeakIndex, keys: KeyRing) -> int:
    """Cells whose text or digits form hashes into the index."""
    forms = _hashed_forms(values, keys)
    known = index.hashes.implode()
    hit = pl.col("ht").is_in(known).fill_null(False) | pl.col("hd").is_in(known).fill_null(False)
    return int(forms.filter(hit)["n"].sum())


def remaining_entities(
    frame: pl.DataFrame,
    text_rules: Mapping[str, TextColumnRule],
    index: LeakIndex,
    keys: KeyRing,
    detector: Detector,
) -> list[GateReason]:
    reasons = []
    for column, rule in text_rules.items():
        if column not in frame.columns:
            continue
        texts = frame[column].drop_nulls().unique()
        texts = texts.filter(texts != "")
        found = detect_by_language(texts, rule, detector)
        if not found:
            continue
        values = pl.Series([t[s:e] for t, _lang, s, e, _ent in found], dtype=pl.String)
        own = _text_form_hashes(values, keys).is_in(index.allowed.implode())
        counts = Counter(f[4] for f, ok in zip(found, own.to_list(), strict=True) if not ok)
        for entity, n in sorted(counts.items()):
            detail = f"{n} {entity} entit(ies) remain above score {rule.score_threshold}"
            reasons.append(GateReason("entity_remains", column, n, detail))
    return reasons


def _text_form_hashes(values: pl.Series, keys: KeyRing) -> pl.Series:
    """Text-form hash of each value, row-aligned (null for values too short to hash)."""
    norm, _ = _forms(pl.col("v"))
    frame = pl.DataFrame({"v": values})
    return frame.select(hmac_hex(norm, keys.subkey(LEAK_PURPOSE)).alias("h"))["h"]


def check_batch(
    frame: pl.DataFrame,
    index: LeakIndex,
    keys: KeyRing,
    *,
    text_rules: Mapping[str, TextColumnRule] | None = None,
    detector: Detector | None = None,
) -> GateResult:
    """Pass/fail for one anonymized batch; a failed batch must be `blocked`."""
    if keys.version != index.key_version:
        raise ValueError("the leak index was built with another key version than the check")
    reasons = surviving_values(frame, index, keys)
    if text_rules:
        if detector is None:
            from etl_express.anonymize.text import default_detector

            detector = default_detector()
        reasons += remaining_entities(frame, text_rules, index, keys, detector)
    return GateResult(not reasons, reasons, frame.height * frame.width)
