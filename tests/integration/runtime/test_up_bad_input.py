"""`etlx up` refuses bad configuration with a message that says what to fix, and leaves
nothing started behind (no component pids, no embedded PostgreSQL)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from etl_express.runtime.databases import embedded_pid
from etl_express.runtime.health import free_port
from etl_express.runtime.paths import StateDir
from etl_express.runtime.secrets import read_env_file, write_env_file

ETLX = str(Path(sys.executable).parent / "etlx")


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ETLX_", "AIRFLOW"))}
    env.update({"ETLX_HOME": str(home), "ETLX_PORT": str(free_port()), **extra})
    return env


def _up(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ETLX, "up"], env=env, capture_output=True, text=True, timeout=600, check=False
    )


def _assert_nothing_running(home: Path) -> None:
    state = StateDir(home)
    pids = list(state.pids.glob("*.pid")) if state.pids.exists() else []
    assert pids == [], f"pid files left behind: {pids}"
    assert embedded_pid(state) is None, "embedded PostgreSQL left running"


@pytest.fixture
def home(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "etlx"
    subprocess.run([ETLX, "down"], env=_env(tmp_path / "etlx"), capture_output=True, check=False)


def test_wrong_database_url(home: Path) -> None:
    result = _up(_env(home, ETLX_DATABASE_URL="postgresql://etlx:pw@127.0.0.1:1/etlx"))
    assert result.returncode == 2
    assert "ETLX_DATABASE_URL" in result.stderr
    assert "127.0.0.1:1" in result.stderr and ":pw@" not in result.stderr
    _assert_nothing_running(home)


def test_non_postgres_url(home: Path) -> None:
    result = _up(_env(home, ETLX_DATABASE_URL="mysql://root@127.0.0.1/x"))
    assert result.returncode == 2
    assert "ETLX_DATABASE_URL" in result.stderr and "PostgreSQL" in result.stderr
    _assert_nothing_running(home)


def test_port_in_use(home: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        result = _up(_env(home, ETLX_PORT=str(port)))
    assert result.returncode == 2
    assert f"port {port}" in result.stderr and "ETLX_PORT" in result.stderr
    _assert_nothing_running(home)


def test_invalid_port_value(home: Path) -> None:
    result = _up(_env(home, ETLX_PORT="eighty"))
    assert result.returncode == 2
    assert "ETLX_PORT" in result.stderr
    _assert_nothing_running(home)


def test_missing_secret(home: Path) -> None:
    state = StateDir(home)
    state.ensure()
    write_env_file(state.secrets_file, {"AIRFLOW_FERNET_KEY": "x"}, "incomplete")
    result = _up(_env(home))
    assert result.returncode == 2
    assert "ETLX_PSEUDONYM_KEY" in result.stderr and "secrets.env" in result.stderr
    assert read_env_file(state.secrets_file) == {"AIRFLOW_FERNET_KEY": "x"}
    _assert_nothing_running(home)
