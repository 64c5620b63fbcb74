"""``zato-outconn serve`` and its metrics: the workers in prometheus-client's multi-process mode, in a
folder of the run's own that goes when the server stops."""

from __future__ import annotations

from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from zato_outconn import Store, metrics
from zato_outconn.admin.serving import METRICS_DIR_ENV

from tests.admin.test_serve import Served, clean_env, client, serving
from tests.support.servers import RecordingServer


def _environ_of(served: Served) -> dict[str, str]:
    raw = Path(f'/proc/{served.process.pid}/environ').read_bytes()
    return dict(item.split('=', 1) for item in raw.decode().split('\0') if '=' in item)


def _token(folder: Path, role: str) -> str:
    store = Store(f'sqlite:///{folder / "zato-outconn.db"}')
    try:
        return store.create_token(f'{role}-scraper', role)[1]
    finally:
        store.close()


def test_the_workers_metrics_are_served_from_a_folder_of_the_run(tmp_path: Path) -> None:
    env = clean_env()
    env.pop(METRICS_DIR_ENV, None)
    with serving(tmp_path, '--workers', '2', env=env) as served:
        directory = Path(_environ_of(served)[METRICS_DIR_ENV])
        assert directory.is_dir() and directory.name.startswith('zato-outconn-metrics-')
        session = client(headers={'Authorization': f'Bearer {_token(tmp_path, "viewer")}'})
        answer = session.get(f'{served.url}/metrics', timeout=10)
        assert answer.status_code == 200, answer.text
        assert answer.headers['Content-Type'].startswith('text/plain')
        names = {family.name for family in text_string_to_metric_families(answer.text)}
        # A multi-process scrape holds what the workers wrote, not one process's own collectors.
        assert not {name for name in names if name.startswith(('process_', 'python_'))}, names
        assert client().get(f'{served.url}/metrics', timeout=10).status_code == 401
        _pings_of_every_worker_are_counted(served, tmp_path)
    assert not directory.exists()


def _pings_of_every_worker_are_counted(served: Served, folder: Path) -> None:
    admin = client(headers={'Authorization': f'Bearer {_token(folder, "admin")}'})
    with RecordingServer() as remote:
        created = admin.post(f'{served.url}/api/v1/outconns', json={'name': 'CRM', 'host': remote.url}, timeout=10)
        assert created.status_code == 201, created.text
        # Each on a connection of its own: which worker takes it is the kernel's choice.
        for _ in range(6):
            assert client(headers=admin.headers).post(f'{served.url}/api/v1/outconns/{created.json()["id"]}/ping',
                                                      timeout=10).json()['ok']
        assert len(remote.recorder.requests) == 6
    # Whichever worker answers a scrape, it adds up the files of every worker that recorded.
    for _ in range(4):
        scraped = client(headers=admin.headers).get(f'{served.url}/metrics', timeout=10).text
        assert metrics.summarise(text_string_to_metric_families(scraped), 'CRM')['calls'] == 6


def test_a_metrics_folder_given_is_used_and_kept(tmp_path: Path) -> None:
    given = tmp_path / 'metrics'
    given.mkdir()
    env = clean_env(**{METRICS_DIR_ENV: str(given)})
    with serving(tmp_path, env=env) as served:
        assert _environ_of(served)[METRICS_DIR_ENV] == str(given)
        session = client(headers={'Authorization': f'Bearer {_token(tmp_path, "admin")}'})
        assert session.get(f'{served.url}/metrics', timeout=10).status_code == 200
    assert given.is_dir()
