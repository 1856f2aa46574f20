"""`make up`: everything from a fresh clone to a healthy, logged-in-able ETL-Express.

Steps are idempotent, so running it twice is safe. On failure it stops whatever this call
started, so nothing is left half-started, and prints what to fix.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from pydantic import ValidationError

from etl_express.errors import ConfigError, EtlxError
from etl_express.runtime import processes
from etl_express.runtime.airflow_env import AirflowInstance, AirflowSecrets, build_airflow_env
from etl_express.runtime.bootstrap import airflow_command, prepare_airflow, with_venv_path
from etl_express.runtime.databases import (
    DatabaseUrls,
    external_urls,
    prepare_external,
    start_embedded,
    stop_embedded,
)
from etl_express.runtime.health import free_port, port_free, wait_healthy
from etl_express.runtime.paths import INCLUDE_DIR, StateDir
from etl_express.runtime.secrets import (
    InstanceSecrets,
    load_or_create,
    read_env_file,
    write_env_file,
)
from etl_express.settings import Settings

HEALTH_TIMEOUT_S = 300
REQUIRED_HEALTH = ("metadatabase", "scheduler", "triggerer", "dag_processor")


@dataclass
class Rollback:
    """What this call started, to undo on failure."""

    state: StateDir
    components: list[str] = field(default_factory=list)
    embedded_pg: bool = False

    def undo(self) -> None:
        for name in reversed(self.components):
            processes.stop(self.state, name)
        if self.embedded_pg:
            stop_embedded(self.state)


def say(message: str) -> None:
    print(message, flush=True)


def _step(title: str, action: Callable[[], object]) -> object:
    started = time.monotonic()
    print(f"  {title} ...", end="", flush=True)
    result = action()
    print(f" done ({time.monotonic() - started:.1f} s)", flush=True)
    return result


def _load_settings() -> Settings:
    # Not from runtime.env: that file holds what the previous `up` chose, not what the user asks.
    try:
        return Settings(_env_file=None)
    except ValidationError as exc:
        problems = "; ".join(
            f"ETLX_{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}"
            for err in exc.errors()
        )
        raise ConfigError(f"invalid setting: {problems}") from exc


def _log_ports(state: StateDir) -> tuple[int, int]:
    """Log-server ports: chosen once per instance, so two instances never collide."""
    runtime = read_env_file(state.runtime_env_file) if state.runtime_env_file.exists() else {}
    ports = []
    for key in ("ETLX_WORKER_LOG_PORT", "ETLX_TRIGGER_LOG_PORT"):
        value = runtime.get(key)
        port = int(value) if value and value.isdigit() and port_free("127.0.0.1", int(value)) else 0
        ports.append(port or free_port())
    return ports[0], ports[1]


def _running_components(state: StateDir) -> list[str]:
    return [name for name in processes.COMPONENTS if processes.read_pid(state, name) is not None]


def write_credentials(state: StateDir, settings: Settings, secrets: InstanceSecrets) -> None:
    write_env_file(
        state.credentials_file,
        {
            "ETLX_URL": settings.url,
            "ETLX_ADMIN_USER": settings.admin_user,
            "ETLX_ADMIN_PASSWORD": secrets.admin_password,
        },
        "ETL-Express: where it runs and how to log in (written by `make up`).",
    )


def _print_ready(settings: Settings, secrets: InstanceSecrets, state: StateDir) -> None:
    say("")
    say(f"ETL-Express is running: {settings.url}")
    say(f"  user:     {settings.admin_user}")
    say(f"  password: {secrets.admin_password}")
    say(f"  (also in {state.credentials_file}; logs in {state.logs}; stop with `make down`)")


def _databases(settings: Settings, state: StateDir, rollback: Rollback) -> DatabaseUrls:
    urls = external_urls(settings)
    if urls is not None:
        prepare_external(urls)
        return urls
    urls, started = start_embedded(state)
    rollback.embedded_pg = started
    return urls


def _migrate_etlx(url: str) -> None:
    from etl_express.stores.db import upgrade

    upgrade(url)


def _load_demo(url: str) -> None:
    from etl_express.runtime.demo import load_demo

    load_demo(url)


def _apply_demo_task(url: str) -> None:
    from etl_express.configio.apply import apply
    from etl_express.configio.documents import load_documents
    from etl_express.stores.audit import Actor
    from etl_express.stores.db import make_engine

    engine = make_engine(url)
    try:
        documents = load_documents([INCLUDE_DIR / "scripts" / "demo"])
        apply(engine, documents, Actor("make-up", "system"))
    finally:
        engine.dispose()


def connections_env(urls: DatabaseUrls, secrets: InstanceSecrets) -> dict[str, str]:
    """Connections the demo and the anonymizer use, given to every component as env vars."""
    import json

    from sqlalchemy.engine import make_url

    demo = make_url(urls.demo)
    host = demo.query.get("host") or demo.host or "127.0.0.1"
    demo_conn = {
        "conn_type": "postgres",
        "host": host,
        "port": demo.port or 5432,
        "login": demo.username or "postgres",
        "password": demo.password or "",
        "schema": demo.database,
    }
    key_conn = {
        "conn_type": "generic",
        "password": secrets.pseudonym_key,
        "extra": {"version": "1"},
    }
    return {
        "AIRFLOW_CONN_ETLX_DEMO": json.dumps(demo_conn),
        "AIRFLOW_CONN_ETLX_PSEUDONYM_KEY": json.dumps(key_conn),
        "ETLX_DEMO_DATABASE_URL": urls.demo,
    }


def _start_components(state: StateDir, env: dict[str, str], rollback: Rollback) -> None:
    for name in processes.COMPONENTS:
        processes.start(state, name, airflow_command(name), env)
        rollback.components.append(name)


def _dead_component(state: StateDir) -> str | None:
    for name in processes.COMPONENTS:
        if processes.read_pid(state, name) is None:
            return name
    return None


def bring_up(settings: Settings, state: StateDir, rollback: Rollback) -> InstanceSecrets:
    state.ensure()
    secrets = load_or_create(
        state.secrets_file,
        settings.admin_password.get_secret_value() if settings.admin_password else None,
    )
    if not port_free(settings.host, settings.port):
        raise ConfigError(
            f"port {settings.port} on {settings.host} is in use by another program; stop it "
            "or choose another port, e.g. `ETLX_PORT=8090 make up`"
        )
    urls = _step("PostgreSQL", lambda: _databases(settings, state, rollback))
    assert isinstance(urls, DatabaseUrls)
    worker_log_port, trigger_log_port = _log_ports(state)
    instance = AirflowInstance(
        airflow_home=state.airflow_home,
        metadata_url=urls.airflow_sqlalchemy,
        etlx_database_url=urls.etlx_sqlalchemy,
        etlx_home=state.root,
        host=settings.host,
        port=settings.port,
        worker_log_port=worker_log_port,
        trigger_log_port=trigger_log_port,
        secrets=AirflowSecrets(secrets.fernet_key, secrets.jwt_secret, secrets.api_secret_key),
    )
    env = with_venv_path({**build_airflow_env(instance), **connections_env(urls, secrets)})
    write_env_file(
        state.runtime_env_file,
        {
            "ETLX_DATABASE_URL": urls.etlx_sqlalchemy,
            "ETLX_DEMO_DATABASE_URL": urls.demo,
            "ETLX_AIRFLOW_DATABASE_URL": urls.airflow_sqlalchemy,
            "ETLX_WORKER_LOG_PORT": str(worker_log_port),
            "ETLX_TRIGGER_LOG_PORT": str(trigger_log_port),
        },
        "Chosen by `make up`; read by the etlx CLI. Regenerated on every `make up`.",
    )
    write_env_file(
        state.root / "airflow.env",
        {key: value for key, value in env.items() if key.startswith("AIRFLOW")},
        "The instance's Airflow environment, for etlx commands that look up connections.",
    )
    _step(
        "Airflow metadata database and admin user",
        lambda: prepare_airflow(
            state.airflow_home,
            env,
            metadata_url=urls.airflow,
            admin_user=settings.admin_user,
            admin_password=secrets.admin_password,
            log=state.logs / "setup.log",
            reset_password=settings.admin_password is not None,
        ),
    )
    _step("ETL-Express database", lambda: _migrate_etlx(urls.etlx_sqlalchemy))
    _step("demo source database", lambda: _load_demo(urls.demo))
    _step("demo scripts and task", lambda: _apply_demo_task(urls.etlx_sqlalchemy))
    _step("Airflow components", lambda: _start_components(state, env, rollback))
    _step(
        "waiting until healthy",
        lambda: wait_healthy(
            f"http://127.0.0.1:{settings.port}"
            if settings.host in ("0.0.0.0", "::")
            else settings.url,
            REQUIRED_HEALTH,
            HEALTH_TIMEOUT_S,
            lambda: _dead_component(state),
        ),
    )
    write_credentials(state, settings, secrets)
    return secrets


def run_up() -> int:
    started = time.monotonic()
    rollback: Rollback | None = None
    try:
        settings = _load_settings()
        state = StateDir(settings.home)
        running = _running_components(state) if state.pids.exists() else []
        if len(running) == len(processes.COMPONENTS):
            secrets = load_or_create(state.secrets_file)
            say("ETL-Express is already running.")
            _print_ready(settings, secrets, state)
            return 0
        for name in running:  # a partial instance from an earlier crash: start clean
            processes.stop(state, name)
        rollback = Rollback(state)
        say(f"Starting ETL-Express (state in {state.root})")
        secrets = bring_up(settings, state, rollback)
    except EtlxError as exc:
        print(f"\nerror: {exc}", file=sys.stderr, flush=True)
        if rollback is not None:
            rollback.undo()
        return 2
    except KeyboardInterrupt:
        if rollback is not None:
            rollback.undo()
        return 130
    _print_ready(settings, secrets, state)
    say(f"(make up took {time.monotonic() - started:.0f} s)")
    return 0
