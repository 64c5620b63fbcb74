"""The ping audit never fails a ping: a URL or error longer than its column is kept cut, with a marker."""

from __future__ import annotations

from zato_outconn import Store
from zato_outconn.store.pings import MAX_ERROR_LENGTH, MAX_URL_LENGTH, PingEntry


def _record(store: Store, url: str, error: str | None = None) -> str:
    entry = store.record_ping(1, 'CRM', 'http', ok=False, status_code=None, elapsed=0.1, method='GET', url=url,
                              error=error, by='admin:alice')
    assert store.recent_pings(1)[0].url == entry.url
    return entry.url


def test_a_url_longer_than_its_column_is_kept_cut_with_a_marker(store: Store) -> None:
    url = 'http://127.0.0.1:8080/' + 'é' * 5000 + '/end'
    kept = _record(store, url)
    assert PingEntry.__table__.c.url.type.length == MAX_URL_LENGTH  # type: ignore[attr-defined]
    assert len(kept) == MAX_URL_LENGTH and '…' in kept
    assert kept.startswith('http://127.0.0.1:8080/éé') and kept.endswith('/end')


def test_a_url_that_fits_is_kept_as_it_is(store: Store) -> None:
    url = 'http://127.0.0.1:8080/' + 'a' * (MAX_URL_LENGTH - 22)
    assert len(url) == MAX_URL_LENGTH
    assert _record(store, url) == url


def test_a_long_error_is_kept_cut(store: Store) -> None:
    store.record_ping(1, 'CRM', 'http', ok=False, status_code=None, elapsed=0.1, method='GET',
                      url='http://127.0.0.1/', error='x' * 10_000, by='admin:alice')
    error = store.recent_pings(1)[0].error
    assert error is not None and len(error) <= MAX_ERROR_LENGTH
