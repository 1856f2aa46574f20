"""PostgreSQL for an instance: the embedded `pgserver` under ``$ETLX_HOME/pg`` or external URLs.

Three databases: Airflow's metadata, ours (registry, outbox, audit) and the demo source. With
no URL in the environment everything lives in the embedded server; with ``ETLX_DATABASE_URL``
set, the other two default to databases ``airflow`` and ``etlx_demo`` on the same server.
"""

from __future__ import annotations

import os
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from etl_express.errors import ConfigError
from etl_express.runtime.paths import StateDir
from etl_express.settings import Settings


@dataclass(frozen=True)
class DatabaseUrls:
    """libpq URLs (``postgresql://...``) of the three databases of an instance."""

    airflow: str
    etlx: str
    demo: str
    embedded: bool

    @property
    def airflow_sqlalchemy(self) -> str:
        return with_driver(self.airflow, "psycopg2")

    @property
    def etlx_sqlalchemy(self) -> str:
        return with_driver(self.etlx, "psycopg")


def libpq_url(url: str) -> str:
    """Drop a SQLAlchemy driver suffix: ``postgresql+psycopg2://`` → ``postgresql://``."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        raise ConfigError(f"not a database URL: {redact(url)!r}")
    return "postgresql://" + rest if scheme.startswith(("postgresql", "postgres")) else url


def with_driver(url: str, driver: str) -> str:
    return f"postgresql+{driver}://" + libpq_url(url).partition("://")[2]


def redact(url: str) -> str:
    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is shown without its credentials part
        return url.split("@")[-1]


def _with_database(url: str, name: str) -> str:
    return make_url(libpq_url(url)).set(database=name).render_as_string(hide_password=False)


def check_connection(url: str, setting: str) -> None:
    """Connect once; a failure becomes a ConfigError that names the setting to fix."""
    try:
        with psycopg.connect(libpq_url(url), connect_timeout=5) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"cannot connect to the database in {setting} ({redact(url)}): {reason}. "
            f"Fix {setting}, or unset it to use the embedded PostgreSQL under $ETLX_HOME/pg."
        ) from exc


def ensure_database(url: str, setting: str) -> None:
    """Create the database named by `url` when its server lacks it."""
    target = make_url(libpq_url(url))
    name = target.database
    if not name:
        raise ConfigError(f"{setting} ({redact(url)}) names no database")
    maintenance = _with_database(url, "postgres")
    try:
        with psycopg.connect(maintenance, connect_timeout=5, autocommit=True) as conn:
            exists = conn.execute(
                "SELECT 1 FROM pg_database WHERE datname = %s", (name,)
            ).fetchone()
            if not exists:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    except psycopg.Error as exc:
        raise ConfigError(
            f"cannot create database {name!r} for {setting} ({redact(url)}): "
            f"{str(exc).strip().splitlines()[0]}. Create it yourself or fix {setting}."
        ) from exc
    check_connection(url, setting)


def external_urls(settings: Settings) -> DatabaseUrls | None:
    etlx = settings.database_url
    airflow = settings.airflow_database_url or os.environ.get("AIRFLOW__DATABASE__SQL_ALCHEMY_CONN")
    if not etlx and not airflow:
        return None
    base = etlx or airflow
    assert base is not None
    return DatabaseUrls(
        airflow=libpq_url(airflow or _with_database(base, "airflow")),
        etlx=libpq_url(etlx or _with_database(base, "etlx")),
        demo=libpq_url(settings.demo_database_url or _with_database(base, "etlx_demo")),
        embedded=False,
    )


def prepare_external(urls: DatabaseUrls) -> None:
    check_connection(urls.etlx if urls.etlx else urls.airflow, "ETLX_DATABASE_URL")
    ensure_database(urls.airflow, "ETLX_AIRFLOW_DATABASE_URL")
    ensure_database(urls.etlx, "ETLX_DATABASE_URL")
    ensure_database(urls.demo, "ETLX_DEMO_DATABASE_URL")


def start_embedded(state: StateDir) -> tuple[DatabaseUrls, bool]:
    """Start (or reuse) the embedded server. Returns the URLs and whether this call started it."""
    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on servers
        warnings.simplefilter("ignore")
        import pgserver

    was_running = embedded_pid(state) is not None
    try:
        # cleanup_mode=None: the server outlives this process; `make down` stops it by pid.
        server = pgserver.get_server(state.pgdata, cleanup_mode=None)
    except Exception as exc:
        raise ConfigError(
            f"the embedded PostgreSQL in {state.pgdata} did not start: {exc}. "
            f"See {state.pgdata / 'log'}; set ETLX_DATABASE_URL to use an external server."
        ) from exc
    base = server.get_uri("postgres")
    urls = DatabaseUrls(
        airflow=_with_database(base, "airflow"),
        etlx=_with_database(base, "etlx"),
        demo=_with_database(base, "etlx_demo"),
        embedded=True,
    )
    for url, setting in ((urls.airflow, "airflow"), (urls.etlx, "etlx"), (urls.demo, "demo")):
        ensure_database(url, f"the embedded {setting} database")
    return urls, not was_running


def embedded_pid(state: StateDir) -> int | None:
    pidfile = state.pgdata / "postmaster.pid"
    try:
        pid = int(pidfile.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (FileNotFoundError, IndexError, ValueError, ProcessLookupError):
        return None
    except PermissionError:  # alive, owned by the pgserver system user
        return pid
    return pid


def stop_embedded(state: StateDir, timeout: float = 30) -> bool:
    pid = embedded_pid(state)
    if pid is None:
        return False
    os.kill(pid, signal.SIGINT)  # "fast" shutdown: roll back clients, checkpoint, exit
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and embedded_pid(state) is not None:
        time.sleep(0.2)
    if embedded_pid(state) is not None:
        os.kill(pid, signal.SIGQUIT)
    return True


def socket_dir(url: str) -> Path | None:
    host = make_url(libpq_url(url)).query.get("host")
    return Path(host) if isinstance(host, str) else None
