from __future__ import annotations

from pathlib import Path

from etl_express.runtime.airflow_env import (
    FAB_AUTH_MANAGER,
    AirflowInstance,
    AirflowSecrets,
    build_airflow_env,
    write_webserver_config,
)


def _instance(tmp_path: Path, host: str = "127.0.0.1") -> AirflowInstance:
    return AirflowInstance(
        airflow_home=tmp_path / "airflow",
        metadata_url="postgresql+psycopg2://u@h/airflow",
        etlx_database_url="postgresql+psycopg://u@h/etlx",
        etlx_home=tmp_path,
        host=host,
        port=8123,
        worker_log_port=9001,
        trigger_log_port=9002,
        secrets=AirflowSecrets("fernet", "jwt", "api"),
    )


def test_components_share_secrets_database_and_execution_url(tmp_path: Path) -> None:
    env = build_airflow_env(_instance(tmp_path), base={"PATH": "/bin"})
    assert env["AIRFLOW__CORE__AUTH_MANAGER"] == FAB_AUTH_MANAGER
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == "postgresql+psycopg2://u@h/airflow"
    assert env["AIRFLOW__CORE__FERNET_KEY"] == "fernet"
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == "jwt"
    assert env["AIRFLOW__API__SECRET_KEY"] == "api"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://127.0.0.1:8123/execution/"
    assert env["AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT"] == "9001"
    assert env["ETLX_DATABASE_URL"] == "postgresql+psycopg://u@h/etlx"
    assert env["PATH"] == "/bin"


def test_inherited_airflow_variables_are_dropped(tmp_path: Path) -> None:
    base = {
        "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
        "AIRFLOW_HOME": "/elsewhere",
        "AIRFLOW_CONN_X": "postgres://",
        "HOME": "/root",
    }
    env = build_airflow_env(_instance(tmp_path), base=base)
    assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert env["AIRFLOW_HOME"] == str(tmp_path / "airflow")
    assert "AIRFLOW_CONN_X" not in env
    assert env["HOME"] == "/root"


def test_wildcard_bind_uses_loopback_for_execution_api(tmp_path: Path) -> None:
    env = build_airflow_env(_instance(tmp_path, host="0.0.0.0"), base={})
    assert env["AIRFLOW__API__HOST"] == "0.0.0.0"
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"].startswith("http://127.0.0.1:8123/")


def test_webserver_config_is_written_once_and_is_valid_python(tmp_path: Path) -> None:
    path = write_webserver_config(tmp_path)
    mtime = path.stat().st_mtime_ns
    assert write_webserver_config(tmp_path).stat().st_mtime_ns == mtime
    namespace: dict[str, object] = {}
    exec(compile(path.read_text(), str(path), "exec"), namespace)
    assert namespace["AUTH_TYPE"] == 1  # flask_appbuilder.const.AUTH_DB
