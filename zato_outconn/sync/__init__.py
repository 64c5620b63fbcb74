"""How changes reach the registries that follow a store.

``changes`` holds what a committed write changed and the in-process feed that hands it to
subscribers (a ``Runtime`` follows its own store this way). Notification between processes
(PostgreSQL LISTEN/NOTIFY, SQLite polling) belongs here too.
"""
