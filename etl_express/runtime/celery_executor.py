"""The Celery executor: settings every component shares, and `airflow celery worker` processes.

With Celery the scheduler puts task instances on a broker (Redis) and workers, on this machine
or on others, run them; Celery keeps task states in a database (the result backend). Stage data
then must not stay on one worker's disk: set ``ETLX_STAGING_URL`` (e.g. ``s3://bucket/prefix``)
so that a worker reads the chunks another worker wrote.

Several workers may share one machine (tests, a small box with separate queues): each then needs
its own Celery hostname and its own log-server port, and records its name on the task instances
it runs (``[core] hostname_callable`` = `worker_hostname`).
"""

from __future__ import annotations

import os
import re
import socket
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from etl_express.errors import ConfigError
from etl_express.runtime import processes
from etl_express.runtime.bootstrap import airflow_command
from etl_express.runtime.databases import redact, with_driver
from etl_express.runtime.paths import StateDir

CELERY_EXECUTOR = "CeleryExecutor"
HOSTNAME_ENV = "ETLX_WORKER_HOSTNAME"
HOSTNAME_CALLABLE = "etl_express.runtime.celery_executor.worker_hostname"
_BROKER_SCHEMES = ("redis://", "rediss://", "sentinel://", "amqp://", "amqps://")
_WORKER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.-]{0,62}$")


@dataclass(frozen=True)
class CelerySettings:
    """Where tasks are queued (`broker_url`) and where Celery records their states."""

    broker_url: str
    result_backend: str

    def __post_init__(self) -> None:
        if not self.broker_url.startswith(_BROKER_SCHEMES):
            raise ConfigError(
                f"celery broker_url {redact(self.broker_url)!r} is not a broker URL "
                "(redis://host:6379/0 or amqp://…)"
            )
        # Airflow warns against redis/rpc result backends: states are lost on a broker restart.
        if not self.result_backend.startswith("db+"):
            raise ConfigError(
                f"celery result_backend {redact(self.result_backend)!r} must be a database URL "
                "with the db+ prefix (db+postgresql://…)"
            )


def result_backend_url(metadata_url: str) -> str:
    """Celery's result backend in a PostgreSQL database (e.g. Airflow's metadata database)."""
    return "db+" + with_driver(metadata_url, "psycopg2")


def celery_env(settings: CelerySettings) -> dict[str, str]:
    """Variables every Airflow component needs when an executor of the instance is Celery."""
    return {
        "AIRFLOW__CELERY__BROKER_URL": settings.broker_url,
        "AIRFLOW__CELERY__RESULT_BACKEND": settings.result_backend,
    }


@dataclass(frozen=True)
class Worker:
    """One `airflow celery worker` process."""

    name: str  # Celery hostname (node celery@<name>) and the hostname on its task instances
    log_port: int  # its log server; workers sharing a machine must not share one
    concurrency: int = 1  # task instances at once; each is a process of its own

    def __post_init__(self) -> None:
        if not _WORKER_NAME.match(self.name):
            raise ConfigError(
                f"worker name {self.name!r} must be a host-like name ([A-Za-z0-9.-], ≤ 63)"
            )
        if not 1 <= self.concurrency <= 64:
            raise ConfigError(f"worker concurrency must be 1-64, got {self.concurrency}")

    @property
    def component(self) -> str:
        """Name of its pid and log files under the state directory."""
        return f"celery-worker-{self.name}"

    @property
    def node(self) -> str:
        return f"celery@{self.name}"


def worker_env(env: dict[str, str], worker: Worker) -> dict[str, str]:
    return {
        **env,
        HOSTNAME_ENV: worker.name,
        "AIRFLOW__CORE__HOSTNAME_CALLABLE": HOSTNAME_CALLABLE,
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(worker.log_port),
    }


def worker_command(worker: Worker) -> list[str]:
    return airflow_command(
        "celery",
        "worker",
        "--celery-hostname",
        worker.name,
        "--concurrency",
        str(worker.concurrency),
    )


def worker_hostname() -> str:
    """``[core] hostname_callable`` of workers: the name the worker was started with."""
    return os.environ.get(HOSTNAME_ENV) or socket.getfqdn()


def start_worker(state: StateDir, env: dict[str, str], worker: Worker) -> processes.Component:
    return processes.start(state, worker.component, worker_command(worker), worker_env(env, worker))


def responding_workers(broker_url: str, nodes: Sequence[str], timeout: float = 1.0) -> set[str]:
    """Nodes (``celery@name``) that answer a broadcast ping through the broker."""
    from celery import Celery

    app = Celery(broker=broker_url)
    try:
        replies = app.control.ping(destination=list(nodes), timeout=timeout) or []
    finally:
        app.close()
    return {node for reply in replies for node in reply}


def wait_workers_ready(
    broker_url: str,
    workers: Sequence[Worker],
    timeout: float,
    still_alive: Callable[[], str | None] = lambda: None,
) -> float:
    """Wait until every worker answers a ping; returns seconds waited."""
    start = time.monotonic()
    missing = [w.node for w in workers]
    while time.monotonic() - start < timeout:
        dead = still_alive()
        if dead:
            raise ConfigError(f"the Celery worker {dead} exited during start-up")
        missing = sorted(set(missing) - responding_workers(broker_url, missing))
        if not missing:
            return time.monotonic() - start
        time.sleep(0.5)
    raise ConfigError(
        f"Celery workers did not answer within {timeout:.0f} s: {', '.join(missing)} "
        f"(broker {redact(broker_url)})"
    )
