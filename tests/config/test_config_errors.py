"""ConfigError reports every bad field at once, and the model gives the API its schema."""

from __future__ import annotations

import dataclasses

import pytest

from zato_outconn import ConfigError, OutconnConfig, SecurityConfig
from zato_outconn.config import MASK


def test_every_bad_field_is_named_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        OutconnConfig(name='x', host='ftp://nowhere', pool_size=0)
    error = info.value
    assert [field for field, _ in error.errors] == ['host', 'pool_size']
    assert (error.field, error.rule) == error.errors[0]
    assert 'http://' in dict(error.errors)['host'] and 'from 1 to 1000' in dict(error.errors)['pool_size']
    assert str(error).startswith('host: ') and 'pool_size: ' in str(error)


def test_from_input_reports_text_that_is_no_number_with_the_other_errors() -> None:
    with pytest.raises(ConfigError) as info:
        OutconnConfig.from_input({'name': 'CRM', 'host': 'http://crm', 'read_timeout': 'soon', 'pool_size': '0',
                                  'colour': 'red'})
    errors = dict(info.value.errors)
    assert set(errors) == {'colour', 'read_timeout', 'pool_size'}
    assert 'number of seconds' in errors['read_timeout'] and 'from 1 to 1000' in errors['pool_size']
    assert 'is not a setting' in errors['colour']


def test_checks_across_fields_are_reported_together() -> None:
    with pytest.raises(ConfigError) as info:
        OutconnConfig(name='x', host='http://x', soap_action='urn:a', wsdl_port='p', soap_version='1.2')
    assert {field for field, _ in info.value.errors} == {'soap_action', 'wsdl_port', 'soap_version'}


def test_no_error_repeats_a_secret() -> None:
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='k', sec_type='apikey', header_name='X Key', secret='kéy€42-s3cret')
    assert {field for field, _ in info.value.errors} >= {'header_name'}
    assert 'kéy€42-s3cret' not in str(info.value) and 'kéy€42-s3cret' not in repr(info.value.errors)
    with pytest.raises(ConfigError) as info:
        SecurityConfig(name='k', sec_type='bearer', secret='t0ken\nX-Evil: 1', username='bob')
    assert {field for field, _ in info.value.errors} == {'username', 'secret'}
    assert 't0ken' not in str(info.value)


def test_pydantic_errors_never_escape() -> None:
    # Every way of building a model fails as ConfigError, assignment as a frozen value does.
    with pytest.raises(ConfigError):
        OutconnConfig()  # type: ignore[call-arg]
    with pytest.raises(ConfigError):
        OutconnConfig.model_validate({'name': 'x'})
    config = OutconnConfig(name='x', host='http://x')
    with pytest.raises(dataclasses.FrozenInstanceError):
        del config.host


def test_the_mask_is_no_value_of_a_validated_config_view() -> None:
    config = SecurityConfig(name='CRM', sec_type='basic_auth', username='alice', secret='pa55')
    view = config.view()
    assert view.secret_set is True and view.key_password_set is False
    assert view.secret == MASK and 'pa55' not in repr(view)
    assert view.as_dict()['secret_set'] is True and 'secret' not in view.as_dict()


def test_the_json_schema_has_constraints_help_and_no_unknown_fields() -> None:
    schema = OutconnConfig.model_json_schema()
    properties = schema['properties']
    assert schema['additionalProperties'] is False
    assert set(schema['required']) == {'name', 'host'}
    assert (properties['pool_size']['minimum'], properties['pool_size']['maximum']) == (1, 1000)
    assert properties['pool_size']['default'] == 20
    assert properties['ping_method']['enum'] == ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']
    assert properties['connect_timeout']['exclusiveMinimum'] == 0
    assert all(properties[name].get('description') for name in properties)
    security = SecurityConfig.model_json_schema()
    assert 'basic_auth' in security['properties']['sec_type']['enum']
