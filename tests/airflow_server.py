"""Boot a real Airflow 3.3 instance (FAB auth, our plugin and DAG folder) for tests.

The same code path as `make up` (etl_express.runtime), on throwaway databases of the test
PostgreSQL server, free ports and a temporary state directory. Optionally with the Celery
executor and its workers (`CeleryOptions`), each worker as if on a machine of its own.
"""

from __future__ import annotations

import secrets
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from cryptography.fernet import Fernet

from etl_express.errors import ConfigError
from etl_express.runtime import processes
from etl_express.runtime.airflow_env import AirflowInstance, AirflowSecrets, build_airflow_env
from etl_express.runtime.bootstrap import airflow_command, prepare_airflow, with_venv_path
from etl_express.runtime.celery_executor import (
    CelerySettings,
    Worker,
    celery_env,
    result_backend_url,
    start_worker,
    wait_workers_ready,
)
from etl_express.runtime.databases import DatabaseUrls, with_driver
from etl_express.runtime.health import free_port, wait_healthy
from etl_express.runtime.paths import StateDir
from etl_express.runtime.secrets import InstanceSecrets
from etl_express.runtime.up import connections_env


@dataclass(frozen=True)
class CeleryOptions:
    """Celery executor for the instance: broker, and how many workers to start."""

    broker_url: str
    workers: int = 2
    concurrency: int = 1
    # Executors of the instance; the first is the default (tasks may name another).
    executors: str = "CeleryExecutor"


@dataclass(frozen=True)
class AirflowServer:
    url: str
    username: str
    password: str
    env: dict[str, str]
    etlx_database_url: str
    demo_database_url: str
    state: StateDir
    workers: tuple[Worker, ...] = field(default=())

    def token(self, username: str | None = None, password: str | None = None) -> str:
        response = httpx.post(
            f"{self.url}/auth/token",
            json={"username": username or self.username, "password": password or self.password},
            timeout=30,
        )
        response.raise_for_status()
        return str(response.json()["access_token"])

    def client(self) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {self.token()}"}, timeout=60
        )

    def log(self, component: str) -> str:
        return processes.tail(self.state.logs / f"{component}.log", 200)


@contextmanager
def running_airflow(
    server_url: str,
    create_database: object,
    drop_database: object,
    components: tuple[str, ...] = ("api-server", "scheduler", "dag-processor"),
    *,
    celery: CeleryOptions | None = None,
    extra_env: Mapping[str, str] | None = None,
    local_settings: str | None = None,
) -> Iterator[AirflowServer]:
    """Yield a healthy instance; everything it started is stopped and dropped afterwards.

    `extra_env` reaches every component; `local_settings` becomes the instance's
    ``airflow_local_settings.py`` (cluster policies).
    """
    from etl_express.stores.db import upgrade

    assert callable(create_database) and callable(drop_database)
    root = Path(tempfile.mkdtemp(prefix="etlx-airflow-"))
    state = StateDir(root)
    state.ensure()
    databases = [create_database(server_url, prefix) for prefix in ("af", "etlx", "demo")]
    workers: tuple[Worker, ...] = ()
    airflow_db, etlx_db, demo_db = databases
    try:
        upgrade(with_driver(etlx_db, "psycopg"))
        from etl_express.runtime.demo import load_demo

        load_demo(demo_db)
        port = free_port()
        instance = AirflowInstance(
            airflow_home=state.airflow_home,
            metadata_url=with_driver(airflow_db, "psycopg2"),
            etlx_database_url=with_driver(etlx_db, "psycopg"),
            etlx_home=root,
            host="127.0.0.1",
            port=port,
            worker_log_port=free_port(),
            trigger_log_port=free_port(),
            secrets=AirflowSecrets(
                Fernet.generate_key().decode(), secrets.token_urlsafe(32), secrets.token_urlsafe(32)
            ),
            executor=celery.executors if celery else "LocalExecutor",
        )
        # Leading "-": generated passwords may start with one; the CLI call must cope.
        password = "-" + secrets.token_urlsafe(12)
        instance_secrets = InstanceSecrets("", "", "", password, secrets.token_hex(32))
        urls = DatabaseUrls(airflow=airflow_db, etlx=etlx_db, demo=demo_db, embedded=False)
        env = with_venv_path(
            {**build_airflow_env(instance), **connections_env(urls, instance_secrets)}
        )
        if celery:
            backend = result_backend_url(airflow_db)
            env.update(celery_env(CelerySettings(celery.broker_url, backend)))
        env.update(extra_env or {})
        if local_settings is not None:
            (state.airflow_home / "config").mkdir(parents=True, exist_ok=True)
            (state.airflow_home / "config" / "airflow_local_settings.py").write_text(local_settings)
        prepare_airflow(
            state.airflow_home,
            env,
            metadata_url=airflow_db,
            admin_user="admin",
            admin_password=password,
            log=state.logs / "setup.log",
        )
        for name in components:
            processes.start(state, name, airflow_command(name), env)
        if celery:  # workers need only the broker to start; they boot alongside the others
            workers = tuple(
                Worker(f"etlx-worker-{i}", free_port(), celery.concurrency)
                for i in range(1, celery.workers + 1)
            )
            _start_workers(state, env, workers)
        required = ["metadatabase"] + [
            part
            for name, part in (("scheduler", "scheduler"), ("dag-processor", "dag_processor"))
            if name in components
        ]
        url = f"http://127.0.0.1:{port}"
        try:
            wait_healthy(
                url,
                tuple(required),
                300,
                lambda: next((n for n in components if processes.read_pid(state, n) is None), None),
            )
        except ConfigError as exc:  # the logs go with the state directory: show them now
            logs = "\n".join(f"--- {n}\n{processes.tail(state.logs / f'{n}.log', 40)}"
                             for n in components)  # fmt: skip
            raise ConfigError(f"{exc}\n{logs}") from exc
        if celery:
            _wait_for_workers(state, celery.broker_url, workers)
        yield AirflowServer(
            url=url,
            username="admin",
            password=password,
            env=env,
            etlx_database_url=with_driver(etlx_db, "psycopg"),
            demo_database_url=demo_db,
            state=state,
            workers=workers,
        )
    finally:
        for worker in workers:
            processes.stop(state, worker.component)
        for name in reversed(components):
            processes.stop(state, name)
        for db in databases:
            drop_database(server_url, db)
        shutil.rmtree(root, ignore_errors=True)


def _start_workers(state: StateDir, env: dict[str, str], workers: tuple[Worker, ...]) -> None:
    """Each worker gets a local staging directory of its own, as on a machine of its own: a
    stage that wrongly staged to local disk would not find another worker's chunks."""
    for worker in workers:
        disk = state.root / "disks" / worker.name
        disk.mkdir(parents=True)
        start_worker(state, {**env, "ETLX_STAGING_DIR": str(disk / "staging")}, worker)


def _wait_for_workers(state: StateDir, broker_url: str, workers: tuple[Worker, ...]) -> None:
    def dead() -> str | None:
        return next(
            (w.name for w in workers if processes.read_pid(state, w.component) is None), None
        )

    try:
        wait_workers_ready(broker_url, workers, 120, dead)
    except ConfigError as exc:
        logs = "\n".join(f"--- {w.name}\n{processes.tail(state.logs / f'{w.component}.log', 40)}"
                         for w in workers)  # fmt: skip
        raise ConfigError(f"{exc}\n{logs}") from exc
