"""zato_outconn.metrics: what a scrape shows, parsed as Prometheus parses it, in one process and across several.

The metrics of this process live in prometheus-client's default registry for the whole test run, so
each test records under connection names of its own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from zato_outconn import OutconnConfig, Runtime, metrics

from tests.conftest import upgraded


def unique(prefix: str = 'CRM') -> str:
    return f'{prefix} {uuid.uuid4().hex[:8]}'


def scraped(body: bytes | None = None) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Each sample of a scrape, by name, then by its labels, as Prometheus's parser reads them."""
    if body is None:
        body, content_type = metrics.render()
        assert content_type.startswith('text/plain')
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(body.decode('utf-8')):
        for sample in family.samples:
            found.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def of(samples: dict[str, dict[tuple[tuple[str, str], ...], float]], name: str,
       connection: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {labels: value for labels, value in samples.get(name, {}).items() if ('connection', connection) in labels}


def test_importing_the_package_loads_no_prometheus_client_until_metrics_is_asked_for() -> None:
    code = ('import sys, zato_outconn; assert "prometheus_client" not in sys.modules; '
            'from zato_outconn import metrics; assert "prometheus_client" in sys.modules; '
            'assert metrics.render()[0]')
    subprocess.run([sys.executable, '-c', code], check=True)


def test_a_scrape_shows_each_attempt_by_connection_transport_method_and_code() -> None:
    name = unique()
    metrics.observe_attempt(name, 'plain_http', 'GET', 200, 0.003)
    metrics.observe_attempt(name, 'plain_http', 'GET', 200, 0.2)
    metrics.observe_attempt(name, 'plain_http', 'POST', 503, 0.04)
    metrics.observe_attempt(name, 'plain_http', 'GET', None, 1.5)
    samples = scraped()
    requests = of(samples, 'zato_outconn_requests_total', name)
    base = (('connection', name), ('transport', 'plain_http'))

    def labels(method: str, code: str) -> tuple[tuple[str, str], ...]:
        return tuple(sorted((*base, ('method', method), ('code', code))))

    assert requests == {labels('GET', '200'): 2.0, labels('POST', '503'): 1.0, labels('GET', 'error'): 1.0}
    buckets = {dict(labels)['le']: value for labels, value in
               of(samples, 'zato_outconn_request_duration_seconds_bucket', name).items()}
    assert buckets['0.005'] == 1 and buckets['0.05'] == 2 and buckets['0.25'] == 3 and buckets['1.0'] == 3
    assert buckets['2.5'] == 4 and buckets['+Inf'] == 4
    assert of(samples, 'zato_outconn_request_duration_seconds_count', name) == {base: 4.0}
    assert of(samples, 'zato_outconn_request_duration_seconds_sum', name)[base] == pytest.approx(1.743)


def test_errors_retries_and_the_circuit_are_counted_by_connection() -> None:
    name = unique()
    metrics.count_error(name, 'ConnectTimeout')
    metrics.count_error(name, 'ConnectTimeout')
    metrics.count_error(name, 'CircuitOpen')
    metrics.count_retry(name)
    metrics.set_circuit(name, True)
    samples = scraped()
    assert of(samples, 'zato_outconn_errors_total', name) == {
        (('connection', name), ('error', 'CircuitOpen')): 1.0, (('connection', name), ('error', 'ConnectTimeout')): 2.0}
    assert of(samples, 'zato_outconn_retries_total', name) == {(('connection', name),): 1.0}
    assert of(samples, 'zato_outconn_circuit_open', name) == {(('connection', name),): 1.0}
    metrics.set_circuit(name, False)
    assert of(scraped(), 'zato_outconn_circuit_open', name) == {(('connection', name),): 0.0}


def test_no_label_holds_a_url_or_a_cid() -> None:
    name = unique()
    metrics.observe_attempt(name, 'soap', 'POST', 200, 0.01)
    label_names = {label for family in text_string_to_metric_families(metrics.render()[0].decode())
                   if family.name.startswith('zato_outconn_') for sample in family.samples for label in sample.labels}
    assert label_names <= {'connection', 'transport', 'method', 'code', 'le', 'error'}
    assert not {'url', 'cid', 'path', 'host'} & label_names


def test_methods_outside_the_standard_ones_share_one_label_value() -> None:
    # The method comes from the caller: a label per method would make a series per string passed.
    name = unique()
    for method in ('PROPFIND', 'MKCOL', 'X-7f3a', 'GET'):
        metrics.observe_attempt(name, 'plain_http', method, 207, 0.01)
    methods = {sample.labels['method'] for family in text_string_to_metric_families(metrics.render()[0].decode())
               if family.name == 'zato_outconn_requests' for sample in family.samples
               if sample.labels.get('connection') == name}
    assert methods == {'GET', 'other'}


def test_forget_removes_every_series_of_a_connection_and_only_its() -> None:
    gone, kept = unique('gone'), unique('kept')
    for name in (gone, kept):
        metrics.observe_attempt(name, 'plain_http', 'GET', 200, 0.01)
        metrics.observe_attempt(name, 'plain_http', 'GET', None, 0.01)
        metrics.count_error(name, 'ReadTimeout')
        metrics.count_retry(name)
        metrics.set_circuit(name, False)
    metrics.forget(gone)
    metrics.forget(unique('never used'))  # nothing to drop: no error
    text = metrics.render()[0].decode()
    assert gone not in text and kept in text
    # Used again, it starts from nothing.
    metrics.observe_attempt(gone, 'plain_http', 'GET', 200, 0.01)
    assert metrics.stats(gone)['calls'] == 1 and metrics.stats(kept)['calls'] == 2


def test_forget_drops_the_recorders_kept_for_the_attempts_of_a_connection() -> None:
    gone, kept = unique('gone'), unique('kept')
    for name in (gone, kept):
        for code in (200, 503, None):
            metrics.observe_attempt(name, 'plain_http', 'PATCH', code, 0.01)
        metrics.observe_attempt(name, 'soap', 'MADE-UP', 200, 0.01)
    assert {key for key in metrics._attempts if key[0] == gone} == {
        (gone, 'plain_http', 'PATCH', 200), (gone, 'plain_http', 'PATCH', 503), (gone, 'plain_http', 'PATCH', None),
        (gone, 'soap', 'other', 200)}
    metrics.forget(gone)
    assert not [key for key in metrics._attempts if key[0] == gone]
    assert len([key for key in metrics._attempts if key[0] == kept]) == 4
    # Recorded again after the forget: into series that a scrape shows, not the removed ones.
    metrics.observe_attempt(gone, 'plain_http', 'PATCH', 200, 0.01)
    assert metrics.stats(gone)['codes'] == {'200': 1}


def test_stats_gives_calls_errors_and_percentiles_from_the_histogram() -> None:
    name = unique()
    for _ in range(90):
        metrics.observe_attempt(name, 'plain_http', 'GET', 200, 0.02)  # in (0.01, 0.025]
    for _ in range(10):
        metrics.observe_attempt(name, 'plain_http', 'GET', 502, 0.7)  # in (0.5, 1.0]
    metrics.count_error(name, 'BadResponse')
    figures = metrics.stats(name)
    assert figures['calls'] == 100 and figures['errors'] == 1 and figures['retries'] == 0
    assert figures['codes'] == {'200': 90, '502': 10}
    assert figures['circuit_open'] is None
    assert 0.01 < figures['p50'] <= 0.025
    assert 0.5 < figures['p95'] <= 1.0 and 0.5 < figures['p99'] <= 1.0 and figures['p95'] < figures['p99']
    assert figures['mean'] == pytest.approx((90 * 0.02 + 10 * 0.7) / 100)
    # The same figures from the text a scrape answers.
    parsed = metrics.summarise(text_string_to_metric_families(metrics.render()[0].decode()), name)
    assert parsed == figures


def test_stats_of_a_connection_never_called_has_no_percentiles() -> None:
    figures = metrics.stats(unique())
    assert figures['calls'] == 0 and figures['p50'] is None and figures['p99'] is None and figures['mean'] is None


def test_stats_tell_transports_of_the_same_name_apart() -> None:
    name = unique()
    metrics.observe_attempt(name, 'plain_http', 'GET', 200, 0.01)
    metrics.observe_attempt(name, 'soap', 'POST', 200, 0.01)
    metrics.observe_attempt(name, 'soap', 'POST', 500, 0.01)
    assert metrics.stats(name)['calls'] == 3
    assert metrics.stats(name, 'soap')['calls'] == 2 and metrics.stats(name, 'plain_http')['calls'] == 1


@pytest.mark.parametrize(('q', 'expected'), [(0.5, 1.0), (0.25, 0.5), (0.75, 1.5), (1.0, 2.0)])
def test_quantile_interpolates_within_the_bucket_it_falls_in(q: float, expected: float) -> None:
    # 2 observations up to 1 s, 2 more up to 2 s.
    assert metrics.quantile(q, [(1.0, 2.0), (2.0, 4.0), (float('inf'), 4.0)]) == pytest.approx(expected)


def test_quantile_in_the_open_bucket_is_the_highest_bound() -> None:
    assert metrics.quantile(0.99, [(1.0, 1.0), (float('inf'), 10.0)]) == 1.0
    assert metrics.quantile(0.5, [(1.0, 0.0), (float('inf'), 0.0)]) is None


_RECORDER = '''
import sys
from zato_outconn import metrics
name, calls, is_open = sys.argv[1], int(sys.argv[2]), sys.argv[3] == 'open'
for _ in range(calls):
    metrics.observe_attempt(name, 'plain_http', 'GET', 200, 0.02)
metrics.count_error(name, 'ConnectError')
metrics.count_retry(name)
metrics.set_circuit(name, is_open)
print(metrics.stats(name)['calls'])
'''

_SCRAPER = '''
import sys
from zato_outconn import metrics
if len(sys.argv) > 1:
    metrics.forget(sys.argv[1])
sys.stdout.write(metrics.render()[0].decode())
'''


def _python(code: str, *args: str, directory: Path) -> str:
    env = {**os.environ, metrics.MULTIPROCESS_ENV: str(directory)}
    done = subprocess.run([sys.executable, '-c', textwrap.dedent(code), *args], env=env, check=True,
                          capture_output=True, text=True)
    return done.stdout


def test_in_multiprocess_mode_a_scrape_adds_up_every_process(tmp_path: Path) -> None:
    name = unique()
    # Two processes record, each on its own; the second one sees both in its stats.
    assert _python(_RECORDER, name, '3', 'closed', directory=tmp_path).strip() == '3'
    assert _python(_RECORDER, name, '2', 'open', directory=tmp_path).strip() == '5'
    samples = scraped(_python(_SCRAPER, directory=tmp_path).encode())
    assert sum(of(samples, 'zato_outconn_requests_total', name).values()) == 5
    assert of(samples, 'zato_outconn_request_duration_seconds_count', name) == {
        (('connection', name), ('transport', 'plain_http')): 5.0}
    assert sum(of(samples, 'zato_outconn_errors_total', name).values()) == 2
    assert sum(of(samples, 'zato_outconn_retries_total', name).values()) == 2
    # Both processes have ended, and a dead one's gauge is left out once it is marked dead; until
    # then the highest of the processes' values is shown.
    assert of(samples, 'zato_outconn_circuit_open', name) == {(('connection', name),): 1.0}


def test_in_multiprocess_mode_a_dead_process_circuit_state_goes_with_it(tmp_path: Path) -> None:
    from prometheus_client import multiprocess

    name = unique()
    _python(_RECORDER, name, '1', 'open', directory=tmp_path)
    gauge_files = list(tmp_path.glob('gauge_livemax_*.db'))
    assert len(gauge_files) == 1
    pid = int(gauge_files[0].stem.rpartition('_')[2])
    multiprocess.mark_process_dead(pid, str(tmp_path))
    samples = scraped(_python(_SCRAPER, directory=tmp_path).encode())
    assert not of(samples, 'zato_outconn_circuit_open', name)
    assert sum(of(samples, 'zato_outconn_requests_total', name).values()) == 1  # counts are kept


def test_in_multiprocess_mode_a_forgotten_connection_is_left_out(tmp_path: Path) -> None:
    gone, kept = unique('gone'), unique('kept')
    _python(_RECORDER, gone, '1', 'closed', directory=tmp_path)
    _python(_RECORDER, kept, '1', 'closed', directory=tmp_path)
    text = _python(_SCRAPER, gone, directory=tmp_path)
    assert gone not in text and kept in text


_RECREATOR = '''
import sys
from zato_outconn import OutconnConfig, Runtime, metrics
url, name = sys.argv[1], sys.argv[2]
with Runtime(url, sync=False) as runtime:
    runtime.store.create_outconn(OutconnConfig(name=name, host='http://127.0.0.1:9'))
    runtime.store.delete_outconn('plain_http', name)
    assert name not in metrics.render()[0].decode()
    runtime.store.create_outconn(OutconnConfig(name=name, host='http://127.0.0.1:9'))
    sys.stdout.write(metrics.render()[0].decode())
'''


def test_in_multiprocess_mode_a_connection_made_again_is_shown_again(tmp_path: Path) -> None:
    """Deleted, then created again under the same name, a connection that only another process has
    called yet is in this process's scrape: every worker of a server answers a scrape alike."""
    name = unique()
    (tmp_path / 'metrics').mkdir()
    _python(_RECORDER, name, '2', 'closed', directory=tmp_path / 'metrics')
    url = upgraded(f'sqlite:///{tmp_path / "recreated.db"}')
    samples = scraped(_python(_RECREATOR, url, name, directory=tmp_path / 'metrics').encode())
    assert sum(of(samples, 'zato_outconn_requests_total', name).values()) == 2


def test_the_histogram_buckets_are_the_documented_ones() -> None:
    name = unique()
    metrics.observe_attempt(name, 'plain_http', 'GET', 200, 0.01)
    bounds: list[Any] = sorted(float(dict(labels)['le']) for labels in
                               of(scraped(), 'zato_outconn_request_duration_seconds_bucket', name))
    assert bounds == [*metrics.BUCKETS, float('inf')]


def test_the_registry_drops_the_metrics_of_a_connection_deleted_or_renamed_and_keeps_an_edited_ones(
        runtime: Runtime) -> None:
    deleted, renamed, edited = unique('deleted'), unique('renamed'), unique('edited')
    for name in (deleted, renamed, edited):
        runtime.store.create_outconn(OutconnConfig(name=name, host='http://127.0.0.1:9'))
        metrics.observe_attempt(name, 'plain_http', 'GET', 200, 0.01)
    runtime.store.delete_outconn('plain_http', deleted)
    runtime.store.edit_outconn('plain_http', renamed, {'name': f'{renamed} new'})
    runtime.store.edit_outconn('plain_http', edited, {'url_path': '/v2'})
    assert metrics.stats(deleted)['calls'] == 0 and metrics.stats(renamed)['calls'] == 0
    assert metrics.stats(edited)['calls'] == 1


def test_a_plain_http_connection_deleted_keeps_the_metrics_of_a_soap_one_of_the_same_name(runtime: Runtime) -> None:
    name = unique()
    for transport in ('plain_http', 'soap'):
        runtime.store.create_outconn(OutconnConfig(name=name, host='http://127.0.0.1:9', transport=transport))
        metrics.observe_attempt(name, transport, 'POST', 200, 0.01)
    runtime.store.delete_outconn('plain_http', name)
    assert metrics.stats(name, 'soap')['calls'] == 1
    runtime.store.delete_outconn('soap', name)
    assert metrics.stats(name)['calls'] == 0
