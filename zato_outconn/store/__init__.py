"""The store: the only way templates get into and out of the database.

It validates through the typed config models, encrypts secrets, writes in one transaction
(nothing half-written on failure), bumps versions and timestamps, and tells subscribers what
changed once the transaction has committed.

Each name below is imported on first use, so that importing a light module of the package (the
engine's settings, say) loads neither SQLAlchemy's ORM nor the config models.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from zato_outconn.exports import lazy_exports

if TYPE_CHECKING:
    from zato_outconn.store.nodes import NodeRecord
    from zato_outconn.store.pings import PingRecord
    from zato_outconn.store.records import OutconnRecord, SecurityRecord, Template
    from zato_outconn.store.store import Store
    from zato_outconn.store.tokens import TokenRecord
    from zato_outconn.store.transfer import ImportReport
    from zato_outconn.store.users import UserRecord

_LAZY = {
    'ImportReport': 'zato_outconn.store.transfer',
    'NodeRecord': 'zato_outconn.store.nodes',
    'OutconnRecord': 'zato_outconn.store.records',
    'PingRecord': 'zato_outconn.store.pings',
    'SecurityRecord': 'zato_outconn.store.records',
    'Store': 'zato_outconn.store.store',
    'Template': 'zato_outconn.store.records',
    'TokenRecord': 'zato_outconn.store.tokens',
    'UserRecord': 'zato_outconn.store.users',
}


__getattr__, __dir__ = lazy_exports(__name__, _LAZY)


__all__ = ['ImportReport', 'OutconnRecord', 'SecurityRecord', 'Store', 'Template']
__all__ += ['NodeRecord', 'PingRecord', 'TokenRecord', 'UserRecord']
