"""The policy options of ``outconn create`` and ``edit``, through the installed command."""

from __future__ import annotations

import pytest

from zato_outconn import ConnectError, OutconnConfig, Runtime, Store
from zato_outconn.cli.outconn_command import circuit_of

from tests.support.cli_runner import CLI, assert_one_error_line
from tests.support.servers import refused_port

NAME = 'CRM Customer Profile'


def test_edit_with_the_policy_options_round_trips_through_show(cli: CLI, store: Store) -> None:
    cli.ok('outconn', 'create', 'plain_http', NAME, '--host', 'http://crm.example.com')
    cli.ok('outconn', 'edit', NAME, '--max-retries', '3', '--breaker-threshold', '5', '--breaker-reset', '30',
           '--rate-limit', '50', '--retry-on-status', '503, 429', '--retry-methods', 'get,post',
           '--retry-backoff', '0.2', '--retry-after-max', '10')
    shown = cli.ok('outconn', 'show', NAME, '--format', 'json').json
    assert {key: shown[key] for key in ('max_retries', 'breaker_threshold', 'breaker_reset', 'rate_limit',
                                        'retry_on_status', 'retry_methods', 'retry_backoff', 'retry_after_max')} == {
        'max_retries': 3, 'breaker_threshold': 5, 'breaker_reset': 30.0, 'rate_limit': 50,
        'retry_on_status': '429,503', 'retry_methods': 'GET,POST', 'retry_backoff': 0.2, 'retry_after_max': 10.0}
    # A command run on its own has called nothing: its process has no circuit to show.
    assert shown['circuit'] is None
    assert store.get_outconn('plain_http', NAME).config.max_retries == 3
    table = cli.ok('outconn', 'show', NAME).out
    assert 'circuit' in table and 'not called in this process' in table


def test_show_leaves_the_circuit_out_without_a_breaker(cli: CLI) -> None:
    cli.ok('outconn', 'create', 'plain_http', NAME, '--host', 'http://crm.example.com', '--max-retries', '2')
    shown = cli.ok('outconn', 'show', NAME, '--format', 'json').json
    assert shown['max_retries'] == 2 and 'circuit' not in shown


def test_a_bad_policy_value_is_one_error_line_naming_the_field(cli: CLI) -> None:
    cli.ok('outconn', 'create', 'plain_http', NAME, '--host', 'http://crm.example.com')
    assert_one_error_line(cli.run('outconn', 'edit', NAME, '--max-retries', 'many'), 'max_retries', 'whole number')
    assert_one_error_line(cli.run('outconn', 'edit', NAME, '--retry-methods', 'GET,FETCH'), 'retry_methods',
                          'FETCH')


def test_the_help_of_the_options_is_the_models(cli: CLI) -> None:
    text = ' '.join(cli.ok('outconn', 'create', '--help').out.split())
    assert '--breaker-threshold' in text and 'Consecutive failures' in text and '0 = off' in text
    assert '--rate-limit' in text and 'Calls per second' in text


def test_a_process_that_called_the_connection_shows_its_circuit(store: Store) -> None:
    store.create_outconn(OutconnConfig(name=NAME, host=f'http://127.0.0.1:{refused_port()}', breaker_threshold=1))
    with Runtime(store=store, sync=False) as runtime:
        with pytest.raises(ConnectError):
            runtime.outgoing.plain_http[NAME].conn.get('cid-1')
        circuit = circuit_of('plain_http', NAME)
    assert circuit is not None and circuit['state'] == 'open' and circuit['failures'] == 1
    assert 0 < circuit['trial_in'] <= 30
