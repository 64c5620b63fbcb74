"""Settings at their edges: malformed URLs, port 0, C1 control characters, dot-segments, lengths."""

from __future__ import annotations

from typing import Any

import pytest

from zato_outconn import ConfigError, OutconnConfig, SecurityConfig
from zato_outconn.config.path_template import PathTemplate


def refused(**settings: Any) -> dict[str, str]:
    with pytest.raises(ConfigError) as info:
        OutconnConfig(**{'name': 'CRM', 'host': 'http://crm', **settings})
    return dict(info.value.errors)


# ---------------------------------------------------------------------- host, port, control characters


@pytest.mark.parametrize('host', ['http://[::1', 'http://[::1]x:80', 'http://[not-an-address]'])
def test_a_malformed_url_is_a_config_error_on_its_field(host: str) -> None:
    errors = refused(host=host)
    assert list(errors) == ['host'] and 'brackets' in errors['host']


def test_the_same_url_refusal_holds_for_every_url_setting() -> None:
    assert 'proxy' in refused(proxy='http://[::1')
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='o', sec_type='oauth2', client_id='c', token_url='https://[::1/token')
    assert info.value.field == 'token_url'


@pytest.mark.parametrize('host', ['http://crm:0', 'https://crm:00'])
def test_port_zero_is_refused(host: str) -> None:
    assert '1 to 65535' in refused(host=host)['host']
    assert '1 to 65535' in refused(proxy=host.replace('crm', 'proxy'))['proxy']


def test_ports_one_and_65535_are_kept() -> None:
    assert OutconnConfig(name='CRM', host='http://crm:1').host == 'http://crm:1'
    assert OutconnConfig(name='CRM', host='http://crm:65535').host == 'http://crm:65535'
    assert OutconnConfig(name='CRM', host='http://[::1]:8080').host == 'http://[::1]:8080'


@pytest.mark.parametrize('char', ['\x85', '\x80', '\x9f', '\x7f', '\x1b'])
def test_c0_del_and_c1_control_characters_are_refused_in_names(char: str) -> None:
    assert refused(name=f'CRM{char}x')['name'] == 'must not contain control characters'
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name=f'creds{char}', sec_type='bearer', secret='t')
    assert info.value.field == 'name'


def test_latin1_letters_next_to_c1_are_text() -> None:
    # U+00A0 and later are letters and symbols, not controls.
    assert OutconnConfig(name='Café\xa0Ĳ', host='http://crm').name == 'Café\xa0Ĳ'


# ---------------------------------------------------------------------- url_path as written


@pytest.mark.parametrize('path', ['/a/%2e%2e/b', '/a/%2E%2e/b', '/a/../b', '/a/./b', '/a/.', '/%2e/{x}',
                                  '/a/..?q=1', '/{x}/%2E%2E'])
def test_dot_segments_are_refused_when_saved(path: str) -> None:
    errors = refused(url_path=path)
    assert list(errors) == ['url_path'] and '. or .. segments' in errors['url_path']


@pytest.mark.parametrize('path', ['/a/..b', '/a/.well-known', '/a/{x}..', '/a/%2e%2ejson', '/a?x=../b'])
def test_dots_that_are_no_dot_segment_are_kept(path: str) -> None:
    assert OutconnConfig(name='CRM', host='http://crm', url_path=path).url_path == path


def test_escapes_in_a_template_are_kept_as_written() -> None:
    # requests' requote_uri would have decoded %41 and %7e (unreserved) and so changed the path.
    template = PathTemplate.parse('/a/%41%7e/{x}/caf\u00e9 b/100%?q=%2e&r=[1]')
    assert template.literals == ('/a/%41%7E/', '/caf%C3%A9%20b/100%25')
    assert template.static_query == 'q=%2E&r=%5B1%5D'


def test_a_lone_surrogate_in_a_template_is_a_config_error() -> None:
    assert 'surrogate' in refused(url_path='/a/\ud800')['url_path']


# ---------------------------------------------------------------------- lengths


@pytest.mark.parametrize(('field', 'value'), [
    ('host', 'http://' + 'h' * 2100),
    ('url_path', '/' + 'p' * 3000),
    ('proxy', 'http://' + 'p' * 2000),
    ('content_type', 'application/' + 'x' * 200),
    ('cid_header', 'X-' + 'c' * 200),
], ids=['host', 'url_path', 'proxy', 'content_type', 'cid_header'])
def test_over_long_settings_are_refused_naming_the_field(field: str, value: str) -> None:
    errors = refused(**{field: value})
    assert list(errors) == [field]
    assert errors[field] == f'must be at most {OutconnConfig.max_length_of(field)} characters long; shorten it'
    assert value not in errors[field]


def test_an_over_long_soap_action_is_refused() -> None:
    errors = refused(transport='soap', soap_action='urn:' + 'a' * 2100)
    assert errors == {'soap_action': 'must be at most 2000 characters long; shorten it'}


@pytest.mark.parametrize('field', ['host', 'proxy'])
@pytest.mark.parametrize('name', ['h' * 64, ('h' * 60 + '.') * 5 + 'com', ('h' * 63 + '.') * 30 + 'com'])
def test_a_host_name_longer_than_dns_allows_is_refused(field: str, name: str) -> None:
    """A label holds 63 characters at most, a name 253: a longer one no resolver takes, long before the
    column's 2000."""
    errors = refused(**{field: f'http://{name}:8080'})
    assert list(errors) == [field] and 'a label is empty or longer than 63 characters' in errors[field]


def test_settings_at_their_limit_are_kept() -> None:
    # The longest name DNS allows: labels of 63, 253 characters in all.
    host = 'http://' + '.'.join(['h' * 63] * 3 + ['h' * 61]) + ':65535'
    config = OutconnConfig(name='n' * 200, host=host, url_path='/' + 'p' * 1999)
    assert (config.host, len(config.url_path)) == (host, 2000)


def test_the_json_schema_gives_the_limits() -> None:
    properties = OutconnConfig.model_json_schema()['properties']
    assert properties['host']['maxLength'] == 2000
    assert properties['name']['maxLength'] == 200


@pytest.mark.parametrize(('host', 'says'), [('http://\u200bcrm', 'U+200B (ZERO WIDTH SPACE) cannot be in one'),
                                            ('http://crm\\evil', 'U+005C (REVERSE SOLIDUS) cannot be in one'),
                                            ('http://%41crm', 'U+0025 (PERCENT SIGN) cannot be in one'),
                                            ('http://crm..example.com', 'a label is empty')])
def test_a_host_that_is_no_host_name_is_refused_when_saved_not_when_called(host: str, says: str) -> None:
    """Saved, http://crm\\evil would be sent to the host crm; the others fail only when called."""
    errors = refused(host=host)
    assert list(errors) == ['host'] and 'has a host that is no host name or address' in errors['host']
    assert says in errors['host']


@pytest.mark.parametrize('host', ['http://bücher.example', 'http://my_service:8080', 'http://example.com.',
                                  'http://10.0.0.7', 'http://[::1]:8080', 'https://CRM.Example.com'])
def test_host_names_of_every_usual_form_are_kept(host: str) -> None:
    assert OutconnConfig(name='CRM', host=host).host == host


@pytest.mark.parametrize(('path', 'shown'), [('/a\nb', "'\\n' at position 2: percent-encode it (%0A)"),
                                             ('/a\tb', "'\\t' at position 2: percent-encode it (%09)")])
def test_a_control_character_in_url_path_is_refused_saying_how_to_send_it(path: str, shown: str) -> None:
    """Sent, it would go percent-encoded; shown raw, a line break splits the list of templates."""
    errors = refused(url_path=path)
    assert list(errors) == ['url_path'] and shown in errors['url_path']
