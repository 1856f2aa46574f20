from __future__ import annotations

from types import SimpleNamespace

import pytest
from airflow.api_fastapi.auth.managers.simple.user import SimpleAuthManagerUser

from etl_express.api.auth import actor_name, is_admin, require_admin, role_names
from etl_express.errors import Forbidden


def test_simple_auth_manager_roles() -> None:
    admin = SimpleAuthManagerUser(username="alice", role="admin")
    viewer = SimpleAuthManagerUser(username="victor", role="viewer")
    assert role_names(admin) == {"admin"}
    assert is_admin(admin)
    assert not is_admin(viewer)
    assert actor_name(viewer) == "victor"


def test_fab_style_roles_are_read_by_name(airflow_auth: None) -> None:
    # The shape of a FAB user: `roles` holds role objects with a `name`.
    fab_admin = SimpleNamespace(roles=[SimpleNamespace(name="Admin")], perms=set())
    fab_op = SimpleNamespace(roles=[SimpleNamespace(name="Op")], perms=set())
    assert role_names(fab_admin) == {"admin"}  # type: ignore[arg-type]
    assert is_admin(fab_admin)  # type: ignore[arg-type]
    assert role_names(fab_op) == {"op"}  # type: ignore[arg-type]


def test_require_admin_names_the_refused_action() -> None:
    with pytest.raises(Forbidden, match="Only an admin may delete a task; user 'victor'"):
        require_admin(SimpleAuthManagerUser(username="victor", role="viewer"), "delete a task")
