"""Keyed HMAC-SHA256 as polars expressions (polars-hash: native, ~2M values/s per core)."""

from __future__ import annotations

import polars as pl
import polars_hash as plh

HEX_CHUNK = 15  # 15 hex digits = 60 bits: fits Int64 without sign trouble
BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


def hmac_hex(expr: pl.Expr, subkey: str) -> pl.Expr:
    """Hex HMAC-SHA256 of a String expression (null stays null); same bytes as `hmac`."""
    return plh.CryptographicHashingNameSpace(expr).hmac_sha256(key=subkey)


def hex_word(hex_expr: pl.Expr, index: int) -> pl.Expr:
    """The `index`-th 60-bit unsigned number taken from a hex digest (0 <= index <= 3)."""
    if not 0 <= index <= 3:
        raise ValueError("a SHA-256 digest holds four 60-bit words (index 0..3)")
    return hex_expr.str.slice(index * 16, HEX_CHUNK).str.to_integer(base=16).cast(pl.Int64)


def base32_token(words: list[pl.Expr], length: int) -> pl.Expr:
    """`length` base32 characters (5 bits each) from 60-bit words (12 characters per word).

    Pass materialized word columns: each character reads its word once more.
    """
    chars: list[pl.Expr] = []
    for pos in range(length):
        digit = (words[pos // 12] // (32 ** (pos % 12))) % 32
        chars.append(pl.lit(BASE32).str.slice(digit, 1))
    return pl.concat_str(chars)


def as_text(expr: pl.Expr, dtype: pl.DataType) -> pl.Expr:
    """Canonical text of a value for hashing: strings as they are, others cast to String."""
    return expr if dtype == pl.String else expr.cast(pl.String)
