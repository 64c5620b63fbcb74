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


CANARY = 'S3CR3T-CANARY-1234'


@pytest.mark.parametrize(('text', 'where'), [
    (f'format: zato-outconn\nsecurity:\n  - name: a\n    secret: {CANARY} : x\n', '(line 4, column 32)'),
    (f'security:\n  - secret: "{CANARY}\n', '(line 3, column 1)'),
    (f'a:\t {CANARY}\n', '(line 1, column 3)'),
])
def test_a_yaml_error_says_where_without_quoting_the_line(text: str, where: str) -> None:
    """PyYAML's own message quotes the line it stopped at, which may be a secret's."""
    with pytest.raises(ConfigError) as refused:
        load(text.encode())
    assert CANARY not in str(refused.value)
    assert str(refused.value).startswith('file: is not valid YAML: ') and str(refused.value).endswith(where)


def test_a_byte_order_mark_is_no_part_of_the_document() -> None:
    # Read as JSON, whose errors quote nothing, not as YAML.
    with pytest.raises(ConfigError) as refused:
        load(f'\ufeff{{"format": "zato-outconn", "secret": "{CANARY}"\t}}], '.encode())
    assert 'is not valid JSON' in str(refused.value) and CANARY not in str(refused.value)
    with pytest.raises(ConfigError, match='is not a zato-outconn export'):
        load('\ufeff{"format": "other"}'.encode())


def test_a_document_that_is_not_utf8_is_refused_not_changed() -> None:
    """Decoded with replacement characters, 'café' in Latin-1 would be imported as 'caf\ufffd'."""
    with pytest.raises(ConfigError) as refused:
        load('{"format": "zato-outconn", "outconns": [{"name": "café"}]}'.encode('latin-1'))
    assert refused.value.field == 'file'
    assert refused.value.rule == 'is not UTF-8 text (at byte 53); save it as UTF-8'


@pytest.mark.parametrize('value', ['abc', '-1', '0', '1e6'])
def test_an_import_limit_that_is_no_whole_number_is_refused_naming_the_variable(
        value: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('ZATO_OUTCONN_MAX_IMPORT_BYTES', value)
    with pytest.raises(ConfigError) as refused:
        load(b'{}')
    assert refused.value.field == 'ZATO_OUTCONN_MAX_IMPORT_BYTES'
    assert 'must be a whole number of bytes, at least 1' in refused.value.rule


def test_the_import_limit_from_the_environment_holds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv('ZATO_OUTCONN_MAX_IMPORT_BYTES', '10')
    with pytest.raises(ConfigError, match='is 14 bytes; an import takes 10 at most'):
        load(b'{"format": ""}')
