"""OAuth2's one retry after a 401 with a new token is an attempt of its own, which max_retries does not count."""

from __future__ import annotations

import logging

import pytest

from tests.security.conftest import MakeConn, oauth2
from tests.support.auth_servers import OAuth2Server, ProtectedAPIServer


def test_a_revoked_token_is_renewed_within_the_first_attempt(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                                             api_server: ProtectedAPIServer,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    item = make_conn('Partner', security=oauth2(oauth2_server.token_url), host=api_server.url, url_path='/orders',
                     max_retries=3, retry_backoff=0)
    item.conn.get('cid-1')
    oauth2_server.issuer.revoke_all()
    with caplog.at_level(logging.INFO, logger='zato_outconn.call'):
        response = item.conn.get('cid-2')
    assert response.status_code == 200
    assert [old.status_code for old in response.history] == [401]
    assert oauth2_server.issuer.count == 2
    # Each attempt its own line; the one with a new token keeps the number of the one refused.
    lines = [record.getMessage() for record in caplog.records if 'cid=cid-2' in record.getMessage()]
    assert len(lines) == 2 and all('attempt=1' in line for line in lines)
    assert '-> 401' in lines[0] and '-> 200' in lines[1]


def test_a_persistent_401_is_not_retried_by_the_connection(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                                           api_server: ProtectedAPIServer) -> None:
    item = make_conn('Partner', security=oauth2(oauth2_server.token_url), host=api_server.url, url_path='/orders',
                     max_retries=3, retry_backoff=0)
    api_server.refuse_all = True
    assert item.conn.get('cid-1').status_code == 401
    # The request and OAuth2's own one retry with a new token; 401 is no status the connection retries.
    assert len(api_server.calls) == 2
    assert oauth2_server.issuer.count == 2


def test_with_401_retried_the_token_is_renewed_once_per_call(make_conn: MakeConn, oauth2_server: OAuth2Server,
                                                              api_server: ProtectedAPIServer) -> None:
    item = make_conn('Partner', security=oauth2(oauth2_server.token_url), host=api_server.url, url_path='/orders',
                     max_retries=1, retry_backoff=0, retry_on_status='401')
    api_server.refuse_all = True
    assert item.conn.get('cid-1').status_code == 401
    # The first token, its renewal, then the one retry with the token renewed: a token fetched for this
    # call and refused too is no stale token, and another would only load the token endpoint.
    assert len(api_server.calls) == 3
    assert oauth2_server.issuer.count == 2
    # The next call renews it again.
    assert item.conn.get('cid-2').status_code == 401
    assert oauth2_server.issuer.count == 3
