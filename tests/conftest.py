"""Shared fixtures: markers by folder and a throwaway PostgreSQL database per test session.

PostgreSQL: the server at ``ETLX_TEST_PG_URL`` (default: the machine's server on
127.0.0.1:5432, trust auth). When nothing answers there, an embedded ``pgserver`` is started
in a temporary directory, so the suite runs on any machine that can install the lock.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

# Heavy libraries must never reach out to the network from a test.
os.environ.setdefault("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "")
os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

ROOT = Path(__file__).resolve().parents[1]


def _helper_dirs() -> list[Path]:
    """Folders with shared test helpers (non-test modules such as api_helpers.py)."""
    tests = ROOT / "tests"
    found = {
        path.parent
        for path in tests.rglob("*.py")
        if not path.name.startswith(("test_", "conftest")) and "__pycache__" not in path.parts
    }
    return sorted(found | {tests})


for _folder in _helper_dirs():
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))

from pg_databases import create_database, drop_database  # noqa: E402  (needs the path above)

TEST_OUTPUT = Path(os.environ.get("ETLX_TEST_OUTPUT", ROOT / "test-output"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        parts = Path(str(item.fspath)).relative_to(ROOT / "tests").parts
        if parts and parts[0] in ("unit", "integration", "e2e"):
            item.add_marker(getattr(pytest.mark, parts[0]))


@pytest.fixture(scope="session")
def test_output_dir() -> Path:
    TEST_OUTPUT.mkdir(parents=True, exist_ok=True)
    return TEST_OUTPUT


def _server_answers(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """libpq URL of a PostgreSQL server's maintenance database (``.../postgres``)."""
    url = os.environ.get("ETLX_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    if _server_answers(url):
        yield url
        return
    import pgserver

    tmp = Path(tempfile.mkdtemp(prefix="etlx-pg-"))
    server = pgserver.get_server(tmp, cleanup_mode="stop")
    try:
        yield server.get_uri("postgres")
    finally:
        server.cleanup()
        shutil.rmtree(tmp, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_database(pg_server_url: str) -> Iterator[str]:
    """An empty throwaway database for this test session (libpq URL)."""
    url = create_database(pg_server_url, "etlx_test")
    try:
        yield url
    finally:
        drop_database(pg_server_url, url)


@pytest.fixture(scope="session")
def airflow_server(pg_server_url: str) -> Iterator[object]:
    """A real Airflow api-server + scheduler + dag-processor with our plugin (see
    tests/airflow_server.py). Session-scoped: booting costs about a minute."""
    from airflow_server import running_airflow

    with running_airflow(pg_server_url, create_database, drop_database) as server:
        yield server
