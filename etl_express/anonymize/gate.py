"""Privacy gate: did any original personal value survive anonymization?

During the run the engine builds a `LeakIndex`: keyed 64-bit hashes of the normalized original
values of every personal column and of every entity detected in free text. The check hashes
the distinct values of every output column the same way, in one query over all columns, and
looks them up (timestamp and time columns only when an original's text has a colon, which
theirs always have); then it runs a detection pass over text columns. Reasons name columns, entity
types and counts, never values.

The hash is polars' seeded 64-bit hash with the seed taken from the key's "leak" subkey, not an
HMAC: the index lives only in the worker's memory for one chunk (the staged chunk beside it
holds the originals anyway), and an HMAC per distinct value of every output cell cost 25x more
(bench, 100k rows x 12 columns: 2.3 s vs 0.09 s). A collision can only block a clean batch for
review, never let a leak through; with 2^64 values its odds per chunk are below 1e-6.

Normalization: strip, casefold, collapse whitespace. Values written as numbers (no letter of
any script: digits, spaces and punctuation only) with >= 9 digits are also compared by their
digits alone, so "+7 (931) 491-26-60", "7707 083 893" and "79314912660" match (9 keeps 8-digit
dates out of the digit comparison). A value with a letter is compared as text only: the digits
of a word or token ("3175c43ee1d8e4d5" -> "3175431845") are nobody's number, and a hex
pseudonym's digits equalled one of the chunk's 100k INNs in 4 of 10 bench chunks. Originals
and outputs follow the same rule. A number written among words ("ИНН 7707083893") is for the
search inside text columns to find.

Text columns are also searched for original values written inside them ("пишите на
anna@example.com"), which the detector may miss: see `values_inside_text`. That check needs
the raw normalized values, so the index keeps them (`TextNeedles`) in memory only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.rules import TextColumnRule
from etl_express.anonymize.text import Detector, detect_by_language
from etl_express.errors import EtlxError
from etl_express.utf8_bytes import digit_bytes, kept_strings
from etl_express.utf8_bytes import per_value as _per_value
from etl_express.utf8_bytes import utf8 as _utf8

LEAK_PURPOSE = "leak"
MIN_DIGITS = 9
MIN_TEXT_CHARS = 2  # one-character "values" are noise, not identifiers
# Inside free text only values this long count: shorter ones ("Анна", "Smith", "Kazan") are
# common words that a 100k-row chunk's comments hold by chance for other people. A value
# without letters must also have MIN_DIGITS digits, since a chunk's birth dates, amounts and
# short codes cover most of their space and would match any date or order number in a text.
MIN_INSIDE_CHARS = 6
# Stands in for a replacement the engine inserted: no original value contains it (PostgreSQL
# text cannot hold NUL), so no match can run through a masked stretch.
MASK = "\x00"


@dataclass(frozen=True)
class TextNeedles:
    """Original personal values to look for inside the text columns, normalized (`values`:
    "value", its middle `MIN_INSIDE_CHARS` characters "key", its column "source"), and the
    normalized replacements the engine inserted into text (`inserted`). Raw values: memory
    only, hidden from repr, never in stats, reasons or staged data."""

    text_columns: tuple[str, ...]
    values: pl.DataFrame = field(repr=False)
    inserted: tuple[str, ...] = field(default=(), repr=False)

    def merge(self, other: TextNeedles) -> TextNeedles:
        return TextNeedles(
            tuple(dict.fromkeys(self.text_columns + other.text_columns)),
            pl.concat([self.values, other.values]).unique(),
            tuple(dict.fromkeys(self.inserted + other.inserted)),
        )


@dataclass(frozen=True)
class LeakIndex:
    """Keyed hashes of original personal values (`hashes`, repeats possible) and of
    replacement values the engine itself inserted into text (`allowed`: a fake name is not
    a leak); `needles` for the search inside text columns."""

    hashes: pl.Series
    allowed: pl.Series
    key_version: str
    needles: TextNeedles | None = field(default=None, repr=False)
    # Whether a text form in `hashes` may hold a colon (`_colon_texts`); True unless known.
    colon_texts: bool = True

    def merge(self, other: LeakIndex) -> LeakIndex:
        if other.key_version != self.key_version:
            raise ValueError("leak indexes built with different key versions cannot be merged")
        needles = self.needles or other.needles
        if self.needles is not None and other.needles is not None:
            needles = self.needles.merge(other.needles)
        return LeakIndex(
            pl.concat([self.hashes, other.hashes]).unique(),
            pl.concat([self.allowed, other.allowed]).unique(),
            self.key_version,
            needles,
            self.colon_texts or other.colon_texts,
        )


@dataclass(frozen=True)
class GateReason:
    kind: str  # "value_survived" | "value_inside_text" | "entity_remains"
    column: str
    count: int
    detail: str
    source: str | None = None  # the personal column whose value was found ("value_inside_text")

    def as_dict(self) -> dict[str, object]:
        found: dict[str, object] = {
            "kind": self.kind,
            "column": self.column,
            "count": self.count,
            "detail": self.detail,
        }
        if self.source is not None:
            found["source"] = self.source
        return found


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


def _normalized(text: pl.Series) -> pl.Series:
    """Strip, casefold, collapse whitespace: the text form of a String series. Only runs of
    whitespace and non-space whitespace are replaced, which gives what replacing every run
    by a space gives, without a match at each single space (names, addresses: 12-19 ms
    against 6-9 per 100k values)."""
    return text.str.strip_chars().str.to_lowercase().str.replace_all(r"\s\s+|[^\S ]", " ")


# Byte classes: what a value's UTF-8 bytes hold, OR-ed per value by `_byte_classes`.
_LETTER = 1  # A-Z, a-z
_UPPER = 2  # A-Z: changed by casefolding
_NON_ASCII = 4  # part of a character beyond ASCII: a letter of another script, an NBSP, a dash...
_SPACE = 8  # whitespace and control bytes (<= 0x20): changed by stripping and collapsing
# The first byte of every whitespace character beyond ASCII (U+0085 and U+00A0: 0xC2;
# U+1680: 0xE1; U+2000-U+200A, U+2028, U+2029, U+202F, U+205F: 0xE2; U+3000: 0xE3). A value
# without it and without _SPACE has no whitespace to strip or collapse, whatever its script.
_MAYBE_SPACE = 16
_CLASS_OF_BYTE = np.zeros(256, np.uint8)
_CLASS_OF_BYTE[: 0x20 + 1] = _SPACE
_CLASS_OF_BYTE[ord("A") : ord("Z") + 1] = _LETTER | _UPPER
_CLASS_OF_BYTE[ord("a") : ord("z") + 1] = _LETTER
_CLASS_OF_BYTE[0x80:] = _NON_ASCII
_CLASS_OF_BYTE[[0xC2, 0xE1, 0xE2, 0xE3]] |= _MAYBE_SPACE


def _byte_classes(utf8: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
    """The byte classes each value (`_utf8` of a String series) holds, in one pass: what
    decides both whether it is its own text form and whether it has a digits form."""
    chars, ends = utf8
    return _per_value(np.take(_CLASS_OF_BYTE, chars), ends, np.bitwise_or)


def _digits_form(
    text: pl.Series,
    utf8: tuple[np.ndarray, np.ndarray] | None = None,
    classes: np.ndarray | None = None,
) -> pl.Series:
    """The digits form of each value of a String series: its ASCII digits 0-9 when it is
    written as a number (no letter of any script, `\\p{L}`) and has MIN_DIGITS of them,
    else null. From numpy passes over the Arrow bytes (`utf8`, `classes`: `_utf8(text)`
    and `_byte_classes` of it if already taken): a UTF-8 character other than 0-9 has no
    byte in 0x30-0x39, so keeping those bytes keeps exactly the digits. Only values with
    non-ASCII bytes and no ASCII letter ("+7\\u00a0931...", "ИНН 7707083893") need a regex
    for letters; a regex replacement of the non-digits cost 31 ms per 100k hex pseudonyms."""
    utf8 = utf8 if utf8 is not None else _utf8(text)
    classes = classes if classes is not None else _byte_classes(utf8)
    unlettered = (classes & _LETTER) == 0
    if not unlettered.any():  # names, e-mail addresses: every value has an ASCII letter
        return pl.repeat(None, len(text), dtype=pl.String, eager=True).alias(text.name)
    few = np.flatnonzero(unlettered)
    if len(few) * 4 < len(text):
        # Hex pseudonyms: one in 2,000 has no letter. The passes over every byte cost 8 of
        # 9 ms per 100k values; over those few values alone, nothing.
        nulls = pl.repeat(None, len(text), dtype=pl.String, eager=True).alias(text.name)
        return nulls.scatter(few, _digits_form(text.gather(few)))
    chars, ends = utf8
    keep = digit_bytes(chars)
    counts = _per_value(keep, ends)
    # A null is an empty stretch: no digits.
    numeric = unlettered & (counts >= MIN_DIGITS)
    unsure = numeric & ((classes & _NON_ASCII) != 0)
    if unsure.any():
        worded = text.filter(pl.Series(unsure)).str.contains(r"\p{L}").to_numpy()
        numeric[np.flatnonzero(unsure)[worded]] = False
    return pl.Series(text.name, kept_strings(chars, ends, keep, numeric, counts))


# How a String value (by its `_byte_classes`) becomes its text form, cheapest first.
_AS_IS, _LOWERED, _NORMALIZED = 0, 1, 2


def _text_form_work(classes: np.ndarray) -> np.ndarray:
    """Per value: _AS_IS when it is its own text form (only ASCII bytes from 0x21 to 0x7f
    and no A-Z: hex pseudonyms, digit strings, most e-mail addresses); _LOWERED when it has
    no whitespace to strip or collapse, so casefolding is all (a Cyrillic e-mail address,
    a capitalized word: 7 ms per 100k where normalizing cost 17); else _NORMALIZED."""
    work = np.full(len(classes), _NORMALIZED, np.uint8)
    work[(classes & (_SPACE | _MAYBE_SPACE)) == 0] = _LOWERED
    work[(classes & (_SPACE | _UPPER | _NON_ASCII)) == 0] = _AS_IS
    return work


_TEXT_FORM = {
    _AS_IS: lambda v: v,
    _LOWERED: lambda v: v.str.to_lowercase(),
    _NORMALIZED: _normalized,
}


def _text_of(column: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """The text of a typed column's values (see `_forms` for durations)."""
    return column.dt.to_string("iso") if dtype == pl.Duration else column.cast(pl.String)


def _as_text(values: pl.Series) -> pl.Series:
    return values.to_frame().select(_text_of(pl.first(), values.dtype)).to_series()


def _decoded(value: bytes | None) -> str | None:
    try:
        return None if value is None else value.decode()
    except UnicodeDecodeError:
        return None


def _forms(values: pl.Series) -> tuple[pl.Series, pl.Series]:
    """(text form, digits form) of each value, before the length tests of `_valid_forms`
    (`_digits_form` already gives null for a String value with too few digits).
    Typed values take the forms of their text; the canonical text of numbers and dates has
    no case or spaces to normalize, so that work is skipped (a unit test holds the shortcut
    to the forms of the same text)."""
    dtype = values.dtype
    if dtype == pl.Duration:
        # An interval can be an original value (a personal "time served") but is nobody's
        # name or number: polars has no cast of it to text, and its ISO 8601 text ("P3DT5S",
        # letters and all, so no digits form) is the same in every time unit, so an interval
        # kept in the output matches whatever unit either side holds it in.
        return _forms(_as_text(values))
    if dtype == pl.Binary:
        # A personal bytea (only an original: outputs of it are not `_checkable`) may hold
        # text; the rest (images, digests) is no value written as text and has no text form,
        # where polars' cast would fail the chunk. A Python loop, but over distinct values
        # of a rare column type.
        return _forms(pl.Series(values.name, [_decoded(b) for b in values], pl.String))
    text = values.cast(pl.String)
    if dtype.is_temporal():
        # A date has 8 digits at most; a timestamp's digits depend on how it was printed,
        # so only the text form is comparable.
        return text, pl.repeat(None, len(text), dtype=pl.String, eager=True)
    if dtype.is_integer():
        return text, text.str.strip_chars_start("-")
    if isinstance(dtype, pl.Decimal):  # digits, "-" and ".": no letter to look for
        return text, _digits_form(text, classes=np.zeros(len(text), np.uint8))
    return _normalized(text), _digits_form(text)


def _with_forms(rows: pl.DataFrame) -> list[pl.DataFrame]:
    """`rows` ("v", ...) with the forms of "v" ("_t", "_d"), in parts by the work their text
    form takes (`_text_form_work`), so that only values with whitespace are normalized."""
    values = rows["v"]
    if values.dtype != pl.String or values.is_empty():
        text, digits = _forms(values)
        return [rows.with_columns(_t=text, _d=digits)]
    utf8 = _utf8(values)
    classes = _byte_classes(utf8)
    rows = rows.with_columns(_d=_digits_form(values, utf8, classes))
    work = _text_form_work(classes)
    kinds = np.flatnonzero(np.bincount(work))  # np.unique sorts: 0.8 ms against 0.2
    if len(kinds) == 1:
        return [rows.with_columns(_t=_TEXT_FORM[int(kinds[0])](values))]
    parts = []
    for kind in kinds:
        part = rows.filter(pl.Series(work == kind))
        parts.append(part.with_columns(_t=_TEXT_FORM[int(kind)](part["v"])))
    return parts


def _valid_forms(seeds: tuple[int, int]) -> tuple[pl.Expr, pl.Expr]:
    """Hashes of the forms "_t" and "_d"; null where a form is too short to count."""
    text, digits = pl.col("_t"), pl.col("_d")
    return (
        pl.when(text.str.len_chars() >= MIN_TEXT_CHARS).then(text.hash(seeds[0])),
        pl.when(digits.str.len_bytes() >= MIN_DIGITS).then(digits.hash(seeds[1])),
    )


def leak_seeds(keys: KeyRing) -> tuple[int, int]:
    """Seeds for the text and the digits form: the same string hashes differently as a
    text and as a digits form, so the two never match each other."""
    subkey = keys.subkey(LEAK_PURPOSE)
    return int(subkey[:16], 16), int(subkey[16:32], 16)


def _hashed_forms(
    values: pl.Series, seeds: tuple[int, int], *, counted: bool = True
) -> pl.DataFrame:
    """The hash of each form ("ht", "hd") of the non-null `values` and, when `counted`, how
    many cells each row stands for ("n"), in no particular order. Values are grouped first
    unless nearly all are distinct: grouping 100k distinct emails cost more than computing
    their forms twice."""
    if values.dtype == pl.Boolean:  # carries no personal value
        schema = {"n": pl.UInt32} if counted else {}
        return pl.DataFrame(schema={**schema, "ht": pl.UInt64, "hd": pl.UInt64})
    rows = values.drop_nulls().to_frame("v")
    distinct = rows.select(pl.col("v").approx_n_unique()).item()
    if distinct < 0.5 * values.len():
        rows = rows.group_by("v").len(name="n") if counted else rows.unique()
    elif counted:
        rows = rows.with_columns(n=pl.lit(1, pl.UInt32))
    ht, hd = _valid_forms(seeds)
    hashed = [part.select(*(["n"] if counted else []), ht=ht, hd=hd) for part in _with_forms(rows)]
    return pl.concat(hashed) if len(hashed) > 1 else hashed[0]


def hash_values(values: pl.Series, keys: KeyRing) -> pl.Series:
    """Keyed hashes of both normalized forms of every non-null value (unique)."""
    forms = _hashed_forms(values, leak_seeds(keys), counted=False)
    return pl.concat([forms["ht"], forms["hd"]]).drop_nulls().unique()


def build_leak_index(
    original: pl.DataFrame,
    personal_columns: Iterable[str],
    keys: KeyRing,
    *,
    detected_values: Iterable[str] = (),
    inserted_values: Iterable[str] = (),
    text_columns: Iterable[str] = (),
    quasi_identifiers: Collection[str] = (),
) -> LeakIndex:
    """The chunk's index. With `text_columns`, also the needles searched for inside them:
    the personal columns' values except quasi-identifiers' (a city or a birth year in a
    comment is shared by many people; k-anonymity judges those columns)."""
    personal_columns = list(personal_columns)
    _refuse_objects(original, personal_columns)
    needles = None
    if text_columns := tuple(text_columns):
        sources = [c for c in personal_columns if c not in quasi_identifiers]
        needles = text_needles(original, sources, text_columns, inserted_values)
    seeds = leak_seeds(keys)
    parts = [
        _hashed_forms(original[c], seeds, counted=False)
        for c in personal_columns
        if c in original.columns
    ]
    parts.append(
        _hashed_forms(pl.Series(list(detected_values), dtype=pl.String), seeds,
                      counted=False)
    )  # fmt: skip
    stacked = pl.concat(parts)
    # Not made unique: the check's is_in builds a set of them anyway, and unique() over
    # 400k hashes (which nearly all differ) cost 12 ms per 100k rows.
    hashes = pl.concat([stacked["ht"], stacked["hd"]], rechunk=True).drop_nulls()
    allowed = hash_values(pl.Series(list(inserted_values), dtype=pl.String), keys)
    colons = any(_colon_texts(original[c]) for c in personal_columns if c in original.columns)
    colons = colons or any(":" in v for v in detected_values)
    return LeakIndex(hashes, allowed, keys.version, needles, colons)


# Types whose canonical text always holds a colon ("HH:MM:SS"), and types whose text never
# does. A cell of the first kind can only equal an original whose text has a colon; when no
# original's has one (names, e-mail addresses, numbers, dates), such columns are not hashed:
# a timestamp column's text took 35-40 ms per 100k rows, a fifth of the check.
_WITH_COLON = (pl.Datetime, pl.Time)
_COLON_FREE = (pl.Date, pl.Boolean, pl.Duration, pl.Null)  # and numbers, decimals too


def _colon_texts(values: pl.Series) -> bool:
    """Whether a text form of `values` (see `_forms`) may hold a colon."""
    dtype = values.dtype
    if dtype.is_numeric() or isinstance(dtype, _COLON_FREE) or dtype in _COLON_FREE:
        return False
    if dtype == pl.String:
        return bool(values.str.contains(":", literal=True).any())
    return True  # times, timestamps, and any type whose text is not known here


def _colon_free(dtype: pl.DataType, index: LeakIndex) -> bool:
    """Whether no cell of this type can equal an indexed original (`_colon_texts`)."""
    return not index.colon_texts and (isinstance(dtype, _WITH_COLON) or dtype in _WITH_COLON)


def _refuse_objects(frame: pl.DataFrame, columns: Iterable[str]) -> None:
    """Python objects (only a Python transformation can make them; Arrow has no such type)
    may be strings of personal values that no form of ours can read: fail closed, by name."""
    for column in columns:
        if column in frame.columns and frame.schema[column] == pl.Object:
            raise EtlxError(
                f"column {column!r} holds Python objects, which the privacy gate cannot check; "
                "give it a text, number or date type"
            )


def _checkable(frame: pl.DataFrame, column: str) -> bool:
    """Output columns compared with the index. Skipped: Null (no value at all), Binary (bytes
    are compared by nobody's text; a Binary original is indexed by its UTF-8 text, see
    `_forms`) and nested types. Booleans are skipped by `_hashed_forms`. Times, dates and
    intervals are compared by their canonical text (a time of day or an interval may be a
    personal column's value kept as it is)."""
    dtype = frame.schema[column]
    return not (dtype.is_nested() or dtype == pl.Binary or dtype == pl.Null)


def _inside_form(text: pl.Expr) -> pl.Expr:
    """`_forms`' text form without the strip, for searching inside text. Lowercased on both
    sides: ascii_case_insensitive would leave Cyrillic names case-sensitive. Only runs of
    whitespace and non-space whitespace are replaced: twice as fast as replacing every
    whitespace run on texts, whose single spaces would be most of the matches."""
    return text.str.replace_all(r"\s\s+|[^\S ]", " ").str.to_lowercase()


def text_needles(
    original: pl.DataFrame,
    columns: Iterable[str],
    text_columns: Iterable[str],
    inserted_values: Iterable[str] = (),
) -> TextNeedles:
    """The distinct identifying values of `columns` (see MIN_INSIDE_CHARS) to search for in
    `text_columns`, keyed by their middle characters: a value's middle rarely is a word of its
    own ("ivanov1234@example.com" -> "234@ex"), so the key pass flags few clean cells."""
    parts = [
        original.lazy().select(
            value=_inside_form(_text_of(pl.col(c), original.schema[c])).str.strip_chars(),
            source=pl.lit(c),
        )
        for c in columns
        if c in original.columns and _checkable(original, c) and original.schema[c] != pl.Boolean
    ]
    value, chars = pl.col("value"), pl.col("value").str.len_chars()
    # A letter, or MIN_DIGITS digits: one regex is twice as fast as a letter test or'ed with
    # a digit count.
    letter_or_digits = rf"\p{{L}}|(?:[0-9][^0-9]*){{{MIN_DIGITS}}}"
    identifying = (chars >= MIN_INSIDE_CHARS) & value.str.contains(letter_or_digits)
    middle = value.str.slice(chars // 2 - MIN_INSIDE_CHARS // 2, MIN_INSIDE_CHARS)
    values = (
        pl.concat(parts).drop_nulls().filter(identifying).unique().with_columns(key=middle)
        if parts
        else pl.LazyFrame(schema=dict.fromkeys(("value", "source", "key"), pl.String))
    )
    inserted = pl.Series(list(inserted_values), dtype=pl.String)
    inserted = inserted.to_frame("v").select(_inside_form(pl.col("v")).str.strip_chars())["v"]
    return TextNeedles(
        tuple(text_columns), values.collect(), tuple(inserted.drop_nulls().unique().to_list())
    )


def checked_columns(frame: pl.DataFrame, index: LeakIndex) -> list[str]:
    """The output columns whose cells may equal an indexed original: `_checkable` ones,
    except timestamps and times when no original's text has a colon (`_colon_free`)."""
    return [
        c for c in frame.columns if _checkable(frame, c) and not _colon_free(frame.schema[c], index)
    ]


def surviving_values(frame: pl.DataFrame, index: LeakIndex, keys: KeyRing) -> list[GateReason]:
    """Cells whose text or digits form hashes into the index, counted per column."""
    _refuse_objects(frame, frame.columns)
    columns = checked_columns(frame, index)
    if frame.height == 0 or not columns or index.hashes.len() == 0:
        return []
    seeds = leak_seeds(keys)
    forms = pl.concat(
        [
            _hashed_forms(frame[c], seeds).with_columns(column=pl.lit(i, dtype=pl.UInt32))
            for i, c in enumerate(columns)
        ]
    )
    # One is_in over both forms of all columns: building its hash set of the index is most
    # of the cost, and a filter on a chunked frame built one per chunk (semi-joins and a
    # join back by row number: 60 ms per 100k rows x 12 columns, this 12). A cell counts
    # once even when both its forms are known.
    both = pl.concat([forms["ht"], forms["hd"]], rechunk=True)
    found = both.is_in(index.hashes.implode())
    hit = found.head(forms.height) | found.tail(forms.height)
    hits = forms.filter(hit).group_by("column").agg(pl.col("n").sum()).sort("column")
    reasons = []
    for position, count in hits.iter_rows():
        detail = f"{count} cell(s) equal an original personal value after normalization"
        reasons.append(GateReason("value_survived", columns[position], int(count), detail))
    return reasons


def _found_inside(cells: pl.DataFrame, values: pl.DataFrame) -> pl.DataFrame:
    """("row", "column", "source", "value") for every value of `values` that a cell of `cells`
    ("row", "column", "text", one chunk) holds, by Aho-Corasick in two passes: the values' keys over
    every cell, then the whole values of the keys seen over the cells that had one. Building
    the automaton is most of the cost: over the 240k whole values of a 100k-row chunk 0.8 s,
    over their 100k keys 0.055 s, and a clean chunk needs only the key pass. Eager on one
    chunk because polars builds one automaton per chunk it runs in parallel (2 threads: twice
    the CPU for the same wall time). Patterns go in as lists: a Series literal in a lazy query
    was copied for every row (20k rows: 125 s, 6 GB)."""
    keys = values["key"].unique().to_list()
    marked = cells.with_columns(key=pl.col("text").str.extract_many(keys, overlapping=True))
    candidates = marked.filter(pl.col("key").list.len() > 0)
    if candidates.is_empty():
        return candidates.select("row", "column", source="text", value="text")
    pool = values.join(candidates.select(pl.col("key").explode()), on="key", how="semi")
    whole = pool["value"].unique().to_list()
    return (
        candidates.select(
            "row", "column", value=pl.col("text").str.extract_many(whole, overlapping=True)
        )
        .explode("value")
        .join(pool.select("value", "source"), on="value")
        .select("row", "column", "source", "value")
        .unique()
    )


def _without_inserted(
    cells: pl.DataFrame, found: pl.DataFrame, needles: TextNeedles
) -> pl.DataFrame:
    """`found` again with the engine's own replacements masked in those cells: a fake name
    that equals (or contains) another row's real name is not a leak. Only replacements that
    hold an original value are masked, so a real value beside an ordinary one still counts.
    Only the values found matter here (masking removes matches, never makes one), so both
    searches run over a handful of values."""
    seen = needles.values.join(found.select("value"), on="value", how="semi")
    inserted = pl.DataFrame({"text": list(needles.inserted)}, schema={"text": pl.String})
    inserted = inserted.with_row_index("row").select(
        "row", column=pl.lit(0, pl.UInt32), text="text"
    )
    own = _found_inside(inserted, seen)
    if own.is_empty():
        return found
    # Longest first, leftmost: an inserted value inside another is masked with it.
    masked = sorted({needles.inserted[i] for i in own["row"]}, key=len, reverse=True)
    again = cells.join(found.select("row").unique(), on="row", how="semi").with_columns(
        text=pl.col("text").str.replace_many(dict.fromkeys(masked, MASK), leftmost=True)
    )
    return _found_inside(again.rechunk(), seen)


def values_inside_text(frame: pl.DataFrame, needles: TextNeedles | None) -> list[GateReason]:
    """Text cells that still contain an original personal value of the chunk, as a substring
    after lowercasing, counted per text column and per personal column the value came from.
    All text columns are searched together: one automaton."""
    if needles is None or needles.values.is_empty() or frame.height == 0:
        return []
    columns = [
        c for c in needles.text_columns if c in frame.columns and frame.schema[c] == pl.String
    ]
    if not columns:
        return []
    cells = (
        pl.concat(
            [
                frame.lazy().select(column=pl.lit(i, pl.UInt32), text=_inside_form(pl.col(c)))
                for i, c in enumerate(columns)
            ]
        )
        .drop_nulls()
        .with_row_index("row")
        .collect()
        .rechunk()
    )
    found = _found_inside(cells, needles.values)
    if not found.is_empty() and needles.inserted:
        found = _without_inserted(cells, found, needles)
    counts = (
        found.unique(["row", "source"]).group_by("column", "source").len().sort("column", "source")
    )
    reasons = []
    for position, source, count in counts.iter_rows():
        detail = f"{count} cell(s) contain an original value of personal column {source!r}"
        reasons.append(
            GateReason("value_inside_text", columns[position], int(count), detail, source)
        )
    return reasons


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
    ht, _ = _valid_forms(leak_seeds(keys))
    return pl.DataFrame({"_t": _normalized(values.cast(pl.String))}).select(ht.alias("h"))["h"]


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
    # Needs no detector, so it runs even when the caller skips the detection pass.
    reasons += values_inside_text(frame, index.needles)
    if text_rules:
        if detector is None:
            from etl_express.anonymize.text import default_detector

            detector = default_detector()
        reasons += remaining_entities(frame, text_rules, index, keys, detector)
    return GateResult(not reasons, reasons, frame.height * frame.width)
