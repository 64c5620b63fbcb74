"""The store: the only way templates get into and out of the database.

It validates through the typed config models, encrypts secrets, writes in one transaction
(nothing half-written on failure), bumps versions and timestamps, and tells subscribers what
changed once the transaction has committed.
"""

from zato_outconn.store.nodes import NodeRecord, Nodes
from zato_outconn.store.pings import PingRecord, Pings
from zato_outconn.store.queries import Queries
from zato_outconn.store.records import OutconnRecord, SecurityRecord, Template
from zato_outconn.store.tokens import TokenRecord, Tokens
from zato_outconn.store.transfer import ImportReport, Transfer
from zato_outconn.store.users import UserRecord, Users


class Store(Transfer, Queries, Pings, Nodes, Users, Tokens):
    """Reads and writes the templates and security definitions of one database."""


__all__ = ['ImportReport', 'OutconnRecord', 'SecurityRecord', 'Store', 'Template']
__all__ += ['NodeRecord', 'PingRecord', 'TokenRecord', 'UserRecord']
