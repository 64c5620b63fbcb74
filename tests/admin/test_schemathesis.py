"""schemathesis over the app's own OpenAPI document: no server error, nothing undocumented.

Each operation gets a few generated requests (valid and invalid ones), as an admin, against a
fresh SQLite store holding one connection and one definition; the number is kept small so that
the suite stays quick.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import positive_data_acceptance

from zato_outconn import OutconnConfig, SecurityConfig, Store

from tests.admin.conftest import make_app


@pytest.fixture
def fuzzed_store(sqlite_url: str) -> Iterator[Store]:
    store = Store(sqlite_url)
    store.create_security(SecurityConfig(name='creds', sec_type='basic_auth', username='alice', secret='S3cret-x'))
    store.create_outconn(OutconnConfig(name='CRM', host='http://127.0.0.1:9', security='creds'))
    yield store
    store.close()


@pytest.fixture
def admin_headers(fuzzed_store: Store) -> dict[str, str]:
    return {'Authorization': f'Bearer {fuzzed_store.create_token("fuzz-bot", "admin")[1]}'}


@pytest.fixture
def api_schema(fuzzed_store: Store) -> Any:
    return schemathesis.openapi.from_wsgi('/api/v1/openapi.json', make_app(fuzzed_store))


schema = schemathesis.pytest.from_fixture('api_schema')


@schema.parametrize()
@settings(max_examples=5, deadline=None, database=None, suppress_health_check=list(HealthCheck))
def test_the_api_keeps_to_its_document(case: Any, admin_headers: dict[str, str]) -> None:
    # A schema-valid body may still be refused with 422: JSON Schema cannot say that a host is an http(s)
    # URL or that SOAP settings need transport soap; the models say it, naming the field.
    case.call_and_validate(headers=admin_headers, excluded_checks=[positive_data_acceptance])
