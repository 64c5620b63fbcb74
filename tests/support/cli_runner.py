"""Runs the ``zato-outconn`` command as a user does: the installed console script in a subprocess."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zato_outconn.store.engine import DB_ENV
from zato_outconn.store.secret_box import KEYS_ENV

# The console script installed beside the interpreter running the tests (no shell shim in between),
# else the one on PATH.
_BESIDE = Path(sys.executable).parent / 'zato-outconn'
EXECUTABLE = str(_BESIDE) if _BESIDE.is_file() else shutil.which('zato-outconn')
LOG_LEVEL_ENV = 'ZATO_OUTCONN_LOG_LEVEL'
DEFAULT_DB = 'zato-outconn.db'


def basic_token(username: str, password: str) -> str:
    return base64.b64encode(f'{username}:{password}'.encode()).decode()


@dataclass
class Result:
    args: tuple[str, ...]
    code: int
    out: str
    err: str

    def __str__(self) -> str:
        command = ' '.join(self.args)
        return f'zato-outconn {command} -> exit {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}'

    @property
    def json(self) -> Any:
        return json.loads(self.out)


class CLI:
    """Runs ``zato-outconn`` in one working folder with one environment."""

    def __init__(self, cwd: Path, **env: str | None) -> None:
        self.cwd = cwd
        self.env = dict(os.environ)
        for name in (DB_ENV, KEYS_ENV, LOG_LEVEL_ENV):
            self.env.pop(name, None)
        self.set_env(**env)

    def set_env(self, **env: str | None) -> None:
        for name, value in env.items():
            if value is None:
                self.env.pop(name, None)
            else:
                self.env[name] = value

    def run(self, *args: str, input: str = '', cwd: Path | None = None) -> Result:
        # stdin is always a pipe (never the terminal pytest runs in), as in a script.
        completed = subprocess.run([EXECUTABLE, *args], cwd=cwd or self.cwd, env=self.env, input=input,
                                   capture_output=True, text=True, timeout=60, check=False)
        return Result(args, completed.returncode, completed.stdout, completed.stderr)

    def ok(self, *args: str, input: str = '') -> Result:
        result = self.run(*args, input=input)
        assert result.code == 0, str(result)
        return result

    def many(self, calls: Sequence[tuple[str, ...] | dict[str, Any]]) -> list[Result]:
        """Run independent commands side by side: a tuple of args, or dict(args=..., input=..., cwd=...)."""
        def one(call: tuple[str, ...] | dict[str, Any]) -> Result:
            if isinstance(call, dict):
                return self.run(*call['args'], input=call.get('input', ''), cwd=call.get('cwd'))
            return self.run(*call)

        with ThreadPoolExecutor(max_workers=4) as pool:
            return list(pool.map(one, calls))


def version_in(result: Result) -> int:
    """The version an edit reports: '... (version N)'."""
    assert result.out.rstrip().endswith(')') and '(version ' in result.out, str(result)
    return int(result.out.rstrip()[:-1].rsplit('(version ', 1)[1])


def assert_one_error_line(result: Result, *needles: str) -> str:
    """Non-zero exit, exactly one line on stderr, starting with 'error:' and saying each needle."""
    assert result.code != 0, str(result)
    lines = result.err.splitlines()
    assert len(lines) == 1, str(result)
    assert lines[0].startswith('error: '), str(result)
    for needle in needles:
        assert needle in lines[0], f'{needle!r} not in the error line\n{result}'
    return lines[0]
