from __future__ import annotations

import base64

import polars as pl
import pytest
from pydantic import SecretStr

from etl_express.anonymize.encryption import decrypt_series, encrypt_series
from etl_express.anonymize.keys import KeyRing
from etl_express.errors import Forbidden, ValidationFailed

KEY = "k" * 32


def ring(seed: int, version: str = "1") -> KeyRing:
    material = base64.b64encode(bytes([seed]) * 64).decode()
    return KeyRing(SecretStr(KEY), version=version, encryption_material=SecretStr(material))


VALUES = pl.Series("v", ["secret", "Ёжик", None, "secret", ""])


def test_round_trip_deterministic_and_unicode() -> None:
    enc = encrypt_series(VALUES, ring(1))
    assert enc[0] == enc[3] and enc[2] is None and enc[0] != "secret"
    assert decrypt_series(enc, ring(1), roles=["etlx_decrypt"]).to_list() == VALUES.to_list()


def test_decrypt_needs_role_and_right_key() -> None:
    enc = encrypt_series(VALUES, ring(1))
    with pytest.raises(Forbidden):
        decrypt_series(enc, ring(1), roles=["viewer"])
    with pytest.raises(ValidationFailed, match="does not open"):
        decrypt_series(enc, ring(2), roles=["admin"])
    with pytest.raises(ValidationFailed, match="key version 2"):
        decrypt_series(enc, ring(1, version="2"), roles=["admin"])


def test_empty_series() -> None:
    empty = pl.Series("v", [], dtype=pl.String)
    assert encrypt_series(empty, ring(1)).len() == 0
