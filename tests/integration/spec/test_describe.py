"""Describe queries on the machine's real PostgreSQL and MariaDB."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from etl_express.errors import ValidationFailed
from etl_express.spec import QueryRejected, StaticContext, parse_script
from etl_express.spec.describe import (
    SourceUnavailable,
    describe_mysql,
    describe_postgres,
    describe_url,
)
from etl_express.spec.extraction import ExtractionSpec

MARIADB = "mysql://root@127.0.0.1:3306"


@pytest.fixture(scope="module")
def pg_source(pg_database: str) -> str:
    with psycopg.connect(pg_database, autocommit=True) as conn:
        conn.execute(
            """
            CREATE TABLE IF NOT EXISTS customers (
                id bigint PRIMARY KEY,
                full_name text NOT NULL,
                email varchar(200),
                balance numeric(12, 2),
                score numeric,
                birth_date date,
                created_at timestamptz NOT NULL DEFAULT now(),
                tags text[],
                payload jsonb
            )
            """
        )
    return pg_database


def test_postgres_types_and_not_null(pg_source: str) -> None:
    columns = describe_postgres(pg_source, "SELECT *, id + 1 AS next_id FROM customers")
    got = {c.name: (c.type, c.nullable) for c in columns}
    assert got == {
        "id": ("int64", False),
        "full_name": ("string", False),
        "email": ("string", True),
        "balance": ("decimal128(12,2)", True),
        "score": ("string", True),
        "birth_date": ("date32", True),
        "created_at": ("timestamp[us, tz=UTC]", False),
        "tags": ("list<string>", True),
        "payload": ("json", True),
        "next_id": ("int64", True),
    }


def test_postgres_rejection_carries_the_server_message(pg_source: str) -> None:
    with pytest.raises(QueryRejected, match='column "nope" does not exist'):
        describe_postgres(pg_source, "SELECT nope FROM customers")


def test_postgres_describe_is_read_only(pg_source: str) -> None:
    # A write smuggled past the parser inside a function still fails: read-only transaction.
    # IMMUTABLE makes the planner run it while folding constants, even under LIMIT 0.
    with psycopg.connect(pg_source, autocommit=True) as conn:
        conn.execute("CREATE SEQUENCE IF NOT EXISTS counter")
        conn.execute(
            "CREATE OR REPLACE FUNCTION sneaky() RETURNS bigint LANGUAGE plpgsql IMMUTABLE AS "
            "$$ BEGIN RETURN nextval('counter'); END $$"
        )
    with pytest.raises(QueryRejected, match="read-only transaction"):
        describe_postgres(pg_source, "SELECT sneaky() AS s")


def test_postgres_statement_timeout(pg_source: str) -> None:
    with psycopg.connect(pg_source, autocommit=True) as conn:
        conn.execute(
            "CREATE OR REPLACE FUNCTION slow() RETURNS int LANGUAGE plpgsql IMMUTABLE AS "
            "$$ BEGIN PERFORM pg_sleep(3); RETURN 1; END $$"
        )
    slow = "SELECT slow() AS s"  # folded at plan time, so it runs despite LIMIT 0
    with pytest.raises(QueryRejected, match="within 1 s"):
        describe_postgres(pg_source, slow, timeout_s=1)


def test_unreachable_postgres_is_unavailable() -> None:
    with pytest.raises(SourceUnavailable):
        describe_postgres("postgresql://postgres@127.0.0.1:1/none", "SELECT 1")


def test_extraction_validation_records_the_schema(pg_source: str) -> None:
    ctx = StaticContext(
        connections={"src"}, describer=lambda _conn, sql: describe_url("postgres", pg_source, sql)
    )
    payload = {
        "source": "postgres",
        "connection_id": "src",
        "query": "SELECT id, email, created_at FROM customers "
        "WHERE created_at >= {{ data_interval_start }} AND created_at < '{{ data_interval_end }}'",
        "incremental_column": "created_at",
    }
    spec = parse_script("extraction", payload, ctx)
    assert isinstance(spec, ExtractionSpec) and spec.output_schema is not None
    assert [c.name for c in spec.output_schema] == ["id", "email", "created_at"]
    bad = {**payload, "query": "SELECT id, nope FROM customers"}
    with pytest.raises(ValidationFailed) as failed:
        parse_script("extraction", bad, ctx)
    assert [e.path for e in failed.value.errors] == ["$.query"]
    assert "nope" in failed.value.errors[0].message


@pytest.fixture(scope="module")
def mariadb_source() -> Iterator[str]:
    pymysql_free_url = MARIADB + "/mysql"
    name = f"etlx_spec_{secrets.token_hex(4)}"
    import connectorx as cx

    try:
        cx.read_sql(pymysql_free_url, "SELECT 1 AS one", return_type="arrow")
    except RuntimeError:
        pytest.skip("MariaDB is not running on 127.0.0.1:3306")
    # connectorx only reads; DDL goes through the mariadb client.
    import subprocess

    ddl = (
        f"CREATE DATABASE {name}; CREATE TABLE {name}.customers (id BIGINT PRIMARY KEY, "
        "full_name VARCHAR(200) NOT NULL, balance DECIMAL(12,2), birth_date DATE, "
        "created_at DATETIME(6));"
    )
    subprocess.run(["mariadb", "-uroot", "-h127.0.0.1", "-e", ddl], check=True)
    try:
        yield f"{MARIADB}/{name}"
    finally:
        subprocess.run(["mariadb", "-uroot", "-h127.0.0.1", "-e", f"DROP DATABASE {name}"])


def test_mariadb_types(mariadb_source: str) -> None:
    columns = describe_mysql(mariadb_source, "SELECT * FROM customers")
    assert [(c.name, c.type) for c in columns] == [
        ("id", "int64"),
        ("full_name", "string"),
        ("balance", "decimal128(38,10)"),
        ("birth_date", "date32"),
        ("created_at", "timestamp[us]"),
    ]


def test_mariadb_rejection(mariadb_source: str) -> None:
    with pytest.raises(QueryRejected, match="Unknown column 'nope'"):
        describe_mysql(mariadb_source, "SELECT nope FROM customers")


def test_describe_through_an_airflow_connection(pg_source: str, tmp_path: Path) -> None:
    """Resolved the way Airflow resolves it (here an AIRFLOW_CONN_ variable), then described."""
    code = textwrap.dedent(
        """
        import json
        from etl_express.spec.describe import describe_airflow_connection
        cols = describe_airflow_connection("crm", "SELECT id, email FROM customers")
        print("RESULT", json.dumps([[c.name, c.type, c.nullable] for c in cols]))
        print("RESULT", json.dumps(describe_airflow_connection("missing_conn", "SELECT 1")))
        """
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW_", "AIRFLOW__"))}
    env.update(
        {
            "AIRFLOW_HOME": str(tmp_path),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{tmp_path / 'airflow.db'}",
            "AIRFLOW_CONN_CRM": pg_source,
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    results = [ln[7:] for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    described, missing = results
    assert json.loads(described) == [["id", "int64", False], ["email", "string", True]]
    assert json.loads(missing) is None
