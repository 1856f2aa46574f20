"""Migrations on a real PostgreSQL: up from empty, idempotent, down to base, matches schema.py."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import psycopg
import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from psycopg import sql

from etl_express.errors import ConfigError
from etl_express.stores import db
from etl_express.stores.schema import VERSION_TABLE, metadata

EXPECTED_TABLES = {
    "scripts",
    "script_versions",
    "etl_tasks",
    "task_scripts",
    "task_runs",
    "task_run_chunks",
    "outbox_batches",
    "uploads",
    "audit_events",
    VERSION_TABLE,
}


@pytest.fixture
def empty_db_url(pg_server_url: str) -> Iterator[str]:
    name = f"etlx_mig_{secrets.token_hex(4)}"
    with psycopg.connect(pg_server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield pg_server_url.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(pg_server_url, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _tables(url: str) -> set[str]:
    engine = db.make_engine(url, poolclass=sa.pool.NullPool)
    with engine.connect() as conn:
        names = set(sa.inspect(conn).get_table_names())
        schemas = set(sa.inspect(conn).get_schema_names())
    engine.dispose()
    return names | {f"schema:{s}" for s in schemas if s == "outbox"}


def test_upgrade_from_empty_is_idempotent_and_downgrades_to_base(empty_db_url: str) -> None:
    assert db.current_revision(empty_db_url) is None

    db.upgrade(empty_db_url)
    assert db.current_revision(empty_db_url) == db.head_revision()
    assert _tables(empty_db_url) == EXPECTED_TABLES | {"schema:outbox"}

    db.upgrade(empty_db_url)  # a second run changes nothing and does not fail
    assert db.current_revision(empty_db_url) == db.head_revision()

    db.downgrade(empty_db_url, "base")
    assert db.current_revision(empty_db_url) is None
    assert _tables(empty_db_url) == {VERSION_TABLE}

    db.upgrade(empty_db_url)  # and back up again after a full downgrade
    assert db.current_revision(empty_db_url) == db.head_revision()


def test_migrated_database_matches_schema_module(pg_server_url: str) -> None:
    # A database of its own: other tests put source tables into the shared session database.
    from pg_databases import create_database, drop_database

    url = create_database(pg_server_url, "etlx_schema")
    try:
        db.upgrade(url)
        engine = db.make_engine(url)
        with engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"version_table": VERSION_TABLE, "compare_type": True}
            )
            diff = compare_metadata(context, metadata)
        engine.dispose()
    finally:
        drop_database(pg_server_url, url)
    assert diff == []


def test_outbox_schema_exists(etlx_db_url: str) -> None:
    assert "schema:outbox" in _tables(etlx_db_url)


@pytest.mark.parametrize(
    ("url", "fragment"),
    [
        ("mysql://root@127.0.0.1/x", "must point at PostgreSQL"),
        ("not a url", "not a valid database URL"),
        ("postgresql://postgres@127.0.0.1:1/nowhere", "Cannot connect"),
    ],
)
def test_bad_urls_raise_config_error_naming_the_setting(url: str, fragment: str) -> None:
    with pytest.raises(ConfigError) as info:
        db.upgrade(url)
    assert fragment in str(info.value)
    assert "ETLX_DATABASE_URL" in str(info.value)


def test_make_engine_uses_psycopg3() -> None:
    engine = db.make_engine("postgres://u:p%40ss@h:5/d")
    assert engine.url.drivername == "postgresql+psycopg"
    assert engine.url.password == "p@ss"
    engine.dispose()
