"""Registers ETL-Express with Airflow: its REST API and its page in Airflow's navigation.

Kept thin and cheap to import: Airflow imports plugins in every component, and the app behind
the API is built only when the api-server serves its first request (see etl_express.api.lazy).
"""

from __future__ import annotations

from airflow.plugins_manager import AirflowPlugin

from etl_express.api.plugin import FASTAPI_APP, REACT_APP


class EtlExpressPlugin(AirflowPlugin):
    name = "etl_express"
    fastapi_apps = [FASTAPI_APP]  # noqa: RUF012 (Airflow reads these class attributes)
    react_apps = [REACT_APP]  # noqa: RUF012
