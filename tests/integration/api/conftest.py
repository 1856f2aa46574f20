"""Fixtures for tests of the ETL-Express API inside a real Airflow api-server."""

from __future__ import annotations

import secrets
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from api_helpers import API


@pytest.fixture(scope="session")
def api(airflow_server: Any) -> Iterator[httpx.Client]:
    """A client of our API authenticated as the admin with a token from POST /auth/token."""
    with httpx.Client(
        base_url=airflow_server.url + API,
        headers={"Authorization": f"Bearer {airflow_server.token()}"},
        timeout=120,
    ) as client:
        yield client


@pytest.fixture(scope="session")
def airflow_api(airflow_server: Any) -> Iterator[httpx.Client]:
    with airflow_server.client() as client:
        yield client


@pytest.fixture(scope="session")
def viewer_token(airflow_server: Any) -> str:
    """A token of a user with Airflow's Viewer role (created with Airflow's own CLI)."""
    password = "-" + secrets.token_urlsafe(12)  # may start with "-", as generated ones can
    subprocess.run(
        [
            "airflow",
            "users",
            "create",
            "--username",
            "vera",
            f"--password={password}",  # a generated password may start with "-"
            "--firstname",
            "Vera",
            "--lastname",
            "Viewer",
            "--email",
            "vera@example.com",
            "--role",
            "Viewer",
        ],
        env=airflow_server.env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return str(airflow_server.token("vera", password))
