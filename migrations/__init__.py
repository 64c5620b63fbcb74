"""Alembic migrations of the zato-outconn schema, installed as ``zato_outconn.migrations``."""
