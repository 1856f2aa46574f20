"""Airflow configured in a temporary AIRFLOW_HOME before anything imports it (DESIGN.md §2)."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

_HOME = Path(tempfile.mkdtemp(prefix="etlx-compiler-unit-"))

# Another test folder's conftest may have configured Airflow for this session already (its
# temporary home is named etlx-...): then keep its settings, they work for these tests too.
if "airflow" not in sys.modules and "etlx-" not in os.environ.get("AIRFLOW_HOME", ""):
    for _key in [k for k in os.environ if k.startswith(("AIRFLOW__", "AIRFLOW_CONN_"))]:
        del os.environ[_key]
    os.environ.update(
        {
            "AIRFLOW_HOME": str(_HOME),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__UNIT_TEST_MODE": "True",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
        }
    )
