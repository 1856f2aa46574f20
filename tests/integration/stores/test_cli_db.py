"""`etlx db upgrade` / `etlx db current` through the real CLI entry point."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from etl_express.cli import _register, app
from etl_express.settings import Settings
from etl_express.stores import db

runner = CliRunner()


@pytest.fixture(autouse=True)
def _cli(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ETLX_DATABASE_URL", raising=False)
    # `make up` may have written .etlx/runtime.env in this checkout; read the environment only.
    monkeypatch.setattr(db, "get_settings", lambda: Settings(_env_file=None))
    _register()


def test_upgrade_then_current(etlx_db_url: str) -> None:
    result = runner.invoke(app, ["db", "upgrade", "--url", etlx_db_url])
    assert result.exit_code == 0, result.output
    assert "database at revision 0004" in result.output

    result = runner.invoke(app, ["db", "current", "--url", etlx_db_url])
    assert result.exit_code == 0
    assert "0004 (up to date)" in result.output


def test_url_from_environment(etlx_db_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETLX_DATABASE_URL", etlx_db_url)
    result = runner.invoke(app, ["db", "current"])
    assert result.exit_code == 0
    assert "up to date" in result.output


@pytest.mark.parametrize(
    ("env_url", "args"),
    [
        (None, []),
        ("mysql://root@localhost/x", []),
        (None, ["--url", "postgresql://postgres@127.0.0.1:1/none"]),
        (None, ["--url", "::bad::"]),
    ],
)
def test_bad_url_fails_clearly_without_traceback(
    monkeypatch: pytest.MonkeyPatch, env_url: str | None, args: list[str]
) -> None:
    if env_url:
        monkeypatch.setenv("ETLX_DATABASE_URL", env_url)
    result = runner.invoke(app, ["db", "upgrade", *args])
    assert result.exit_code == 2
    assert "ETLX_DATABASE_URL" in result.output
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
