"""Validation context for the CLI: Airflow connections of the local instance.

`make up` writes the instance's Airflow environment to ``$ETLX_HOME/airflow.env``; loading it
lets this process look connections up the way Airflow does (env vars, metadata database).
Without it, connection checks stay unknown and are skipped, as the API does when a secrets
backend is down.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from etl_express.spec import ColumnSchema, ValidationContext

log = logging.getLogger(__name__)


def load_instance_env(home: Path) -> bool:
    from etl_express.runtime.secrets import read_env_file

    path = home / "airflow.env"
    if not path.exists():
        return False
    for key, value in read_env_file(path).items():
        os.environ.setdefault(key, value)
    return True


class CliContext(ValidationContext):
    """The CLI is run by an operator with database credentials: it acts as an admin."""

    def __init__(self, home: Path) -> None:
        self.is_admin = True
        self._airflow = load_instance_env(home)

    def connection_exists(self, conn_id: str) -> bool | None:
        if not self._airflow and f"AIRFLOW_CONN_{conn_id.upper()}" not in os.environ:
            return None
        from airflow.exceptions import AirflowNotFoundException
        from airflow.models.connection import Connection

        try:
            Connection.get_connection_from_secrets(conn_id)
        except AirflowNotFoundException:
            return False
        except Exception:  # an unreachable secrets backend must not block validation
            log.warning("could not look up connection %r", conn_id, exc_info=True)
            return None
        return True

    def describe_query(self, conn_id: str, sql: str) -> list[ColumnSchema] | None:
        """Describe the query on its source (read-only, LIMIT 0), as the API does."""
        if self.connection_exists(conn_id) is not True:
            return None
        from etl_express.spec.describe import describe_airflow_connection

        return describe_airflow_connection(conn_id, sql)
