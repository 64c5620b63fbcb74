"""Fixtures of the connection tests.

Most rely on ``make_conn`` (a plain_http connection to the recording server, as its registry item),
``http_server`` (that server, which records each request) and ``runtime`` from ``tests/conftest.py``.
The policy tests (retries, breaker, rate limit) answer from a script instead: ``server`` and ``conn``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from zato_outconn import Runtime
from zato_outconn.config import OutconnConfig

from tests.support.scripted_server import ScriptedServer


@pytest.fixture
def server() -> Iterator[ScriptedServer]:
    """A server that gives the answers a test scripts, in turn."""
    with ScriptedServer() as server:
        yield server


@pytest.fixture
def conn(runtime: Runtime, server: ScriptedServer) -> Callable[..., Any]:
    """The .conn of a plain_http connection to the scripted server with these settings."""

    def make(name: str = 'CRM', **settings: Any) -> Any:
        settings.setdefault('host', server.url)
        runtime.store.create_outconn(OutconnConfig(name=name, **settings))
        return runtime.outgoing.plain_http[name].conn

    return make
