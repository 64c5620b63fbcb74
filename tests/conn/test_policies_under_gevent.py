"""Under gevent's patching the waits of the policies (before a retry, for a rate-limit token) block
only the greenlet that waits, not the others: they are time.sleep, patched."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from cryptography.fernet import Fernet

from zato_outconn.store.secret_box import KEYS_ENV

from tests.conftest import upgraded
from tests.support.scripted_server import Answer, ScriptedServer

# Run in a process of its own, patched before anything else is imported, as a gevent server is.
SCRIPT = '''
from gevent import monkey
monkey.patch_all()

import json, sys, time
import gevent
from zato_outconn import OutconnConfig, Runtime

db_url, host, settings = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
with Runtime(db_url, sync=False) as runtime:
    runtime.store.create_outconn(OutconnConfig(name='CRM', host=host, **settings))
    conn = runtime.outgoing.plain_http['CRM'].conn
    start = time.monotonic()
    calls = [gevent.spawn(conn.get, f'cid-{number}') for number in range(4)]
    gevent.joinall(calls, raise_error=True)
    print(json.dumps({'elapsed': time.monotonic() - start, 'statuses': [call.value.status_code for call in calls]}))
'''



def run(tmp_path: Path, server: ScriptedServer, **settings: object) -> dict[str, object]:
    db_url = upgraded(f'sqlite:///{tmp_path / "gevent.db"}')
    env = {**os.environ, KEYS_ENV: Fernet.generate_key().decode()}
    done = subprocess.run([sys.executable, '-c', SCRIPT, db_url, server.url, json.dumps(settings)], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.splitlines()[-1])
    return result


def test_greenlets_wait_for_their_retries_side_by_side(tmp_path: Path, server: ScriptedServer) -> None:
    server.answer(*[Answer(503, {'Retry-After': '1'})] * 4, otherwise=Answer(200))
    result = run(tmp_path, server, max_retries=1)
    assert result['statuses'] == [200] * 4
    # Four waits of a second, at once: a second or so in all, not four.
    assert 1.0 <= float(result['elapsed']) < 2.0  # type: ignore[arg-type]
    assert server.count == 8


def test_greenlets_wait_for_their_rate_limit_tokens_side_by_side(tmp_path: Path, server: ScriptedServer) -> None:
    # Two tokens at once, then one every half second: the fourth call goes at 1 s.
    result = run(tmp_path, server, rate_limit=2, total_timeout=10)
    assert result['statuses'] == [200] * 4
    assert 0.9 <= float(result['elapsed']) < 1.5  # type: ignore[arg-type]
