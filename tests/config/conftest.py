"""Fixtures of the config tests; they need no database, server or runtime."""

from __future__ import annotations

import pytest
import trustme


@pytest.fixture(scope='module')
def ca_pem() -> str:
    return trustme.CA().cert_pem.bytes().decode()
