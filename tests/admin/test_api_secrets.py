"""PUT /api/v1/security/<id>/secret: one secret at a time, or an mtls key with its password and
certificate in one body, checked together; what it refuses reads well, never showing a secret."""

from __future__ import annotations

import pytest

from zato_outconn import ConfigError
from zato_outconn.admin.schemas import one_secret


@pytest.mark.parametrize(('given', 'settings', 'field', 'message'), [
    ({}, ('secret',), 'secret', 'is required'),
    ({}, ('secret', 'key_password'), 'secret', 'is required (or send key_password instead)'),
    ({'secret': 'a', 'key_password': 'b'}, ('secret', 'key_password'), 'key_password',
     'cannot be set together with secret; send one at a time'),
    ({'client_cert': 'c'}, ('secret', 'key_password'), 'client_cert', 'is not set here; send secret or key_password'),
])
def test_one_secret_says_what_to_send(given: dict[str, str], settings: tuple[str, ...], field: str,
                                      message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        one_secret(given, settings)
    assert (refused.value.field, refused.value.rule) == (field, message)
    assert str(refused.value) == f'{field}: {message}'
    assert one_secret({'key_password': 'b'}) == ('key_password', 'b')

