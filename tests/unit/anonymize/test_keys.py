from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from etl_express.anonymize.keys import (
    KeyRing,
    keyring_from_env,
    keyring_from_file,
)
from etl_express.errors import ConfigError

SECRET = "s3cret-material-0123456789abcdef"


def test_repr_and_describe_never_show_material() -> None:
    ring = KeyRing(SecretStr(SECRET), version="3")
    assert SECRET not in repr(ring)
    assert SECRET not in str(ring.describe())
    assert ring.describe()["version"] == "3"
    assert len(ring.describe()["fingerprint"]) == 12


def test_subkeys_differ_by_purpose_and_key() -> None:
    ring = KeyRing(SecretStr(SECRET))
    assert ring.subkey("pseudonym") != ring.subkey("leak")
    assert ring.subkey("pseudonym") == KeyRing(SecretStr(SECRET)).subkey("pseudonym")
    assert ring.subkey("pseudonym") != KeyRing(SecretStr(SECRET + "x")).subkey("pseudonym")


def test_short_key_refused() -> None:
    with pytest.raises(ConfigError, match="too short"):
        KeyRing(SecretStr("short"))


def test_env_provider() -> None:
    ring = keyring_from_env({"ETLX_PSEUDONYM_KEY": SECRET, "ETLX_PSEUDONYM_KEY_VERSION": "5"})
    assert ring.version == "5" and ring.material.get_secret_value() == SECRET
    with pytest.raises(ConfigError, match="ETLX_PSEUDONYM_KEY"):
        keyring_from_env({})


def test_file_provider_plain_and_json(tmp_path: Path) -> None:
    plain = tmp_path / "k.txt"
    plain.write_text(SECRET + "\n", encoding="utf-8")
    assert keyring_from_file(plain).material.get_secret_value() == SECRET
    enc = base64.b64encode(bytes(range(64))).decode()
    as_json = tmp_path / "k.json"
    as_json.write_text(json.dumps({"key": SECRET, "version": "9", "encryption_key": enc}))
    ring = keyring_from_file(as_json)
    assert ring.version == "9"
    assert ring.encryption_key() == bytes(range(64))
    empty = tmp_path / "e.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(ConfigError, match="empty"):
        keyring_from_file(empty)


def test_encryption_key_must_be_64_bytes() -> None:
    ring = KeyRing(
        SecretStr(SECRET), encryption_material=SecretStr(base64.b64encode(b"x" * 32).decode())
    )
    with pytest.raises(ConfigError, match="64 bytes"):
        ring.encryption_key()
    with pytest.raises(ConfigError, match="no encryption key"):
        KeyRing(SecretStr(SECRET)).encryption_key()
