"""The environment every Airflow component of one ETL-Express instance shares.

All components (api-server, scheduler, dag-processor, triggerer, task processes) must agree on
the metadata database, the signing secrets and the execution API URL; building the environment
in one place is what keeps them in agreement (DESIGN.md §2).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from etl_express.runtime.paths import DAGS_DIR, PLUGINS_DIR

FAB_AUTH_MANAGER = "airflow.providers.fab.auth_manager.fab_auth_manager.FabAuthManager"

# Variables of the calling shell that would silently reconfigure the instance.
_INHERITED_PREFIXES = ("AIRFLOW__", "AIRFLOW_CONN_", "AIRFLOW_VAR_")
_INHERITED_NAMES = ("AIRFLOW_HOME", "AIRFLOW_CONFIG")


@dataclass(frozen=True)
class AirflowSecrets:
    fernet_key: str
    jwt_secret: str
    api_secret_key: str


@dataclass(frozen=True)
class AirflowInstance:
    """What distinguishes one instance of ETL-Express from another on the same machine."""

    airflow_home: Path
    metadata_url: str
    etlx_database_url: str
    etlx_home: Path
    host: str
    port: int
    worker_log_port: int
    trigger_log_port: int
    secrets: AirflowSecrets
    api_workers: int = 1
    parallelism: int = 4
    # "LocalExecutor", "CeleryExecutor" (see runtime.celery_executor) or a list such as
    # "CeleryExecutor,LocalExecutor": the first is the default, tasks may name another.
    executor: str = "LocalExecutor"
    dags_folder: Path = DAGS_DIR
    plugins_folder: Path = PLUGINS_DIR
    load_examples: bool = False


def _base_environment(base: Mapping[str, str]) -> dict[str, str]:
    return {
        key: value
        for key, value in base.items()
        if not key.startswith(_INHERITED_PREFIXES) and key not in _INHERITED_NAMES
    }


def build_airflow_env(
    instance: AirflowInstance, base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """Return the full process environment for an Airflow component of `instance`."""
    env = _base_environment(os.environ if base is None else base)
    local = "127.0.0.1" if instance.host in ("0.0.0.0", "::") else instance.host
    api_url = f"http://{local}:{instance.port}"
    env.update(
        {
            "AIRFLOW_HOME": str(instance.airflow_home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(instance.dags_folder),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(instance.plugins_folder),
            "AIRFLOW__CORE__LOAD_EXAMPLES": str(instance.load_examples),
            "AIRFLOW__CORE__EXECUTOR": instance.executor,
            "AIRFLOW__CORE__PARALLELISM": str(instance.parallelism),
            "AIRFLOW__CORE__AUTH_MANAGER": FAB_AUTH_MANAGER,
            "AIRFLOW__CORE__FERNET_KEY": instance.secrets.fernet_key,
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{api_url}/execution/",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": instance.metadata_url,
            "AIRFLOW__API_AUTH__JWT_SECRET": instance.secrets.jwt_secret,
            "AIRFLOW__API__SECRET_KEY": instance.secrets.api_secret_key,
            "AIRFLOW__API__HOST": instance.host,
            "AIRFLOW__API__PORT": str(instance.port),
            "AIRFLOW__API__WORKERS": str(instance.api_workers),
            "AIRFLOW__API__BASE_URL": api_url,
            "AIRFLOW__API__EXPOSE_CONFIG": "False",
            "AIRFLOW__FAB__CONFIG_FILE": str(instance.airflow_home / "webserver_config.py"),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(instance.worker_log_port),
            "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT": str(instance.trigger_log_port),
            # A new or changed ETL task must show up as a DAG within 30 s of saving.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "10",
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "10",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "ETLX_HOME": str(instance.etlx_home),
            "ETLX_DATABASE_URL": instance.etlx_database_url,
            "ETLX_PORT": str(instance.port),
            "ETLX_HOST": instance.host,
            # Libraries used inside tasks must never reach for the network or oversubscribe cores.
            "TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS": "",
            "GX_ANALYTICS_ENABLED": "false",
            "OPENBLAS_NUM_THREADS": "1",
            "HF_HUB_OFFLINE": "1",
            "NO_PROXY": "127.0.0.1,localhost",
        }
    )
    return env


WEBSERVER_CONFIG = '''\
"""FAB configuration written by ETL-Express (`make up`). Database logins by default."""

from flask_appbuilder.const import AUTH_DB

AUTH_TYPE = AUTH_DB
AUTH_ROLE_ADMIN = "Admin"
AUTH_USER_REGISTRATION = False
WTF_CSRF_ENABLED = True
'''


def write_webserver_config(airflow_home: Path) -> Path:
    """Write the FAB config file the auth manager reads (Airflow 3 does not create one)."""
    path = airflow_home / "webserver_config.py"
    airflow_home.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != WEBSERVER_CONFIG:
        path.write_text(WEBSERVER_CONFIG)
    return path
