"""Validation, defaults and coercion of the typed templates: OutconnConfig and SecurityConfig."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
import trustme

from zato_outconn import ConfigError, OutconnConfig, SecurityConfig
from zato_outconn.config import MASK

HOST = 'https://crm.example.com'


def outconn(**settings: Any) -> OutconnConfig:
    return OutconnConfig(**{'name': 'CRM', 'host': HOST, **settings})


def refused(field: str, *rule_words: str, **settings: Any) -> ConfigError:
    """Build an OutconnConfig that must be refused for ``field``, with these words in the rule."""
    with pytest.raises(ConfigError) as info:
        outconn(**settings)
    return check_error(info.value, field, *rule_words)


def check_error(error: ConfigError, field: str, *rule_words: str) -> ConfigError:
    assert error.field == field
    assert str(error).startswith(f'{field}: ')
    for word in rule_words:
        assert word in error.rule, f'{word!r} not in {error.rule!r}'
    return error


# ---------------------------------------------------------------------- defaults

def test_outconn_defaults() -> None:
    config = outconn()
    assert config.transport == 'plain_http'
    assert config.url_path == '/'
    assert config.security is None
    assert config.is_active is True
    assert config.connect_timeout == 10.0
    assert config.read_timeout == 10.0
    assert config.timeout == (10.0, 10.0)
    assert config.pool_size == 20
    assert config.ping_method == 'HEAD'
    assert config.data_format == 'json'
    assert config.content_type is None
    assert config.validate_tls is True
    assert config.ca_bundle is None
    assert config.proxy is None
    assert config.follow_redirects is False


def test_default_header_names() -> None:
    config = outconn()
    assert (config.cid_header, config.component_header, config.msg_ts_header) == (
        'X-Zato-CID', 'X-Zato-Component', 'X-Zato-Msg-TS')


def test_config_is_frozen() -> None:
    config = outconn()
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.host = 'http://other.example.com'  # type: ignore[misc]


def test_timeouts_are_separate_and_stored_as_float() -> None:
    config = outconn(connect_timeout=3, read_timeout=45)
    assert config.timeout == (3.0, 45.0)
    assert isinstance(config.connect_timeout, float)
    assert isinstance(config.read_timeout, float)


# ---------------------------------------------------------------------- name and transport

@pytest.mark.parametrize(('name', 'rule'), [
    ('', 'is required'),
    ('   ', 'is required'),
    (' CRM', 'whitespace'),
    ('CRM ', 'whitespace'),
    ('x' * 201, 'at most 200'),
    ('CRM\nProfile', 'control characters'),
])
def test_bad_name_refused(name: str, rule: str) -> None:
    refused('name', rule, name=name)


def test_unknown_transport_refused() -> None:
    refused('transport', 'plain_http', 'soap', "'ftp'", transport='ftp')


def test_soap_transport_accepted() -> None:
    assert outconn(transport='soap').transport == 'soap'


# ---------------------------------------------------------------------- host

@pytest.mark.parametrize('host', ['crm.example.com', 'ftp://crm.example.com', 'file:///etc/passwd'])
def test_host_must_be_http_url(host: str) -> None:
    refused('host', 'http://', 'https://', host=host)


def test_host_must_name_a_host() -> None:
    refused('host', 'must name a host', host='http://')


def test_host_must_not_have_a_path() -> None:
    error = refused('host', 'must not contain a path', host='https://crm.example.com/api/v1')
    assert 'url_path' in error.rule


def test_host_must_not_have_query_or_fragment() -> None:
    refused('host', 'query string', host='https://crm.example.com?a=1')
    refused('host', 'fragment', host='https://crm.example.com#top')


def test_host_must_not_carry_credentials() -> None:
    refused('host', 'username or password', host='https://user:secret@crm.example.com')


def test_host_port_must_be_valid() -> None:
    refused('host', 'invalid port', host='https://crm.example.com:99999')


@pytest.mark.parametrize('host', [None, '', 'https://crm example.com'])
def test_host_missing_or_with_spaces_refused(host: str | None) -> None:
    refused('host', host=host)


@pytest.mark.parametrize(('given', 'stored'), [
    ('https://crm.example.com/', 'https://crm.example.com'),
    ('http://crm.example.com:8080/', 'http://crm.example.com:8080'),
    ('https://crm.example.com', 'https://crm.example.com'),
])
def test_host_trailing_slash_dropped(given: str, stored: str) -> None:
    config = outconn(host=given, url_path='/customers')
    assert config.host == stored
    assert config.address == stored + '/customers'


# ---------------------------------------------------------------------- url_path

def test_url_path_must_start_with_slash() -> None:
    refused('url_path', 'must start with /', url_path='customers')


def test_url_path_must_be_text() -> None:
    refused('url_path', 'text', url_path=123)


def test_url_path_placeholders_accepted() -> None:
    config = outconn(url_path='/customers/{cust_id}/types/{type_id}')
    assert config.url_path == '/customers/{cust_id}/types/{type_id}'


@pytest.mark.parametrize('path', ['/customers/{1st}', '/customers/{cust-id}', '/customers/{}',
                                  '/customers/{cust id}'])
def test_url_path_placeholder_must_be_identifier(path: str) -> None:
    refused('url_path', 'not a valid name', url_path=path)


@pytest.mark.parametrize('path', ['/customers/{cust_id', '/customers/cust_id}', '/a/{b}}', '/a/{{b}'])
def test_url_path_unmatched_brace_refused(path: str) -> None:
    refused('url_path', 'unmatched', url_path=path)


def test_url_path_duplicate_placeholder_refused() -> None:
    refused('url_path', 'more than once', url_path='/{id}/{id}')


# ---------------------------------------------------------------------- timeouts

@pytest.mark.parametrize('field', ['connect_timeout', 'read_timeout'])
@pytest.mark.parametrize('value', [None, 0, 0.0, -1, -0.5, float('inf'), float('-inf'), float('nan'), True,
                                   '5'])
def test_timeout_must_be_positive_finite_number(field: str, value: Any) -> None:
    refused(field, 'positive number of seconds', **{field: value})


def test_small_fractional_timeout_accepted() -> None:
    assert outconn(read_timeout=0.25).read_timeout == 0.25


@pytest.mark.parametrize('field', ['connect_timeout', 'read_timeout', 'total_timeout'])
def test_timeouts_longer_than_a_day_are_refused(field: str) -> None:
    # A socket cannot take a timeout of 1e300 s (OverflowError in the middle of a call).
    refused(field, 'at most 86400 seconds', **{field: 1e300})
    assert getattr(outconn(**{field: 86_400}), field) == 86_400.0


# ---------------------------------------------------------------------- pool size

@pytest.mark.parametrize('value', [0, -1, 1001, 2.5, '20', True, None])
def test_pool_size_out_of_range_refused(value: Any) -> None:
    refused('pool_size', 'from 1 to 1000', pool_size=value)


@pytest.mark.parametrize('value', [1, 1000])
def test_pool_size_bounds_accepted(value: int) -> None:
    assert outconn(pool_size=value).pool_size == value


# ---------------------------------------------------------------------- ping method, data format, media type

@pytest.mark.parametrize('method', ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
def test_known_ping_methods_accepted(method: str) -> None:
    assert outconn(ping_method=method).ping_method == method


def test_ping_method_upper_cased() -> None:
    assert outconn(ping_method='get').ping_method == 'GET'


@pytest.mark.parametrize('method', ['FETCH', 'CONNECT', '', None])
def test_unknown_ping_method_refused(method: str | None) -> None:
    refused('ping_method', 'must be one of', 'HEAD', ping_method=method)


@pytest.mark.parametrize('data_format', ['json', 'form', 'none'])
def test_data_formats_accepted(data_format: str) -> None:
    assert outconn(data_format=data_format).data_format == data_format


@pytest.mark.parametrize('data_format', ['xml', 'JSON', '', None])
def test_unknown_data_format_refused(data_format: str | None) -> None:
    refused('data_format', 'json, form, none', data_format=data_format)


@pytest.mark.parametrize('content_type', ['application/xml', 'text/plain; charset=utf-8',
                                          'application/vnd.api+json'])
def test_media_type_content_type_accepted(content_type: str) -> None:
    assert outconn(content_type=content_type).content_type == content_type


@pytest.mark.parametrize('content_type', ['json', 'application/', '/json', 'text/plain\r\nX-Evil: 1',
                                          'text/plain\n', 'text /plain'])
def test_content_type_must_be_media_type(content_type: str) -> None:
    refused('content_type', 'media type', content_type=content_type)


# ---------------------------------------------------------------------- booleans

@pytest.mark.parametrize('field', ['is_active', 'validate_tls', 'follow_redirects'])
@pytest.mark.parametrize('value', ['yes', 1, 0, None])
def test_switches_must_be_booleans(field: str, value: Any) -> None:
    refused(field, 'true or false', **{field: value})


def test_switches_can_be_turned() -> None:
    config = outconn(is_active=False, validate_tls=False, follow_redirects=True)
    assert (config.is_active, config.validate_tls, config.follow_redirects) == (False, False, True)


@pytest.mark.parametrize('value', [0, 101, '10'])
def test_max_redirects_out_of_range_refused(value: Any) -> None:
    refused('max_redirects', 'from 1 to 100', max_redirects=value)


# ---------------------------------------------------------------------- CA bundle

def test_ca_bundle_pem_accepted(ca_pem: str) -> None:
    assert outconn(ca_bundle=ca_pem).ca_bundle == ca_pem


def test_ca_bundle_several_certificates_accepted(ca_pem: str) -> None:
    bundle = ca_pem + trustme.CA().cert_pem.bytes().decode()
    assert outconn(ca_bundle=bundle).ca_bundle == bundle


def test_ca_bundle_not_pem_refused() -> None:
    refused('ca_bundle', 'PEM', 'BEGIN CERTIFICATE', ca_bundle='not a certificate')


def test_ca_bundle_broken_pem_refused() -> None:
    broken = '-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n'
    refused('ca_bundle', 'not valid PEM certificate', ca_bundle=broken)


def test_ca_bundle_with_a_private_key_beside_its_certificates_is_refused_without_showing_it(ca_pem: str) -> None:
    """A template keeps its ca_bundle in plain text (shown, exported): a key in it would be a secret so kept."""
    issued = trustme.CA().issue_cert('crm.example.com')
    key_pem = issued.private_key_pem.bytes().decode()
    with pytest.raises(ConfigError) as raised:
        outconn(ca_bundle=ca_pem + key_pem)
    assert raised.value.field == 'ca_bundle'
    assert 'holds a private key (-----BEGIN' in raised.value.rule and 'mtls' in raised.value.rule
    body = key_pem.splitlines()[1]
    assert body not in str(raised.value)


def test_ca_bundle_private_key_only_refused() -> None:
    key_pem = trustme.CA().issue_cert('crm.example.com').private_key_pem.bytes().decode()
    refused('ca_bundle', 'PEM', ca_bundle=key_pem)


def test_ca_bundle_not_in_repr(ca_pem: str) -> None:
    assert 'BEGIN CERTIFICATE' not in repr(outconn(ca_bundle=ca_pem))


# ---------------------------------------------------------------------- proxy

@pytest.mark.parametrize('proxy', ['http://proxy.example.com:3128', 'https://proxy.example.com'])
def test_proxy_http_url_accepted(proxy: str) -> None:
    assert outconn(proxy=proxy).proxy == proxy


@pytest.mark.parametrize('proxy', ['socks5://proxy.example.com:1080', 'proxy.example.com:3128'])
def test_proxy_must_be_http_url(proxy: str) -> None:
    refused('proxy', 'http://', proxy=proxy)


def test_proxy_must_not_carry_credentials() -> None:
    refused('proxy', 'username or password', proxy='http://user:secret@proxy.example.com:3128')


# ---------------------------------------------------------------------- header names and security reference

def test_empty_header_name_switches_header_off() -> None:
    assert outconn(cid_header='').cid_header == ''


def test_header_can_be_renamed() -> None:
    assert outconn(component_header='X-Component').component_header == 'X-Component'


@pytest.mark.parametrize('field', ['cid_header', 'component_header', 'msg_ts_header'])
@pytest.mark.parametrize('value', ['X CID', 'X-CID:', 'X-CID\n', 'X-CID\r\nX-Evil: 1', None])
def test_bad_header_name_refused(field: str, value: str | None) -> None:
    refused(field, 'HTTP header name', **{field: value})


@pytest.mark.parametrize('security', ['', ' CRM', 'a\nb'])
def test_bad_security_name_refused(security: str) -> None:
    refused('security', security=security)


# ---------------------------------------------------------------------- from_input

def test_from_input_coerces_text() -> None:
    config = OutconnConfig.from_input({
        'name': 'CRM', 'host': HOST, 'connect_timeout': '5', 'read_timeout': ' 2.5 ', 'pool_size': '7',
        'max_redirects': '3', 'validate_tls': 'false', 'is_active': 'no', 'follow_redirects': 'on'})
    assert config.connect_timeout == 5.0
    assert isinstance(config.connect_timeout, float)
    assert config.read_timeout == 2.5
    assert config.pool_size == 7
    assert config.max_redirects == 3
    assert config.validate_tls is False
    assert config.is_active is False
    assert config.follow_redirects is True


@pytest.mark.parametrize(('text', 'value'), [
    ('true', True), ('True', True), ('1', True), ('yes', True),
    ('false', False), ('FALSE', False), ('0', False), ('off', False),
])
def test_from_input_boolean_words(text: str, value: bool) -> None:
    assert OutconnConfig.from_input({'name': 'CRM', 'host': HOST, 'validate_tls': text}).validate_tls is value


@pytest.mark.parametrize('field', ['security', 'content_type', 'ca_bundle', 'proxy'])
def test_from_input_empty_optional_is_none(field: str) -> None:
    config = OutconnConfig.from_input({'name': 'CRM', 'host': HOST, field: ''})
    assert getattr(config, field) is None


@pytest.mark.parametrize(('field', 'text', 'rule'), [
    ('connect_timeout', 'abc', 'number of seconds'),
    ('connect_timeout', '', 'number of seconds'),
    ('read_timeout', '0', 'positive number of seconds'),
    ('read_timeout', 'inf', 'positive number of seconds'),
    ('pool_size', '5.5', 'whole number'),
    ('pool_size', '0', 'from 1 to 1000'),
    ('validate_tls', 'maybe', 'true or false'),
])
def test_from_input_bad_text_refused(field: str, text: str, rule: str) -> None:
    with pytest.raises(ConfigError) as info:
        OutconnConfig.from_input({'name': 'CRM', 'host': HOST, field: text})
    check_error(info.value, field, rule)


def test_from_input_unknown_field_refused() -> None:
    with pytest.raises(ConfigError) as info:
        OutconnConfig.from_input({'name': 'CRM', 'host': HOST, 'colour': 'red'})
    check_error(info.value, 'colour', 'is not a setting', 'read_timeout')


def test_from_input_missing_required_refused() -> None:
    with pytest.raises(ConfigError) as info:
        OutconnConfig.from_input({'name': 'CRM', 'host': ''})
    check_error(info.value, 'host', 'is required')


def test_security_from_input_empty_optional_is_none() -> None:
    config = SecurityConfig.from_input({'name': 'Token', 'sec_type': 'bearer', 'username': '',
                                        'header_name': '', 'secret': ''})
    assert (config.username, config.header_name, config.secret) == (None, None, None)


def test_security_from_input_unknown_field_refused() -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig.from_input({'name': 'Token', 'sec_type': 'bearer', 'password': 'x'})
    check_error(info.value, 'password', 'is not a setting')


# ---------------------------------------------------------------------- with_changes

def test_with_changes_returns_validated_copy() -> None:
    config = outconn(url_path='/customers')
    changed = config.with_changes({'read_timeout': '30', 'host': 'http://other.example.com/'})
    assert changed.read_timeout == 30.0
    assert changed.host == 'http://other.example.com'
    assert changed.url_path == '/customers'
    assert config.read_timeout == 10.0
    assert config.host == HOST


def test_with_changes_no_changes_is_equal() -> None:
    config = outconn(proxy='http://proxy.example.com:3128')
    assert config.with_changes({}) == config


def test_with_changes_invalid_value_refused() -> None:
    with pytest.raises(ConfigError) as info:
        outconn().with_changes({'pool_size': 0})
    check_error(info.value, 'pool_size', 'from 1 to 1000')


def test_with_changes_unknown_field_refused() -> None:
    with pytest.raises(ConfigError) as info:
        outconn().with_changes({'timeout': 5})
    check_error(info.value, 'timeout', 'is not a setting')


def test_with_changes_clears_optional_with_empty_text() -> None:
    config = outconn(proxy='http://proxy.example.com:3128', security='CRM credentials')
    changed = config.with_changes({'proxy': '', 'security': ''})
    assert (changed.proxy, changed.security) == (None, None)


def test_security_with_changes_keeps_secret() -> None:
    config = SecurityConfig(name='CRM', sec_type='basic_auth', username='alice', secret='s3cret')
    changed = config.with_changes({'username': 'bob'})
    assert (changed.username, changed.secret) == ('bob', 's3cret')


# ---------------------------------------------------------------------- SecurityConfig

def test_unknown_sec_type_refused() -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='CRM', sec_type='kerberos')
    check_error(info.value, 'sec_type', 'basic_auth', 'apikey', 'bearer')


def test_apikey_default_header_name() -> None:
    assert SecurityConfig(name='Key', sec_type='apikey', secret='k').header_name == 'X-API-Key'


def test_apikey_custom_header_name() -> None:
    config = SecurityConfig(name='Key', sec_type='apikey', header_name='X-Token', secret='k')
    assert config.header_name == 'X-Token'


@pytest.mark.parametrize('header_name', ['X Token', 'X-Token\n', ''])
def test_apikey_bad_header_name_refused(header_name: str) -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='Key', sec_type='apikey', header_name=header_name)
    check_error(info.value, 'header_name', 'HTTP header name')


@pytest.mark.parametrize('username', [None, ''])
def test_basic_auth_requires_username(username: str | None) -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='CRM', sec_type='basic_auth', username=username, secret='pw')
    check_error(info.value, 'username', 'is required for basic_auth')


def test_basic_auth_username_without_colon() -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='CRM', sec_type='basic_auth', username='al:ice')
    check_error(info.value, 'username', 'colon')


@pytest.mark.parametrize('sec_type', ['apikey', 'bearer'])
def test_username_only_for_types_with_users(sec_type: str) -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='CRM', sec_type=sec_type, username='alice')
    check_error(info.value, 'username', 'is used by basic_auth and digest and ntlm and wss only')


@pytest.mark.parametrize('sec_type', ['basic_auth', 'bearer'])
def test_header_name_only_for_apikey(sec_type: str) -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='CRM', sec_type=sec_type, username='alice' if sec_type == 'basic_auth' else None,
                       header_name='X-Key')
    check_error(info.value, 'header_name', 'apikey only')


def test_token_secret_without_line_breaks() -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='Token', sec_type='bearer', secret='abc\r\nX-Evil: 1')
    check_error(info.value, 'secret', 'line breaks')


def test_secret_must_be_text() -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='Token', sec_type='bearer', secret=1234)  # type: ignore[arg-type]
    check_error(info.value, 'secret', 'text')


def test_security_name_validated() -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name=' CRM', sec_type='bearer')
    check_error(info.value, 'name', 'whitespace')


@pytest.mark.parametrize('config', [
    SecurityConfig(name='CRM', sec_type='basic_auth', username='alice', secret='pa55-w0rd-XYZ'),
    SecurityConfig(name='Key', sec_type='apikey', secret='pa55-w0rd-XYZ'),
    SecurityConfig(name='Token', sec_type='bearer', secret='pa55-w0rd-XYZ'),
])
def test_security_repr_never_shows_secret(config: SecurityConfig) -> None:
    assert 'pa55-w0rd-XYZ' not in repr(config)
    assert 'pa55-w0rd-XYZ' not in str(config)
    assert config.name in repr(config)


def test_security_public_masks_secret() -> None:
    config = SecurityConfig(name='CRM', sec_type='basic_auth', username='alice', secret='pa55-w0rd-XYZ')
    public = config.public()
    assert public['secret'] == MASK
    assert public['username'] == 'alice'
    assert 'pa55-w0rd-XYZ' not in repr(public)


def test_security_public_without_secret() -> None:
    assert SecurityConfig(name='Token', sec_type='bearer').public()['secret'] is None


@pytest.mark.parametrize('proxy', ['socks5://bob:Pr0xy-pw@proxy:1080', 'http://bob:Pr0xy-pw@proxy:3128'])
def test_proxy_error_never_repeats_a_password(proxy: str) -> None:
    with pytest.raises(ConfigError) as info:
        OutconnConfig(name='CRM', host='http://crm.example.com', proxy=proxy)
    assert info.value.field == 'proxy' and 'Pr0xy-pw' not in str(info.value)


def test_from_input_names_a_missing_required_setting() -> None:
    with pytest.raises(ConfigError) as info:
        OutconnConfig.from_input({'name': 'CRM'})
    check_error(info.value, 'host', 'is required')
    with pytest.raises(ConfigError) as info:
        SecurityConfig.from_input({'name': 'CRM'})
    check_error(info.value, 'sec_type', 'is required')


@pytest.mark.parametrize('sec_type', ['apikey', 'bearer'])
def test_header_secrets_must_be_latin1(sec_type: str) -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='k', sec_type=sec_type, secret='kéy€42')
    check_error(info.value, 'secret', 'Latin-1')
    assert 'kéy€42' not in str(info.value)


@pytest.mark.parametrize(('setting', 'value'), [
    ('host', 'http://user:TOP/SECRET@example.com'),
    ('host', 'http://user:TOP#SECRET@example.com'),
])
def test_url_errors_never_repeat_a_password(setting: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        OutconnConfig(name='CRM', **{setting: value})
    assert info.value.field == setting and 'SECRET' not in str(info.value)


def test_token_url_error_never_repeats_a_password() -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='o', sec_type='oauth2', token_url='https://app:TOPSECRET@login.example.com/t',
                       client_id='app')
    assert info.value.field == 'token_url' and 'TOPSECRET' not in str(info.value)


@pytest.mark.parametrize(('value', 'got'), [(5, 'a number'), (True, 'true or false'), (['a'], 'a list'),
                                            ({'a': 1}, 'a mapping')])
def test_a_name_or_host_that_is_no_text_is_refused_as_such_not_as_missing(value: Any, got: str) -> None:
    """JSON's 5 or YAML's NO (false) is a value given: "is required" would say nothing was."""
    refused('name', f'must be text; got {got}', name=value)
    refused('host', f'must be text; got {got}', host=value)


def test_a_lone_surrogate_in_a_name_is_called_what_it_is() -> None:
    refused('name', 'U+D800, a lone surrogate, which UTF-8 cannot encode', name='x\ud800')
