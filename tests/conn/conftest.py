"""The connection tests have no fixtures of their own.

They rely on ``make_conn`` (a plain_http connection to the recording server, as its registry item),
``http_server`` (that server, which records each request) and ``runtime`` from ``tests/conftest.py``.
"""
