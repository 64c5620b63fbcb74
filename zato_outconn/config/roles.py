"""Roles and the permission codes each one grants (the admin's routes each check one code)."""

from __future__ import annotations

PERMISSIONS = ('outconn.read', 'outconn.write', 'outconn.ping', 'security.read', 'security.write',
               'transfer.export', 'transfer.import', 'users.manage', 'metrics.read')

_VIEWER = frozenset({'outconn.read', 'security.read', 'metrics.read'})

# An operator may also activate and deactivate connections: outconn.write limited to is_active,
# which the admin checks as outconn.activate.
ROLES: dict[str, frozenset[str]] = {
    'viewer': _VIEWER,
    'operator': _VIEWER | {'outconn.ping', 'outconn.activate'},
    'admin': frozenset(PERMISSIONS) | {'outconn.activate'},
}
ROLE_NAMES = tuple(ROLES)


def can(role: str, permission: str) -> bool:
    """Whether a role grants a permission code; an unknown role grants nothing."""
    return permission in ROLES.get(role, frozenset())
