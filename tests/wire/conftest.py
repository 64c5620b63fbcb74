"""Fixtures of the wire tests: an HTTPS server with a certificate from a test CA, and both send paths.

Every wire test runs twice: with the direct route to a connection's own pool (``wire.direct``), and
with it turned off (``ZATO_OUTCONN_DIRECT_SEND=0``), when every request goes through Session.send.
``make_conn``, ``http_server`` and ``sqlite_url`` come from ``tests/conftest.py``.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import pytest
import trustme

from zato_outconn.wire.direct import DIRECT_ENV

from tests.support.servers import Recorder, RecordingHandler


@pytest.fixture(autouse=True, params=['direct', 'session'])
def send_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Which way requests go; sessions read it when they open, and subprocesses inherit it."""
    monkeypatch.setenv(DIRECT_ENV, '1' if request.param == 'direct' else '0')
    return str(request.param)


@pytest.fixture(scope='module')
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def https_server(ca: trustme.CA) -> Iterator[str]:
    server = ThreadingHTTPServer(('127.0.0.1', 0), RecordingHandler)
    server.recorder = Recorder()  # type: ignore[attr-defined]
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert('127.0.0.1', 'localhost').configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.05}, daemon=True)
    thread.start()
    try:
        yield f'https://127.0.0.1:{server.server_address[1]}'
    finally:
        server.shutdown()
        server.server_close()
