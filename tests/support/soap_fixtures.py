"""Fixtures of the SOAP and WSDL tests: the spyne server and SOAP connections to it.

``tests/soap/conftest.py`` imports the functions; pytest finds the fixtures by their names,
``soap_server`` and ``make_soap``, for every module in that folder.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from zato_outconn import OutconnConfig, OutgoingItem, Runtime, SecurityConfig

from tests.support.soap_server import ENDPOINTS, SOAPServer

PATHS = {version: path for path, version in ENDPOINTS.items()}


@pytest.fixture(name='soap_server')
def soap_server_fixture() -> Iterator[SOAPServer]:
    with SOAPServer() as server:
        yield server


@pytest.fixture(name='make_soap')
def make_soap_fixture(runtime: Runtime, soap_server: SOAPServer) -> Callable[..., OutgoingItem]:
    """Create a soap connection to the spyne server (its 1.1 or 1.2 endpoint) and return its item."""

    def make(name: str = 'CRM SOAP', *, version: str = '1.1', security: dict[str, Any] | None = None,
             **settings: Any) -> OutgoingItem:
        if security is not None:
            runtime.store.create_security(SecurityConfig(**security))
            settings['security'] = security['name']
        settings.setdefault('host', soap_server.url)
        settings.setdefault('url_path', PATHS[version])
        runtime.store.create_outconn(OutconnConfig(name=name, transport='soap', soap_version=version,
                                                   **settings))
        return runtime.outgoing.soap[name]

    return make
