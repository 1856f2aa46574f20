from __future__ import annotations

import stat
from pathlib import Path

import pytest
from cryptography.fernet import Fernet

from etl_express.errors import ConfigError
from etl_express.runtime.secrets import load_or_create, read_env_file, write_env_file


def test_generated_once_then_reused(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    first = load_or_create(path)
    second = load_or_create(path)
    assert first == second
    Fernet(first.fernet_key.encode())  # a usable Fernet key
    assert len(first.pseudonym_key) == 64
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_repr_hides_secret_material(tmp_path: Path) -> None:
    value = load_or_create(tmp_path / "s.env")
    assert value.admin_password not in repr(value)


def test_missing_secret_is_an_error_that_names_it(tmp_path: Path) -> None:
    path = tmp_path / "secrets.env"
    load_or_create(path)
    values = read_env_file(path)
    del values["ETLX_PSEUDONYM_KEY"]
    write_env_file(path, values, "test")
    with pytest.raises(ConfigError, match="ETLX_PSEUDONYM_KEY"):
        load_or_create(path)
    assert "ETLX_PSEUDONYM_KEY" not in read_env_file(path)  # not silently regenerated


def test_admin_password_override(tmp_path: Path) -> None:
    assert load_or_create(tmp_path / "s.env", "chosen").admin_password == "chosen"


def test_malformed_line_names_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "s.env"
    path.write_text("A=1\nnot an assignment\n")
    with pytest.raises(ConfigError, match=r"s\.env:2"):
        read_env_file(path)
