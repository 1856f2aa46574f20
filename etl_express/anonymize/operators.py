"""Column operators as polars expressions.

`column_outputs` turns one column rule into the expressions that replace the column (none for
drop; two for a fake with a token column). All work is vectorized; the only per-value Python
is AES-SIV encryption, done once per distinct value (see encryption.py). Every type or
parameter problem raises ValidationFailed naming the column and the parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import polars as pl

from etl_express.anonymize.fakes import fake_from_digest
from etl_express.anonymize.generalize import generalize_expr
from etl_express.anonymize.hashing import base32_token, hmac_hex
from etl_express.anonymize.keys import KeyRing
from etl_express.anonymize.rules import (
    DropRule,
    EncryptRule,
    FakeRule,
    KeepRule,
    MaskRule,
    NullifyRule,
    OperatorRule,
    PseudonymRule,
    RedactRule,
    TextMask,
)
from etl_express.errors import FieldError, ValidationFailed

PSEUDONYM_PURPOSE = "pseudonym"
FAKE_PURPOSE = "fake"
# Types whose text form is stable enough to hash (floats are not: 0.1+0.2 prints oddly).
HASHABLE = (pl.String, pl.Categorical, pl.Enum, pl.Date, pl.Datetime, pl.Boolean)


@dataclass(frozen=True)
class ColumnOutputs:
    """Expressions that replace one input column; `encrypt` marks the non-vectorized path."""

    exprs: list[pl.Expr]
    encrypt: bool = False


def type_error(column: str, operator: str, dtype: pl.DataType, wants: str) -> ValidationFailed:
    return ValidationFailed(
        [
            FieldError(
                f"$.columns.{column}.operator",
                f"operator {operator} needs {wants}, but column {column!r} is {dtype}; "
                "cast it in a transformation or choose another operator",
            )
        ]
    )


def hashable_text(column: str, operator: str, dtype: pl.DataType) -> pl.Expr:
    """The column as String for hashing; floats, nested and binary types are refused."""
    if dtype.is_integer() or isinstance(dtype, HASHABLE) or dtype in HASHABLE:
        return pl.col(column).cast(pl.String)
    raise type_error(column, operator, dtype, "text, integers, dates or booleans")


def pseudonym_expr(
    text: pl.Expr, keys: KeyRing, *, prefix: str, alphabet: str, length: int
) -> pl.Expr:
    digest = hmac_hex(text, keys.subkey(PSEUDONYM_PURPOSE))
    token = digest.str.slice(0, length) if alphabet == "hex" else base32_token(digest, length)
    return pl.concat_str([pl.lit(prefix), token]) if prefix else token


def fake_expr(text: pl.Expr, rule: FakeRule, keys: KeyRing, round_: int = 0) -> pl.Expr:
    # Round > 0 re-derives a fake that collided with an original value (engine.py).
    source = text if round_ == 0 else pl.concat_str([text, pl.lit(f"\x1f{round_}")])
    digest = hmac_hex(source, keys.subkey(f"{FAKE_PURPOSE}:{rule.kind}"))
    return fake_from_digest(digest, rule.kind, rule.locale)


def mask_expr(text: pl.Expr, rule: MaskRule | TextMask) -> pl.Expr:
    """Keep the first/last N characters; values too short to keep any are masked whole."""
    keep = rule.keep_first + rule.keep_last
    hidden = f"[^{re.escape(rule.preserve)}]" if rule.preserve else "(?s)."
    fill = rule.char.replace("$", "$$")
    n = text.str.len_chars()
    middle = text.str.slice(rule.keep_first, n - keep).str.replace_all(hidden, fill)
    last = text.str.slice(-rule.keep_last) if rule.keep_last else pl.lit("")
    partial = pl.concat_str([text.str.slice(0, rule.keep_first), middle, last])
    return pl.when(n > keep).then(partial).otherwise(text.str.replace_all(hidden, fill))


def _masked_text(column: str, dtype: pl.DataType) -> pl.Expr:
    if dtype == pl.String or dtype.is_integer() or isinstance(dtype, pl.Categorical | pl.Enum):
        return pl.col(column).cast(pl.String)
    raise type_error(column, "mask", dtype, "text or integers")


def column_outputs(
    column: str, rule: OperatorRule, dtype: pl.DataType, keys: KeyRing
) -> ColumnOutputs:
    col = pl.col(column)
    match rule:
        case KeepRule():
            return ColumnOutputs([col])
        case DropRule():
            return ColumnOutputs([])
        case NullifyRule():
            return ColumnOutputs([pl.lit(None, dtype=dtype).alias(column)])
        case RedactRule():
            redacted = pl.when(col.is_not_null()).then(pl.lit(rule.value)).otherwise(None)
            return ColumnOutputs([redacted.cast(pl.String).alias(column)])
        case MaskRule():
            return ColumnOutputs([mask_expr(_masked_text(column, dtype), rule).alias(column)])
        case PseudonymRule() | FakeRule() | EncryptRule():
            return _keyed_outputs(column, rule, dtype, keys)
        case _:
            return ColumnOutputs([generalize_expr(column, rule, dtype).alias(column)])


def _keyed_outputs(
    column: str, rule: PseudonymRule | FakeRule | EncryptRule, dtype: pl.DataType, keys: KeyRing
) -> ColumnOutputs:
    if isinstance(rule, EncryptRule):
        if not (dtype == pl.String or dtype.is_integer()):
            raise type_error(column, "encrypt", dtype, "text or integers")
        return ColumnOutputs([pl.col(column).cast(pl.String)], encrypt=True)
    text = hashable_text(column, rule.operator, dtype)
    if isinstance(rule, PseudonymRule):
        token = pseudonym_expr(
            text, keys, prefix=rule.prefix, alphabet=rule.alphabet, length=rule.length
        )
        return ColumnOutputs([token.alias(column)])
    exprs = [fake_expr(text, rule, keys).alias(column)]
    if rule.token_column:
        token = pseudonym_expr(text, keys, prefix="", alphabet="hex", length=32)
        exprs.append(token.alias(rule.token_column))
    return ColumnOutputs(exprs)
