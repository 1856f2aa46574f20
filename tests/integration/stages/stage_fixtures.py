"""Shared setup of the stage tests: a `people` source table and a bare task row."""

from __future__ import annotations

import psycopg
import sqlalchemy as sa

PEOPLE_COLUMNS = (
    "'Анна ' || g AS full_name, ' A' || g || '@Example.com ' AS email, "
    "'8 916 ' || lpad(g::text, 7, '0') AS phone, DATE '1990-01-01' + g AS birth_date, "
    "lpad(g::text, 10, '0') AS inn, 'street ' || g AS address, "
    "(g * 100)::numeric(12,2) AS salary, TIMESTAMPTZ '2024-01-01 00:00:00+00' AS created_at, "
    "' kazan ' AS city, true AS is_active"
)


def create_people(url: str, rows: int = 2500, table: str = "people", id_sql: str = "g") -> None:
    """(Re)create `table` with `rows` people (ids from `id_sql` over g = 1..rows)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {table} CASCADE")  # and views other tests made
        conn.execute(
            f"CREATE TABLE {table} AS SELECT {id_sql} AS id, {PEOPLE_COLUMNS} "
            f"FROM generate_series(1, {int(rows)}) g"
        )


def insert_task(url: str, slug: str) -> int:
    """A task row for stage runs that need one (bench bundles carry their own scripts)."""
    from etl_express.stores.db import make_engine
    from etl_express.stores.schema import etl_tasks

    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            task_id = conn.execute(
                sa.insert(etl_tasks)
                .values(slug=slug, name=slug, owner="o", created_by="o", updated_by="o", spec={})
                .returning(etl_tasks.c.id)
            ).scalar_one()
    finally:
        engine.dispose()
    return int(task_id)
