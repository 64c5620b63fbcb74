"""Fixtures of the SOAP and WSDL tests: ``soap_server`` (the spyne server) and ``make_soap`` (connections to it).

They are defined in ``tests/support/soap_fixtures.py`` and made fixtures of this folder by the import below.
``runtime`` and ``http_server`` come from ``tests/conftest.py``.
"""

from __future__ import annotations

from tests.support.soap_fixtures import make_soap_fixture, soap_server_fixture  # noqa: F401 - fixtures
