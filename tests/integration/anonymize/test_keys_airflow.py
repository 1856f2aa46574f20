"""The Airflow-connection key provider reads a real connection (AIRFLOW_CONN_* variable)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

SCRIPT = """
import json
from etl_express.anonymize.keys import keyring_from_airflow
ring = keyring_from_airflow("etlx_test_key")
print(json.dumps({"repr": repr(ring), **ring.describe(),
                  "ok": ring.material.get_secret_value() == "airflow-key-0123456789abcdef"}))
"""


def test_key_from_airflow_connection(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW")}
    env["AIRFLOW_HOME"] = str(tmp_path)
    env["AIRFLOW_CONN_ETLX_TEST_KEY"] = json.dumps(
        {
            "conn_type": "generic",
            "password": "airflow-key-0123456789abcdef",
            "extra": {"version": "4"},
        }
    )
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["ok"] and result["version"] == "4"
    assert result["key_id"] == "airflow:etlx_test_key"
    assert "airflow-key" not in result["repr"]
