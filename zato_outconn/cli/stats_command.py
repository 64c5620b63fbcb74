"""``zato-outconn outconn stats NAME``: a connection's calls, errors, retries and latency percentiles.

The figures come from a running server's ``/metrics`` (``--url``, by default ``zato-outconn serve``'s
at http://127.0.0.1:11223/metrics), read with an API token from ``ZATO_OUTCONN_TOKEN`` (any role:
each one may read metrics), and parsed as Prometheus parses them. Inside the server's environment,
where ``PROMETHEUS_MULTIPROC_DIR`` is set and no ``--url`` is given, they are read from the files
its workers write there instead: the server's own figures, with no request made. Percentiles are
estimated from the latency histogram's buckets, as Prometheus's ``histogram_quantile`` does.
"""

from __future__ import annotations

import os
from typing import Any

import click

from zato_outconn.cli.context import fail
from zato_outconn.cli.output import emit, format_option, render_fields
from zato_outconn.config import TRANSPORTS

TOKEN_ENV = 'ZATO_OUTCONN_TOKEN'
DEFAULT_URL = 'http://127.0.0.1:11223/metrics'
SCRAPE_TIMEOUT = 10.0
_MULTIPROCESS_ENV = 'PROMETHEUS_MULTIPROC_DIR'


@click.command('stats')
@click.argument('name')
@click.option('--transport', type=click.Choice(TRANSPORTS), default=None,
              help='Count only the requests of this transport, when a plain_http and a soap connection share the '
                   'name.')
@click.option('--url', default=None, help=f'The metrics endpoint to read [default: {DEFAULT_URL}, or, where '
                                          f'{_MULTIPROCESS_ENV} is set, the files of the server\'s workers]; '
                                          f'the API token is read from {TOKEN_ENV}.')
@format_option
def stats(name: str, transport: str | None, url: str | None, output_format: str) -> None:
    """Calls, errors, retries and p50/p95/p99 latency of connection NAME, as a running server counted them.

    Each attempt counts as a call (a retried call counts once per attempt, and once in retries).
    """
    # Imported here: the rest of the command line loads no prometheus-client.
    from zato_outconn import metrics

    if url is None and os.environ.get(_MULTIPROCESS_ENV):
        figures = metrics.stats(name, transport)
        source = os.environ[_MULTIPROCESS_ENV]
    else:
        from prometheus_client.parser import text_string_to_metric_families

        source = url or DEFAULT_URL
        figures = metrics.summarise(text_string_to_metric_families(_scrape(source)), name, transport)
    emit(output_format, {**figures, 'source': source}, lambda: render_fields(_shown(figures, source)))


def _scrape(url: str) -> str:
    import requests

    token = os.environ.get(TOKEN_ENV)
    session = requests.Session()
    # Not this machine's proxy or CA settings: the endpoint is the server's own.
    session.trust_env = False
    try:
        with session:
            answer = session.get(url, headers={'Authorization': f'Bearer {token}'} if token else {},
                                 timeout=SCRAPE_TIMEOUT)
    except requests.RequestException as error:
        fail(f'--url: cannot read {url}: {type(error).__name__}; is zato-outconn serve running there? Give its '
             'metrics endpoint with --url')
    if answer.status_code in (401, 403):
        fail(f'{url} answered {answer.status_code}: set {TOKEN_ENV} to an API token that may read metrics (any role; '
             'zato-outconn tokens create NAME --role viewer)')
    if answer.status_code != 200 or not answer.headers.get('Content-Type', '').startswith('text/plain'):
        fail(f'--url: {url} answered {answer.status_code} {answer.headers.get("Content-Type", "")}, not Prometheus '
             'text; give the metrics endpoint, e.g. http://127.0.0.1:11223/metrics')
    return answer.text


def _shown(figures: dict[str, Any], source: str) -> dict[str, Any]:
    def seconds(value: float | None) -> str | None:
        return None if value is None else f'{value * 1000:.1f} ms'

    codes = ', '.join(f'{code}: {count}' for code, count in figures['codes'].items())
    return {
        'connection': figures['connection'], 'calls': figures['calls'], 'errors': figures['errors'],
        'retries': figures['retries'], 'codes': codes or None, 'p50': seconds(figures['p50']),
        'p95': seconds(figures['p95']), 'p99': seconds(figures['p99']), 'mean': seconds(figures['mean']),
        'circuit open': figures['circuit_open'], 'source': source,
    }
