"""A ping's report stays one short line whatever the remote end writes in its status line: the API
answers it cut as the pages show it, and the library's own PingResult carries no 60 kB reason."""

from __future__ import annotations

import socket

from zato_outconn.conn.ping import MAX_REASON_LENGTH, PingResult, short_text

from tests.admin.conftest import API
from tests.support.raw_servers import RawServer, read_request

REASON = '<img src=x> \x1b[31m\x07' + 'A' * 60_000


def _answer_with_a_long_reason(sock: socket.socket, _number: int) -> None:
    read_request(sock)
    sock.sendall(f'HTTP/1.1 503 {REASON}\r\nContent-Length: 0\r\n\r\n'.encode('latin-1'))


def test_the_api_answers_a_short_report(sqlite_api: API) -> None:
    with RawServer(_answer_with_a_long_reason) as server:
        url = server.url
        outconn_id = sqlite_api.outconn('CRM', host=url)
        answer = sqlite_api.post(f'/api/v1/outconns/{outconn_id}/ping', role='operator').get_json()
    report = answer['report']
    assert answer['ok'] is False and answer['status_code'] == 503
    assert len(report) < 1000 and 'A' * 1000 not in report and '\x1b' not in report
    assert report.startswith(f'FAIL HEAD {url}/ -> 503 <img src=x>') and report.endswith(' UTC')


def test_a_ping_result_bounds_the_reason_it_was_given() -> None:
    result = PingResult(method='GET', url='http://127.0.0.1/', timestamp='2026-12-02T07:00:00', elapsed=0.5,
                        status_code=503, reason=REASON)
    assert result.reason == short_text(REASON, MAX_REASON_LENGTH) and len(result.reason) == MAX_REASON_LENGTH
    assert len(result) < MAX_REASON_LENGTH + 200
    assert result.failed('too slow').reason == result.reason


def test_an_ordinary_reason_is_kept_as_it_is() -> None:
    result = PingResult(method='GET', url='http://127.0.0.1/', timestamp='t', elapsed=0.5, status_code=200,
                        reason='OK')
    assert result.reason == 'OK' and str(result) == 'OK GET http://127.0.0.1/ -> 200 OK in 0.5000 s at t UTC'
