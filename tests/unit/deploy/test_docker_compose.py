"""docker-compose.yaml: valid against the Compose specification and complete for this project.

No Docker engine runs here, so the file is checked statically: the Compose spec's JSON schema
(vendored by check-jsonschema), then the services, commands, mounts and secrets it must have.
"""

from __future__ import annotations

import json
import re
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[3]
AIRFLOW_SERVICES = {
    "airflow-apiserver": "api-server",
    "airflow-scheduler": "scheduler",
    "airflow-dag-processor": "dag-processor",
    "airflow-triggerer": "triggerer",
}


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data = yaml.safe_load((ROOT / "docker-compose.yaml").read_text())
    assert isinstance(data, dict)
    return data


def test_valid_against_compose_spec(compose: dict[str, Any]) -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    jsonschema.validate(compose, schema)


def test_a_broken_file_would_be_caught() -> None:
    schema_file = resources.files("check_jsonschema.builtin_schemas.vendor") / "compose-spec.json"
    schema = json.loads(schema_file.read_text())
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"services": {"x": {"ports": "8080"}}}, schema)


def test_services_and_commands(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert set(services) == {"postgres", "airflow-init", *AIRFLOW_SERVICES}
    for name, command in AIRFLOW_SERVICES.items():
        assert services[name]["command"] == command
        assert "healthcheck" in services[name]
        assert services[name]["depends_on"]["airflow-init"] == {
            "condition": "service_completed_successfully"
        }
        assert services[name]["depends_on"]["postgres"] == {"condition": "service_healthy"}
    init_script = "\n".join(services["airflow-init"]["command"])
    for step in ("airflow db migrate", "airflow users create", "etlx db upgrade", "etlx demo load"):
        assert step in init_script


def test_mounts_and_environment(compose: dict[str, Any]) -> None:
    for name in (*AIRFLOW_SERVICES, "airflow-init"):
        service = compose["services"][name]
        targets = {
            re.findall(r":(/opt/airflow/[\w/]+)", volume)[0] for volume in service["volumes"]
        }
        assert {"/opt/airflow/dags", "/opt/airflow/plugins", "/opt/airflow/include"} <= targets
        env = service["environment"]
        assert env["AIRFLOW__CORE__AUTH_MANAGER"].endswith("FabAuthManager")
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["ETLX_DATABASE_URL"].endswith("@postgres/etlx")
        # secrets must be supplied, never defaulted
        for key in ("AIRFLOW__CORE__FERNET_KEY", "AIRFLOW__API_AUTH__JWT_SECRET"):
            assert ":?" in env[key]
    pg_mounts = compose["services"]["postgres"]["volumes"]
    assert any("compose-init.sql" in mount for mount in pg_mounts)
    assert (ROOT / "include/sql/compose-init.sql").exists()


def test_image_builds_from_the_lock() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2-python3.11" in dockerfile
    assert "requirements.txt" in dockerfile
