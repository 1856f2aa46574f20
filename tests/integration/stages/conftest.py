"""The environment a stage entry point reads, for the tests of this folder that run them: each
such test module gives its own `source_url` (its source data)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from etl_express.settings import reset_settings_cache


@pytest.fixture
def env(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, etlx_db: str, source_url: str
) -> Iterator[str]:
    monkeypatch.setenv("ETLX_DATABASE_URL", etlx_db)
    monkeypatch.setenv("ETLX_STAGING_DIR", str(tmp_path / "staging"))
    monkeypatch.delenv("ETLX_STAGING_URL", raising=False)
    monkeypatch.setenv("AIRFLOW_CONN_SRC", source_url)
    monkeypatch.setenv("ETLX_PSEUDONYM_KEY", "k" * 32)
    reset_settings_cache()
    yield etlx_db
    reset_settings_cache()
