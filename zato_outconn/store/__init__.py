"""The store: the only way templates get into and out of the database.

It validates through the typed config models, encrypts secrets, writes in one transaction
(nothing half-written on failure), bumps versions and timestamps, and tells subscribers what
changed once the transaction has committed.
"""

from zato_outconn.store.outconns import Outconns
from zato_outconn.store.records import OutconnRecord, SecurityRecord, Template


class Store(Outconns):
    """Reads and writes the templates and security definitions of one database."""


__all__ = ['OutconnRecord', 'SecurityRecord', 'Store', 'Template']
