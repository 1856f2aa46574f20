"""Who is calling: Airflow's own authentication, and the one role check ETL-Express needs.

Every route except the health check depends on `CurrentUser`, which is Airflow's `get_user`
dependency: a bearer token from ``POST /auth/token`` or the UI's ``_token`` cookie, checked by
the configured auth manager. Nothing here decodes tokens itself.
"""

from __future__ import annotations

from typing import Annotated, Final

from airflow.api_fastapi.app import get_auth_manager
from airflow.api_fastapi.auth.managers.models.base_user import BaseUser
from airflow.api_fastapi.core_api.security import GetUserDep
from fastapi import Depends

from etl_express.errors import Forbidden

# Roles whose members may do admin-only things (Python transforms, deleting tasks).
ADMIN_ROLES: Final = frozenset({"admin"})
# With the FAB auth manager a custom role may be granted admin rights in ETL-Express through
# this permission (action can_edit), e.g. with `[fab] custom_roles`; the Admin role gets every
# permission that exists.
ADMIN_RESOURCE: Final = "ETL-Express Admin"

CurrentUser = GetUserDep


def actor_name(user: BaseUser) -> str:
    """The name audit events record for this user."""
    return str(user.get_name())


def role_names(user: BaseUser) -> set[str]:
    """Lower-cased role names, whichever auth manager made the user.

    FAB users carry ``roles`` (objects with a ``name``); the simple auth manager's users carry
    one ``role`` string.
    """
    names: set[str] = set()
    for role in getattr(user, "roles", None) or []:
        name = getattr(role, "name", role)
        if name:
            names.add(str(name).lower())
    single = getattr(user, "role", None)
    if single:
        names.add(str(single).lower())
    return names


def is_admin(user: BaseUser) -> bool:
    """True when the auth manager's user has an admin role or the ETL-Express admin permission."""
    if role_names(user) & ADMIN_ROLES:
        return True
    if getattr(user, "roles", None) is None:
        # Only FAB has fine-grained custom permissions; the simple auth manager would grant
        # every viewer any custom view.
        return False
    return bool(
        get_auth_manager().is_authorized_custom_view(
            method="PUT", resource_name=ADMIN_RESOURCE, user=user
        )
    )


def require_admin(user: BaseUser, action: str) -> None:
    """Raise Forbidden unless `user` is an admin; `action` says what was refused."""
    if not is_admin(user):
        raise Forbidden(f"Only an admin may {action}; user '{actor_name(user)}' is not one.")


def _admin_user(user: CurrentUser) -> BaseUser:
    require_admin(user, "do this")
    return user


AdminUser = Annotated[BaseUser, Depends(_admin_user)]
