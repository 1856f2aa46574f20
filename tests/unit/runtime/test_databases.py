from __future__ import annotations

import pytest

from etl_express.errors import ConfigError
from etl_express.runtime.databases import (
    check_connection,
    external_urls,
    libpq_url,
    redact,
    with_driver,
)
from etl_express.settings import Settings


def test_driver_conversion_round_trip() -> None:
    url = "postgresql+psycopg2://u:p@h:5432/db"
    assert libpq_url(url) == "postgresql://u:p@h:5432/db"
    assert with_driver(url, "psycopg") == "postgresql+psycopg://u:p@h:5432/db"
    assert with_driver("postgresql://postgres:@/x?host=/tmp/pg", "psycopg2") == (
        "postgresql+psycopg2://postgres:@/x?host=/tmp/pg"
    )


def test_redact_hides_password() -> None:
    assert "secret" not in redact("postgresql://u:secret@h/db")


def test_external_urls_default_to_sibling_databases(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", raising=False)
    settings = Settings(_env_file=None, database_url="postgresql://u:p@db.example:5433/etlx")
    urls = external_urls(settings)
    assert urls is not None and not urls.embedded
    assert urls.airflow == "postgresql://u:p@db.example:5433/airflow"
    assert urls.demo == "postgresql://u:p@db.example:5433/etlx_demo"
    assert urls.etlx_sqlalchemy.startswith("postgresql+psycopg://")


def test_no_urls_means_embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN", raising=False)
    assert external_urls(Settings(_env_file=None)) is None


def test_non_postgres_url_is_refused() -> None:
    with pytest.raises(ValueError, match="PostgreSQL URL"):
        Settings(_env_file=None, database_url="mysql://u@h/db")


def test_unreachable_server_names_the_setting() -> None:
    with pytest.raises(ConfigError, match="ETLX_DATABASE_URL") as info:
        check_connection("postgresql://nobody:pw@127.0.0.1:1/none", "ETLX_DATABASE_URL")
    assert "pw" not in str(info.value)
