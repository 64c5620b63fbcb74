"""What an import cannot read is refused saying what is wrong with the file, in its own format's name."""

from __future__ import annotations

import pytest

from zato_outconn import ConfigError
from zato_outconn.store.transfer import load

DEPTH = 100_000


@pytest.mark.parametrize(('text', 'kind'), [('{"a": ' * DEPTH, 'JSON'), ('[' * DEPTH, 'JSON'),
                                             ('  \n{"a": ' * 3 + '[' * DEPTH, 'JSON'),
                                             ('format: ' + '[' * DEPTH, 'YAML'), ('a:\n' + ' - ' * DEPTH, 'YAML')])
def test_a_document_nested_too_deeply_is_refused_as_such(text: str, kind: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load(text.encode())
    assert refused.value.field == 'file'
    assert refused.value.rule.startswith(f'is {kind} nested too deeply'), refused.value.rule
    assert 'RecursionError' not in str(refused.value)


def test_other_unreadable_documents_still_name_their_format() -> None:
    with pytest.raises(ConfigError, match='is not valid JSON'):
        load('{"format": ')
    with pytest.raises(ConfigError, match='is not valid YAML'):
        load('format: [unclosed')
    with pytest.raises(ConfigError, match='is not a zato-outconn export'):
        load('[1, 2]')
