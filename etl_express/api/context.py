"""What validation may ask the api-server about: Airflow connections and the caller's role.

The api-server reads Airflow's connections (environment, secrets backends, metadata database)
the way Airflow does; a missing connection is then a field error at save time, and a reachable
source describes an extraction query's output (LIMIT 0 in a read-only transaction with a
statement timeout, see etl_express.spec.describe) so the schema is checked and recorded.
"""

from __future__ import annotations

import logging

from airflow.api_fastapi.auth.managers.models.base_user import BaseUser

from etl_express.api.auth import is_admin
from etl_express.spec import ColumnSchema, ValidationContext

log = logging.getLogger(__name__)


class AirflowContext(ValidationContext):
    def __init__(self, user: BaseUser) -> None:
        self.is_admin = is_admin(user)

    def connection_exists(self, conn_id: str) -> bool | None:
        from airflow.exceptions import AirflowNotFoundException
        from airflow.models.connection import Connection

        try:
            Connection.get_connection_from_secrets(conn_id)
        except AirflowNotFoundException:
            return False
        except Exception:  # a secrets backend that is down must not block saving
            log.warning("could not look up connection %r", conn_id, exc_info=True)
            return None
        return True

    def describe_query(self, conn_id: str, sql: str) -> list[ColumnSchema] | None:
        from etl_express.spec.describe import describe_airflow_connection

        return describe_airflow_connection(conn_id, sql)
