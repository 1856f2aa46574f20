"""Real Airflow authentication for TestClient tests, without an Airflow server.

Airflow's `get_user` dependency validates a JWT with the configured auth manager and checks
the token's id against the `revoked_token` table. Here the auth manager is Airflow's
SimpleAuthManager, tokens are signed by it with the configured secret, and the metadata
database is a SQLite file in a temporary AIRFLOW_HOME holding that one table: the dependency
runs unchanged, nothing is mocked.
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

_HOME = Path(tempfile.mkdtemp(prefix="etlx-api-unit-"))
_SETTINGS = {
    "AIRFLOW_HOME": str(_HOME),
    "AIRFLOW__CORE__AUTH_MANAGER": (
        "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager"
    ),
    "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "alice:admin,victor:viewer",
    "AIRFLOW__API_AUTH__JWT_SECRET": "unit-test-secret-" * 4,
    "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
    "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{_HOME / 'airflow.db'}",
}

if "airflow" not in sys.modules:
    # Airflow reads its configuration when first imported.
    for _key in [k for k in os.environ if k.startswith("AIRFLOW__")]:
        del os.environ[_key]
    os.environ.update(_SETTINGS)


@pytest.fixture(scope="session")
def airflow_auth() -> Iterator[None]:
    """Airflow configured with SimpleAuthManager and a metadata DB holding `revoked_token`."""
    from airflow import settings
    from airflow.api_fastapi.app import init_auth_manager, purge_cached_app
    from airflow.configuration import conf
    from airflow.models.revoked_token import RevokedToken

    # When another test module imported Airflow first, its temporary metadata database stays;
    # the auth settings are read at call time, so set them here in any case.
    for key in ("AUTH_MANAGER", "SIMPLE_AUTH_MANAGER_USERS"):
        conf.set("core", key.lower(), _SETTINGS[f"AIRFLOW__CORE__{key}"])
    conf.set("api_auth", "jwt_secret", _SETTINGS["AIRFLOW__API_AUTH__JWT_SECRET"])
    assert settings.engine is not None
    RevokedToken.metadata.create_all(settings.engine, tables=[RevokedToken.__table__])
    init_auth_manager()
    yield
    purge_cached_app()


@pytest.fixture(scope="session")
def make_token(airflow_auth: None) -> Callable[[str, str], str]:
    """`make_token(username, role)`: a JWT signed by the auth manager, as /auth/token returns."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

    def make(username: str, role: str) -> str:
        user = SimpleAuthManagerUser(username=username, role=role)
        return str(get_auth_manager().generate_jwt(user))

    return make


@pytest.fixture
def admin_headers(make_token: Callable[[str, str], str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token('alice', 'admin')}"}


@pytest.fixture
def viewer_headers(make_token: Callable[[str, str], str]) -> dict[str, str]:
    return {"Authorization": f"Bearer {make_token('victor', 'viewer')}"}
