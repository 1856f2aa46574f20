"""Throwaway databases on the test PostgreSQL server (shared by fixtures and tests)."""

from __future__ import annotations

import secrets

import psycopg
from psycopg import sql


def _admin(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True)


def create_database(server_url: str, prefix: str) -> str:
    """Create an empty database with a unique name; returns its libpq URL."""
    name = f"{prefix}_{secrets.token_hex(4)}"
    with _admin(server_url) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return server_url.rsplit("/", 1)[0] + "/" + name


def drop_database(server_url: str, db_url: str) -> None:
    name = db_url.rsplit("/", 1)[1].split("?", 1)[0]
    with _admin(server_url) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
