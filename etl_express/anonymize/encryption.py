"""Reversible encryption of a column: AES-256-SIV (RFC 5297) from `cryptography`.

Why SIV: it is deterministic (equal plaintexts give equal ciphertexts, so a join or a
group-by on an encrypted column still works, like a pseudonym) and misuse-resistant (no nonce
to reuse). The price is that equality is visible, which pseudonyms reveal anyway.

Key handling: a separate 64-byte key (base64) from the KeyRing (env ETLX_ENCRYPTION_KEY,
a key file, or the `encryption_key` extra of the pseudonym-key Airflow connection); never
from a script. The ciphertext text is ``enc:v<key version>:<base64url>``, so the key version
that can open it travels with the value. Decryption is a separate, explicit function that
checks the caller's role; nothing in the pipeline calls it.

Per-value work: AES-SIV has no vectorized form, so it runs in Python once per DISTINCT value
(measured in evaluate.operator_throughput).
"""

from __future__ import annotations

import base64
from collections.abc import Collection

import polars as pl

from etl_express.anonymize.keys import KeyRing
from etl_express.errors import FieldError, Forbidden, ValidationFailed

PREFIX = "enc"
DECRYPT_ROLES = frozenset({"admin", "etlx_decrypt"})


def encrypt_series(values: pl.Series, keys: KeyRing) -> pl.Series:
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    cipher = AESSIV(keys.encryption_key())
    head = f"{PREFIX}:v{keys.version}:"
    distinct = values.drop_nulls().unique()
    encrypted = [
        head + base64.urlsafe_b64encode(cipher.encrypt(v.encode("utf-8"), None)).decode("ascii")
        for v in distinct.to_list()
    ]
    mapping = pl.DataFrame(
        {"v": distinct, "e": pl.Series(encrypted, dtype=pl.String)},
        schema={"v": pl.String, "e": pl.String},
    )
    return values.replace_strict(mapping["v"], mapping["e"], default=None, return_dtype=pl.String)


def decrypt_series(values: pl.Series, keys: KeyRing, *, roles: Collection[str]) -> pl.Series:
    """Plaintexts of `enc:v…:` values; only for callers holding a decrypt role."""
    if not {r.lower() for r in roles} & DECRYPT_ROLES:
        raise Forbidden(f"decrypting needs one of the roles {sorted(DECRYPT_ROLES)}")
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESSIV

    cipher = AESSIV(keys.encryption_key())
    head = f"{PREFIX}:v{keys.version}:"
    distinct = values.drop_nulls().unique().to_list()
    plain: list[str] = []
    for text in distinct:
        if not text.startswith(head):
            raise ValidationFailed(
                [FieldError("$", f"value is not a ciphertext of key version {keys.version}")]
            )
        try:
            raw = cipher.decrypt(base64.urlsafe_b64decode(text[len(head) :]), None)
        except (InvalidTag, ValueError):
            raise ValidationFailed(
                [FieldError("$", "ciphertext does not open with this key (wrong key or tampered)")]
            ) from None
        plain.append(raw.decode("utf-8"))
    return values.replace_strict(
        pl.Series(distinct, dtype=pl.String),
        pl.Series(plain, dtype=pl.String),
        default=None,
        return_dtype=pl.String,
    )
