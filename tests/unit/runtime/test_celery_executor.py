from __future__ import annotations

from pathlib import Path

import pytest

from etl_express.errors import ConfigError
from etl_express.runtime.airflow_env import AirflowInstance, AirflowSecrets, build_airflow_env
from etl_express.runtime.celery_executor import (
    HOSTNAME_CALLABLE,
    CelerySettings,
    Worker,
    celery_env,
    result_backend_url,
    worker_command,
    worker_env,
    worker_hostname,
)


def test_components_get_executor_broker_and_database_result_backend(tmp_path: Path) -> None:
    instance = AirflowInstance(
        airflow_home=tmp_path,
        metadata_url="postgresql+psycopg2://u@h/airflow",
        etlx_database_url="postgresql+psycopg://u@h/etlx",
        etlx_home=tmp_path,
        host="127.0.0.1",
        port=8123,
        worker_log_port=9001,
        trigger_log_port=9002,
        secrets=AirflowSecrets("fernet", "jwt", "api"),
        executor="CeleryExecutor,LocalExecutor",
    )
    backend = result_backend_url("postgresql://u:p@h:5432/airflow")
    env = {
        **build_airflow_env(instance, base={}),
        **celery_env(CelerySettings("redis://127.0.0.1:6379/3", backend)),
    }
    assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor,LocalExecutor"
    assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://127.0.0.1:6379/3"
    assert env["AIRFLOW__CELERY__RESULT_BACKEND"] == "db+postgresql+psycopg2://u:p@h:5432/airflow"


@pytest.mark.parametrize(
    ("broker", "backend", "field"),
    [
        ("http://127.0.0.1:6379/0", "db+postgresql://h/a", "broker_url"),
        ("redis://127.0.0.1:6379/0", "redis://127.0.0.1:6379/1", "result_backend"),
    ],
)
def test_bad_celery_settings_name_the_field(broker: str, backend: str, field: str) -> None:
    with pytest.raises(ConfigError, match=field):
        CelerySettings(broker, backend)


def test_a_result_backend_error_does_not_show_the_password() -> None:
    with pytest.raises(ConfigError) as err:
        CelerySettings("redis://127.0.0.1:6379/0", "redis://:s3cret@127.0.0.1:6379/1")
    assert "s3cret" not in str(err.value)


def test_workers_sharing_a_machine_differ_in_name_and_log_port() -> None:
    base = {"AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": "8793", "X": "1"}
    one, two = Worker("w-1", 9101, concurrency=2), Worker("w-2", 9102)
    env_one, env_two = worker_env(base, one), worker_env(base, two)
    assert env_one["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "9101"
    assert env_two["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "9102"
    assert env_one["AIRFLOW__CORE__HOSTNAME_CALLABLE"] == HOSTNAME_CALLABLE
    assert env_one["X"] == "1" and base["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "8793"
    assert worker_command(one)[-5:] == ["worker", "--celery-hostname", "w-1", "--concurrency", "2"]
    assert one.node == "celery@w-1" and one.component != two.component


@pytest.mark.parametrize("name", ["", "a b", "-x", "w@host", "x" * 64])
def test_a_bad_worker_name_is_refused(name: str) -> None:
    with pytest.raises(ConfigError, match="worker name"):
        Worker(name, 9100)


def test_a_bad_concurrency_is_refused() -> None:
    with pytest.raises(ConfigError, match="concurrency"):
        Worker("w", 9100, concurrency=0)


def test_task_instances_record_the_worker_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ETLX_WORKER_HOSTNAME", "w-7")
    assert worker_hostname() == "w-7"
    monkeypatch.delenv("ETLX_WORKER_HOSTNAME")
    assert worker_hostname()  # the machine's name outside a named worker
