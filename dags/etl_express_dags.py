"""ETL-Express: one Airflow DAG per active task, compiled from the ETL-Express registry.

(Airflow's safe-mode discovery only parses files that mention both "airflow" and "dag".)

Thin shell: everything lives in etl_express.compiler (see loader.build_dags). A task that
cannot be compiled gets no DAG and its error is shown on the task in ETL-Express; an
unreachable ETL-Express database yields no DAGs (logged), never an import error.
"""

from __future__ import annotations

from etl_express.compiler.loader import build_dags

globals().update(build_dags())
