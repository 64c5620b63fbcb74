"""The web admin and its JSON API: a Flask application over the store (``create_app``).

Importing ``zato_outconn`` never loads this package, nor Flask; ``zato-outconn serve`` runs it.
"""

from zato_outconn.admin.app import create_app

__all__ = ['create_app']
