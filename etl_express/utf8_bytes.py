"""Byte-level passes over a String column's Arrow buffers with numpy.

Used where a polars regex over every value costs more than the work it stands for: keeping a
value's ASCII digits is one comparison per byte, while `str.replace_all("[^0-9]+", "")` ran
the regex engine over each value (43 ms against 6 ms per 100k phone numbers).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pyarrow as pa


def utf8(text: pl.Series) -> tuple[np.ndarray, np.ndarray]:
    """The UTF-8 bytes of a String series' values end to end, and where each value starts
    (n + 1 offsets into those bytes; a null is an empty stretch)."""
    arr = text.rechunk().to_arrow(compat_level=pl.CompatLevel.oldest())
    _validity, offsets, data = arr.buffers()
    ends = np.frombuffer(offsets, np.int64)[arr.offset : arr.offset + len(arr) + 1]
    if data is None or len(arr) == 0:
        return np.empty(0, np.uint8), np.zeros(len(arr) + 1, np.int64)
    return np.frombuffer(data, np.uint8)[ends[0] : ends[-1]], ends - ends[0]


def per_value(marked: np.ndarray, ends: np.ndarray, ufunc: np.ufunc = np.add) -> np.ndarray:
    """`ufunc` over each value's stretch of `marked` (one entry per byte; `ends` from
    `utf8`): with np.add how many bytes of each value it flags. reduceat runs from each
    start to the next (the last value to the padded end) and gives an empty value the byte
    after it, hence the reset."""
    dtype = np.int64 if ufunc is np.add else marked.dtype
    if len(ends) == 1:
        return np.zeros(0, dtype)
    padded = np.append(marked, np.zeros(1, marked.dtype))
    reduced = ufunc.reduceat(padded, ends[:-1], dtype=dtype)
    reduced[ends[1:] == ends[:-1]] = 0
    return reduced


def digit_bytes(chars: np.ndarray) -> np.ndarray:
    """Which bytes are ASCII digits 0-9: no byte of another UTF-8 character is in 0x30-0x39,
    so keeping these keeps exactly a value's ASCII digits."""
    return (chars - np.uint8(0x30)) < 10


def kept_strings(
    chars: np.ndarray,
    ends: np.ndarray,
    keep: np.ndarray,
    valid: np.ndarray | None,
    counts: np.ndarray | None = None,
) -> pa.Array:
    """The values made of their kept bytes (`keep`, one flag per byte), null where `valid`
    is False (all valid when None); `counts`: `per_value(keep, ends)` if already taken."""
    counts = per_value(keep, ends) if counts is None else counts
    new_ends = np.zeros(len(ends), np.int64)
    np.cumsum(counts, out=new_ends[1:])
    return pa.LargeStringArray.from_buffers(
        len(ends) - 1,
        pa.py_buffer(new_ends),
        pa.py_buffer(np.compress(keep, chars)),
        None if valid is None else pa.py_buffer(np.packbits(valid, bitorder="little")),
    )


def ascii_digits(text: pl.Series) -> pl.Series:
    """Each value's ASCII digits 0-9 in order ("+7 (916) 123" -> "7916123"); null stays
    null."""
    chars, ends = utf8(text)
    valid = text.is_not_null().to_numpy() if text.null_count() else None
    return pl.Series(text.name, kept_strings(chars, ends, digit_bytes(chars), valid))
