"""The CLI's validation context resolves Airflow connections and describes queries on them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from pg_databases import create_database, drop_database
from sqlalchemy.engine import make_url

from etl_express.configio.context import CliContext
from etl_express.runtime.demo import load_demo


@pytest.fixture(scope="module")
def demo_url(pg_server_url: str) -> Iterator[str]:
    url = create_database(pg_server_url, "etlx_cli_demo")
    load_demo(url)
    yield url
    drop_database(pg_server_url, url)


def test_describes_a_query_through_an_airflow_connection(
    demo_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    parsed = make_url(demo_url)
    conn = {
        "conn_type": "postgres", "host": parsed.host or "127.0.0.1", "port": parsed.port or 5432,
        "login": parsed.username or "postgres", "password": parsed.password or "",
        "schema": parsed.database,
    }  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_ETLX_CLI_DEMO", json.dumps(conn))
    ctx = CliContext(tmp_path)
    assert ctx.connection_exists("etlx_cli_demo") is True
    columns = ctx.describe_query("etlx_cli_demo", "SELECT id, full_name, balance FROM customers")
    assert columns is not None
    assert [(c.name, c.type) for c in columns][:2] == [("id", "int64"), ("full_name", "string")]
    assert ctx.describe_query("etlx_nowhere", "SELECT 1") is None
