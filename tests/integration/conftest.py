"""Fixtures for integration tests: our database, migrated once per session.

``etlx_db_url`` is the URL of a throwaway database migrated to head (SQLAlchemy form,
``postgresql+psycopg://``). Tests that write should request ``etlx_db`` (or call
``truncate_etlx_tables``) so they start from empty tables. ``moto_s3``: moto's S3 server on a
free port, as fsspec/s3fs options.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import sqlalchemy as sa

# Children first so TRUNCATE needs no CASCADE surprises; audit_events and script_versions are
# append-only by trigger, which the helper switches off inside its own transaction only.
ETLX_TABLES = (
    "uploads",
    "outbox_batches",
    "task_run_chunks",
    "task_runs",
    "task_scripts",
    "etl_tasks",
    "script_versions",
    "scripts",
    "audit_events",
)
_PROTECTED = ("audit_events", "script_versions")


def truncate_etlx_tables(url: str) -> None:
    """Empty every ETL-Express table, the ``outbox`` schema and drop ``quarantine`` (tests only).

    DELETE with triggers off (``session_replication_role``, superuser) takes milliseconds on
    test-sized tables where TRUNCATE takes most of a second; without superuser rights the
    append-only triggers are switched off for a TRUNCATE inside the same transaction instead.
    """
    engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
    with engine.begin() as conn:
        if _is_superuser(conn):
            conn.execute(sa.text("SET LOCAL session_replication_role = replica"))
            for table in ETLX_TABLES:
                conn.execute(sa.text(f"DELETE FROM {table}"))
        else:
            _truncate_with_triggers_off(conn)
        outbox_tables = conn.execute(
            sa.text("SELECT count(*) FROM pg_tables WHERE schemaname = 'outbox'")
        ).scalar_one()
        if outbox_tables:
            conn.execute(sa.text("DROP SCHEMA outbox CASCADE"))
            conn.execute(sa.text("CREATE SCHEMA outbox"))
        conn.execute(sa.text("DROP SCHEMA IF EXISTS quarantine CASCADE"))
    engine.dispose()


def _is_superuser(conn: sa.Connection) -> bool:
    return bool(
        conn.execute(sa.text("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).scalar()
    )


def _truncate_with_triggers_off(conn: sa.Connection) -> None:
    for table in _PROTECTED:
        conn.execute(sa.text(f"ALTER TABLE {table} DISABLE TRIGGER {table}_no_truncate"))
    conn.execute(sa.text(f"TRUNCATE {', '.join(ETLX_TABLES)} RESTART IDENTITY CASCADE"))
    for table in _PROTECTED:
        conn.execute(sa.text(f"ALTER TABLE {table} ENABLE TRIGGER {table}_no_truncate"))


@pytest.fixture(scope="session")
def etlx_db_url(pg_database: str) -> str:
    """The session's throwaway database, migrated to head (``postgresql+psycopg://`` URL)."""
    from etl_express.stores.db import normalize_url, upgrade

    url = normalize_url(pg_database)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def etlx_reset() -> Callable[[str], None]:
    """`truncate_etlx_tables` for fixtures of wider scope (module-level shared data)."""
    return truncate_etlx_tables


@pytest.fixture
def etlx_db(etlx_db_url: str) -> str:
    """The migrated database URL, with every table emptied before the test."""
    truncate_etlx_tables(etlx_db_url)
    return etlx_db_url


@pytest.fixture
def etlx_engine(etlx_db: str) -> Iterator[sa.Engine]:
    """An engine on the emptied, migrated database; disposed after the test."""
    from etl_express.stores.db import make_engine

    engine = make_engine(etlx_db)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def moto_s3() -> Iterator[dict[str, Any]]:
    """moto's S3 server for this module, as s3fs options (see tests/s3_server.py); tests create
    their own buckets (`s3_server.s3_client`)."""
    from s3_server import running_moto_s3

    with running_moto_s3() as options:
        yield options
