"""The runtime tests have no fixtures of their own.

They rely on ``runtime`` (a ``Runtime`` on an SQLite database at schema head) and ``http_server``
(a recording HTTP server) from ``tests/conftest.py``.
"""
