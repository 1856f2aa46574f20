"""Connecting to the ETL-Express database and migrating it.

Alembic is imported only by the functions that migrate: `make_engine` runs in every DAG parse.

Alembic runs programmatically with a Config built here (the equivalent of an ``alembic.ini``),
so `etlx db upgrade` works from any directory and inside an installed wheel.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from etl_express.errors import ConfigError
from etl_express.settings import get_settings
from etl_express.stores.schema import VERSION_TABLE

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS_LOCATION: Final = "etl_express.stores:migrations"
URL_SETTING: Final = "ETLX_DATABASE_URL"


def normalize_url(url: str) -> str:
    """Turn any PostgreSQL URL spelling into one that SQLAlchemy opens with psycopg 3."""
    try:
        parsed = make_url(url.strip())
    except sa.exc.ArgumentError as exc:
        raise ConfigError(
            f"{URL_SETTING} is not a valid database URL ({exc}); "
            "expected postgresql://user:password@host:port/database"
        ) from None
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise ConfigError(
            f"{URL_SETTING} must point at PostgreSQL, got '{parsed.drivername}://...'; "
            "expected postgresql://user:password@host:port/database"
        )
    return parsed.set(drivername="postgresql+psycopg").render_as_string(hide_password=False)


def _configured_url() -> str | None:
    from pydantic import ValidationError

    try:
        return get_settings().database_url
    except ValidationError as exc:
        problems = "; ".join(
            f"ETLX_{'_'.join(map(str, e['loc'])).upper()}: {e['msg']}" for e in exc.errors()
        )
        raise ConfigError(f"Invalid settings ({problems})") from None


def resolve_url(url: str | None = None) -> str:
    """The given URL, else ETLX_DATABASE_URL; a clear error when neither is set."""
    chosen = url or _configured_url()
    if not chosen:
        raise ConfigError(
            f"No database configured: set {URL_SETTING} "
            "(postgresql://user:password@host:port/database) or pass --url"
        )
    return normalize_url(chosen)


def make_engine(url: str | None = None, **kwargs: object) -> sa.Engine:
    """An engine on our database (``postgresql+psycopg``), pre-pinging pooled connections."""
    options: dict[str, object] = {"pool_pre_ping": True, "future": True}
    options.update(kwargs)
    return sa.create_engine(resolve_url(url), **options)


def alembic_config(url: str | None = None) -> Config:
    """What ``alembic.ini`` would hold, built in code so the CWD does not matter."""
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS_LOCATION)
    config.set_main_option("version_table", VERSION_TABLE)
    if url is not None:
        # ConfigParser interpolates '%', which URL-encoded passwords contain.
        config.set_main_option("sqlalchemy.url", resolve_url(url).replace("%", "%%"))
    return config


def _check_reachable(engine: sa.Engine) -> None:
    try:
        with engine.connect():
            pass
    except sa.exc.OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise ConfigError(
            f"Cannot connect to the database at {engine.url.render_as_string()} ({reason}); "
            f"check {URL_SETTING} and that PostgreSQL is running"
        ) from None


def upgrade(url: str | None = None, revision: str = "head") -> None:
    """Migrate our database to `revision` (default: the newest). Safe to run repeatedly."""
    from alembic import command

    engine = make_engine(url, poolclass=sa.pool.NullPool)
    _check_reachable(engine)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)
    engine.dispose()


def downgrade(url: str | None = None, revision: str = "base") -> None:
    """Undo migrations down to `revision` (default: an empty database)."""
    from alembic import command

    engine = make_engine(url, poolclass=sa.pool.NullPool)
    _check_reachable(engine)
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, revision)
    engine.dispose()


def current_revision(url: str | None = None) -> str | None:
    """The revision our database is at, or None when it was never migrated."""
    from alembic.runtime.migration import MigrationContext

    engine = make_engine(url, poolclass=sa.pool.NullPool)
    _check_reachable(engine)
    with engine.connect() as conn:
        revision = MigrationContext.configure(
            conn, opts={"version_table": VERSION_TABLE}
        ).get_current_revision()
    engine.dispose()
    return revision


def head_revision() -> str | None:
    """The newest revision shipped with this package."""
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()
