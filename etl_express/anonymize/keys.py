"""Keys for pseudonyms, fakes, the leak check and reversible encryption.

A `KeyRing` holds one master pseudonym key (an id and a version that are recorded on every
batch) and, optionally, an encryption key. Material is `SecretStr`, so `repr`, logs and
tracebacks show ``**********``. Keys never come from a script: providers read them from the
environment, a file, or an Airflow connection (task code only; Airflow is imported lazily).

Purposes are separated: each use derives its own subkey as HMAC(master, "etlx:<purpose>"),
so a pseudonym token cannot be turned into a leak-check hash or a fake seed and back.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from pydantic import SecretStr

from etl_express.errors import ConfigError

PSEUDONYM_KEY_ENV = "ETLX_PSEUDONYM_KEY"
PSEUDONYM_KEY_VERSION_ENV = "ETLX_PSEUDONYM_KEY_VERSION"
ENCRYPTION_KEY_ENV = "ETLX_ENCRYPTION_KEY"
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class KeyRing:
    """Master key plus metadata. `key_id`/`version` are safe to record; material is not."""

    material: SecretStr
    version: str = "1"
    key_id: str = "pseudonym"
    encryption_material: SecretStr | None = field(default=None)

    def __post_init__(self) -> None:
        if len(self.material.get_secret_value().encode("utf-8")) < MIN_KEY_BYTES:
            raise ConfigError(
                f"pseudonym key {self.key_id!r} is too short: use at least {MIN_KEY_BYTES} bytes "
                "of random material, e.g. the output of `openssl rand -hex 32`"
            )

    def subkey(self, purpose: str) -> str:
        """Hex subkey for one purpose (polars-hash takes the HMAC key as a string)."""
        return _derive(self.material.get_secret_value(), purpose)

    @cached_property
    def fingerprint(self) -> str:
        """Short non-secret identifier of the material (detects a silently swapped key)."""
        return self.subkey("fingerprint")[:12]

    def encryption_key(self) -> bytes:
        """64 bytes for AES-256-SIV; ConfigError when no encryption key was provided."""
        if self.encryption_material is None:
            raise ConfigError(
                f"no encryption key: set {ENCRYPTION_KEY_ENV} (64 random bytes, base64) or the "
                "'encryption_key' extra of the pseudonym key connection"
            )
        return decode_encryption_key(self.encryption_material.get_secret_value())

    def describe(self) -> dict[str, str]:
        """What goes on the batch record."""
        return {"key_id": self.key_id, "version": self.version, "fingerprint": self.fingerprint}


def _derive(master: str, purpose: str) -> str:
    return hmac.new(master.encode("utf-8"), f"etlx:{purpose}".encode(), hashlib.sha256).hexdigest()


def decode_encryption_key(text: str) -> bytes:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        raise ConfigError("encryption key must be base64 of 64 random bytes") from None
    if len(raw) != 64:
        raise ConfigError(f"encryption key must be 64 bytes (AES-256-SIV); got {len(raw)}")
    return raw


def keyring_from_env(environ: dict[str, str] | None = None) -> KeyRing:
    env = os.environ if environ is None else environ
    key = env.get(PSEUDONYM_KEY_ENV)
    if not key:
        raise ConfigError(f"no pseudonym key: set {PSEUDONYM_KEY_ENV} or pass --key-file")
    enc = env.get(ENCRYPTION_KEY_ENV)
    return KeyRing(
        material=SecretStr(key),
        version=env.get(PSEUDONYM_KEY_VERSION_ENV, "1"),
        key_id="env",
        encryption_material=SecretStr(enc) if enc else None,
    )


def keyring_from_file(path: str | Path, *, version: str | None = None) -> KeyRing:
    """Key file: the key on the first line, or JSON {"key", "version", "encryption_key"}."""
    text = Path(path).read_text(encoding="utf-8").strip()
    if text.startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict) or not data.get("key"):
            raise ConfigError(f"{path}: JSON key file needs a non-empty 'key'")
        enc = data.get("encryption_key")
        return KeyRing(
            material=SecretStr(str(data["key"])),
            version=str(version or data.get("version", "1")),
            key_id=f"file:{Path(path).name}",
            encryption_material=SecretStr(str(enc)) if enc else None,
        )
    if not text:
        raise ConfigError(f"{path}: key file is empty")
    return KeyRing(
        material=SecretStr(text.splitlines()[0]),
        version=version or "1",
        key_id=f"file:{Path(path).name}",
    )


def keyring_from_airflow(conn_id: str | None = None) -> KeyRing:
    """Key from an Airflow connection: password = key, extra {"version", "encryption_key"}.

    Only task code calls this (the Task SDK resolves connections from the secrets backend or
    AIRFLOW_CONN_* variables).
    """
    from airflow.sdk import BaseHook  # lazy: engine code must not import Airflow

    from etl_express.settings import get_settings

    conn_id = conn_id or get_settings().pseudonym_key_conn_id
    conn = BaseHook.get_connection(conn_id)
    if not conn.password:
        raise ConfigError(f"Airflow connection {conn_id!r} has no password (the pseudonym key)")
    extra = conn.extra_dejson or {}
    enc = extra.get("encryption_key")
    return KeyRing(
        material=SecretStr(conn.password),
        version=str(extra.get("version", "1")),
        key_id=f"airflow:{conn_id}",
        encryption_material=SecretStr(str(enc)) if enc else None,
    )
