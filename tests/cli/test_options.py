"""The options of create and edit are the models' fields: their help and defaults come from there."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from zato_outconn.cli import cli
from zato_outconn.cli.outconn_command import _SETTINGS as OUTCONN_SETTINGS
from zato_outconn.cli.security_command import _SETTINGS as SECURITY_SETTINGS
from zato_outconn.config import OutconnConfig, SecurityConfig
from zato_outconn.config.base import ConfigModel


def help_of(*command: str) -> str:
    result = CliRunner().invoke(cli, [*command, '--help'], terminal_width=10_000, max_content_width=10_000)
    assert result.exit_code == 0, result.output
    return ' '.join(result.output.split())


@pytest.mark.parametrize(('command', 'model', 'settings'), [
    (('outconn', 'create'), OutconnConfig, OUTCONN_SETTINGS),
    (('outconn', 'edit'), OutconnConfig, OUTCONN_SETTINGS),
    (('security', 'create'), SecurityConfig, SECURITY_SETTINGS),
    (('security', 'edit'), SecurityConfig, SECURITY_SETTINGS),
])
def test_each_option_says_what_its_field_says(command: tuple[str, ...], model: type[ConfigModel],
                                              settings: tuple[str, ...]) -> None:
    text = help_of(*command)
    for setting in settings:
        assert f'--{setting.replace("_", "-")}' in text, setting
        assert model.help_of(setting) in text, setting


def test_defaults_in_the_help_are_the_models() -> None:
    text = help_of('outconn', 'create')
    for setting in ('connect_timeout', 'read_timeout', 'pool_size', 'ping_method', 'max_redirects', 'cid_header'):
        assert f'{OutconnConfig.help_of(setting)} Default: {OutconnConfig.default_of(setting)}.' in text, setting
    assert f'{OutconnConfig.help_of("validate_tls")} Default: on.' in text
    assert f'{OutconnConfig.help_of("follow_redirects")} Default: off.' in text


def test_every_setting_has_an_option() -> None:
    # The arguments (name, transport, sec_type), switches, files and secrets aside, every field is an option.
    outconn = set(OutconnConfig.model_fields) - {'name', 'transport', 'ca_bundle', 'is_active', 'validate_tls',
                                                 'follow_redirects'}
    assert set(OUTCONN_SETTINGS) == outconn
    security = set(SecurityConfig.model_fields) - {'name', 'sec_type', 'secret', 'client_cert', 'key_password'}
    assert set(SECURITY_SETTINGS) == security
