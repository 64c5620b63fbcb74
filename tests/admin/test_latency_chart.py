"""The latency chart of a connection's recent pings: SVG the CSP allows, failures marked, text escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import datetime, timedelta, timezone

from zato_outconn.admin.pages.latency_chart import FAIL_COLOUR, HEIGHT, OK_COLOUR, TOP, latency_chart, ping_summary
from zato_outconn.store.pings import PingRecord

SVG = '{http://www.w3.org/2000/svg}'
START = datetime(2026, 12, 2, 6, 0, tzinfo=timezone.utc)


def ping(index: int, elapsed: float, ok: bool = True, error: str | None = None) -> PingRecord:
    return PingRecord(index, 1, 'CRM', 'plain_http', START + timedelta(seconds=index), 'admin:alice', ok,
                      200 if ok else None, elapsed, 'HEAD', 'http://127.0.0.1/', error)


def bars(svg: ET.Element) -> list[ET.Element]:
    return [rect for rect in svg.iter(f'{SVG}rect') if rect.get('class') != 'fail-mark']


def test_bars_are_as_tall_as_the_pings_took_oldest_first_on_an_axis_up_to_the_slowest() -> None:
    # The store gives the newest first.
    pings = [ping(3, 0.004), ping(2, 0.1, ok=False, error='timed out'), ping(1, 0.05)]
    svg = ET.fromstring(str(latency_chart(pings)))
    heights = [float(rect.get('height', 0)) for rect in bars(svg)]
    assert heights[1] == max(heights) and heights[0] == heights[1] / 2 and heights[2] < heights[0]
    assert [rect.get('fill') for rect in bars(svg)] == [OK_COLOUR, FAIL_COLOUR, OK_COLOUR]
    (mark,) = [rect for rect in svg.iter(f'{SVG}rect') if rect.get('class') == 'fail-mark']
    assert float(mark.get('y', 99)) < TOP and mark.get('fill') == FAIL_COLOUR
    assert [text.text for text in svg.iter(f'{SVG}text') if 'max' in (text.get('class') or '')] == ['100 ms']
    assert '1 failed' in (svg.get('aria-label') or '')
    assert svg.get('viewBox') == f'0 0 480 {HEIGHT}'


def test_a_remote_end_that_is_down_shows_only_failure_marks() -> None:
    pings = [ping(index, 0.0, ok=False, error='cannot connect') for index in range(5)]
    svg = ET.fromstring(str(latency_chart(pings)))
    assert bars(svg) == []
    assert len([rect for rect in svg.iter(f'{SVG}rect') if rect.get('class') == 'fail-mark']) == 5


def test_no_inline_style_and_every_text_escaped() -> None:
    text = str(latency_chart([ping(1, 1.5, ok=False, error='<script>alert(1)</script>')]))
    assert 'style=' not in text and '<script' not in text and '&lt;script&gt;' in text
    assert re.search(r'>1\.50 s<', text)
    ET.fromstring(text)
    # A remote end's terminal escapes would make it no XML (nor text a page should show).
    ET.fromstring(str(latency_chart([ping(1, 0.2, ok=False, error='503 \x1b[31m\x07 down')])))


def test_no_pings_say_so() -> None:
    assert str(latency_chart([])) == '<p class="muted">No pings yet.</p>'


def test_the_summary_says_the_chart_in_words() -> None:
    pings = [ping(4, 0.3, ok=False, error='timed out'), ping(3, 0.004), ping(2, 0.02), ping(1, 1.25)]
    assert ping_summary(pings) == '4 pings, 1 failed; median 20 ms, slowest 1.25 s; the last failed.'
    assert ping_summary([ping(1, 0.0, ok=False)]) == '1 ping, 1 failed; none answered; the last failed.'
    assert ping_summary([]) == ''
