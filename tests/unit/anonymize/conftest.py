from __future__ import annotations

import pytest
from pydantic import SecretStr

from etl_express.anonymize.keys import KeyRing


@pytest.fixture
def keys() -> KeyRing:
    return KeyRing(SecretStr("unit-test-key-0123456789abcdef"), version="7")


@pytest.fixture
def other_keys() -> KeyRing:
    return KeyRing(SecretStr("another-key-fedcba9876543210xx"), version="8")
