"""``Store``: every part of the store, over one database."""

from __future__ import annotations

from zato_outconn.store.logins import Logins
from zato_outconn.store.nodes import Nodes
from zato_outconn.store.pings import Pings
from zato_outconn.store.queries import Queries
from zato_outconn.store.tokens import Tokens
from zato_outconn.store.transfer import Transfer
from zato_outconn.store.users import Users


class Store(Transfer, Queries, Pings, Logins, Nodes, Users, Tokens):
    """Reads and writes the templates and security definitions of one database."""
