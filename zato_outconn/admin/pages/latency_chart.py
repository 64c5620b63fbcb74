"""A connection's recent pings as a small latency chart, drawn on the server as SVG.

Oldest ping on the left, newest on the right; each ping that answered is a bar as tall as it took,
on an axis up to the slowest one, and each that failed is a red mark along the top (its bar, if it
took any time, red too). So a glance tells a remote end that is slow (tall bars), flapping (red
marks between green bars) or down (red marks only).

The CSP forbids inline styles, so the drawing uses SVG presentation attributes (fill, stroke) and
classes only. Every text in it is escaped, and what a remote end wrote is cut short, without its
control characters.
"""

from __future__ import annotations

from collections.abc import Sequence

from markupsafe import Markup, escape

from zato_outconn.admin.pages.view import short_text
from zato_outconn.store.pings import PingRecord

WIDTH = 480
HEIGHT = 120
# Room for the axis labels on the left, the failure marks on top and the time labels below.
LEFT, TOP, BOTTOM, RIGHT = 52, 14, 18, 6
OK_COLOUR = '#17803d'
FAIL_COLOUR = '#b42318'
AXIS_COLOUR = '#98a2b3'
MAX_BAR = 14.0


def latency_chart(pings: Sequence[PingRecord]) -> Markup:
    """The chart of these pings (newest first, as the store gives them), or a short note with none."""
    if not pings:
        return Markup('<p class="muted">No pings yet.</p>')
    ordered = list(reversed(pings))
    slowest = max(ping.elapsed for ping in ordered) or 0.001
    plot_width = WIDTH - LEFT - RIGHT
    plot_height = HEIGHT - TOP - BOTTOM
    slot = plot_width / len(ordered)
    # A few pings get slim bars, not slabs; many get what room there is.
    bar = max(1.0, min(MAX_BAR, slot * 0.7))
    failed = sum(1 for ping in ordered if not ping.ok)
    title = f'Latency of the last {len(ordered)} pings; {failed} failed; slowest {_seconds(slowest)}'
    parts = [
        f'<svg class="latency" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" '
        f'width="{WIDTH}" height="{HEIGHT}" role="img" aria-label="{escape(title)}">',
        f'<title>{escape(title)}</title>',
        # The axis: a baseline, the left edge, and labels of the top (slowest) and 0.
        f'<line x1="{LEFT}" y1="{TOP + plot_height}" x2="{WIDTH - RIGHT}" y2="{TOP + plot_height}" '
        f'stroke="{AXIS_COLOUR}" stroke-width="1"/>',
        f'<line x1="{LEFT}" y1="{TOP}" x2="{LEFT}" y2="{TOP + plot_height}" stroke="{AXIS_COLOUR}" stroke-width="1"/>',
        f'<line x1="{LEFT - 3}" y1="{TOP}" x2="{WIDTH - RIGHT}" y2="{TOP}" stroke="{AXIS_COLOUR}" '
        'stroke-width="0.5" stroke-dasharray="2 3"/>',
        f'<text class="axis max" x="{LEFT - 5}" y="{TOP + 4}" text-anchor="end" font-size="10" '
        f'fill="#475467">{escape(_seconds(slowest))}</text>',
        f'<text class="axis" x="{LEFT - 5}" y="{TOP + plot_height}" text-anchor="end" font-size="10" '
        'fill="#475467">0 s</text>',
        f'<text class="axis" x="{LEFT}" y="{HEIGHT - 4}" font-size="10" fill="#475467">'
        f'{escape(_when(ordered[0]))}</text>',
        f'<text class="axis" x="{WIDTH - RIGHT}" y="{HEIGHT - 4}" text-anchor="end" font-size="10" '
        f'fill="#475467">{escape(_when(ordered[-1]))}</text>',
    ]
    for index, ping in enumerate(ordered):
        x = LEFT + index * slot + (slot - bar) / 2
        height = max(1.0, plot_height * ping.elapsed / slowest) if ping.elapsed > 0 else 0.0
        colour = OK_COLOUR if ping.ok else FAIL_COLOUR
        label = escape(f'{_when(ping)} {"OK" if ping.ok else "FAIL"} {_outcome(ping)} in {_seconds(ping.elapsed)}')
        parts.append(f'<g class="{"ok" if ping.ok else "failed"}"><title>{label}</title>')
        if height:
            parts.append(f'<rect x="{x:.1f}" y="{TOP + plot_height - height:.1f}" width="{bar:.1f}" '
                         f'height="{height:.1f}" fill="{colour}"/>')
        if not ping.ok:
            # The failure mark along the top, where it shows even when the ping took no time.
            parts.append(f'<rect class="fail-mark" x="{x:.1f}" y="2" width="{bar:.1f}" height="8" '
                         f'fill="{FAIL_COLOUR}"/>')
        parts.append('</g>')
    parts.append('</svg>')
    return Markup(''.join(parts))


def ping_summary(pings: Sequence[PingRecord]) -> str:
    """The chart in words (newest first, as the store gives them): how many failed, typical and worst times."""
    if not pings:
        return ''
    failed = sum(1 for ping in pings if not ping.ok)
    times = sorted(ping.elapsed for ping in pings if ping.ok)
    typical = f'median {_seconds(times[len(times) // 2])}, slowest {_seconds(times[-1])}' if times else 'none answered'
    last = 'answered' if pings[0].ok else 'failed'
    return f'{len(pings)} ping{"" if len(pings) == 1 else "s"}, {failed} failed; {typical}; the last {last}.'


def _seconds(value: float) -> str:
    if value >= 1:
        return f'{value:.2f} s'
    return f'{value * 1000:.0f} ms' if value >= 0.001 else f'{value * 1000:.2f} ms'


def _when(ping: PingRecord) -> str:
    return ping.pinged_at.strftime('%H:%M:%S')


def _outcome(ping: PingRecord) -> str:
    if ping.status_code is not None:
        return str(ping.status_code)
    return short_text(ping.error or 'failed', 120)
