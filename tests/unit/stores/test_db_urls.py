"""URL handling and the in-code Alembic configuration (no server needed)."""

from __future__ import annotations

import pytest

from etl_express.errors import ConfigError
from etl_express.settings import Settings
from etl_express.stores import db
from etl_express.stores.schema import VERSION_TABLE


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("postgresql://u@h:5432/d", "postgresql+psycopg://u@h:5432/d"),
        ("postgres://u:pw@h/d", "postgresql+psycopg://u:pw@h/d"),
        (
            "postgresql+psycopg2://u@h/d?sslmode=require",
            "postgresql+psycopg://u@h/d?sslmode=require",
        ),
        (
            "  postgresql+psycopg://u@/d?host=/tmp/sock  ",
            "postgresql+psycopg://u@/d?host=%2Ftmp%2Fsock",
        ),
    ],
)
def test_normalize_url(url: str, expected: str) -> None:
    assert db.normalize_url(url) == expected


def test_password_with_special_characters_survives() -> None:
    engine = db.make_engine("postgresql://u:p%40ss%25w@h/d")
    assert engine.url.password == "p@ss%w"
    config = db.alembic_config("postgresql://u:p%40ss%25w@h/d")
    assert config.get_main_option("sqlalchemy.url") == "postgresql+psycopg://u:p%40ss%25w@h/d"
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("sqlite:///x.db", "must point at PostgreSQL"),
        ("mysql+pymysql://root@h/x", "must point at PostgreSQL"),
        ("definitely not a url", "not a valid database URL"),
    ],
)
def test_wrong_urls_name_the_setting(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        db.make_engine(url)
    assert fragment in str(info.value)
    assert "ETLX_DATABASE_URL" in str(info.value)


def _no_env_file(monkeypatch: pytest.MonkeyPatch) -> None:
    # `make up` may have written .etlx/runtime.env in this checkout; ignore it here.
    monkeypatch.setattr(db, "get_settings", lambda: Settings(_env_file=None))


def test_missing_url_says_what_to_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ETLX_DATABASE_URL", raising=False)
    _no_env_file(monkeypatch)
    with pytest.raises(ConfigError, match="set ETLX_DATABASE_URL"):
        db.make_engine()


def test_url_from_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETLX_DATABASE_URL", "postgresql://etl@db:5432/etlx")
    _no_env_file(monkeypatch)
    assert db.resolve_url() == "postgresql+psycopg://etl@db:5432/etlx"


def test_alembic_config_does_not_depend_on_the_working_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: object
) -> None:
    monkeypatch.chdir(str(tmp_path))
    config = db.alembic_config()
    assert config.get_main_option("script_location") == "etl_express.stores:migrations"
    assert config.get_main_option("version_table") == VERSION_TABLE
    assert db.head_revision() == "0004"
