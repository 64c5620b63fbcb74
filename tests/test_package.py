"""The package's shape: what importing it loads, no import cycles, small modules."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import zato_outconn

PACKAGE = Path(zato_outconn.__file__).parent
HEAVY = ('flask', 'requests_ntlm', 'lxml', 'zeep')


def test_importing_the_package_loads_no_flask_ntlm_lxml_or_zeep() -> None:
    code = ('import sys, zato_outconn; '
            f'loaded = {set(HEAVY)!r} & {{name.split(".")[0] for name in sys.modules}}; '
            'assert not loaded, loaded')
    subprocess.run([sys.executable, '-c', code], check=True)


def test_a_soap_connection_loads_lxml_when_it_is_built() -> None:
    code = ('import sys; from zato_outconn import OutconnConfig; from zato_outconn.conn.headers import Component; '
            'from zato_outconn.registry import build_connection; from zato_outconn.store import Template; '
            'assert "lxml" not in sys.modules; '
            "build_connection(Template(OutconnConfig(name='s', host='http://x', transport='soap'), None), "
            'Component()); assert "lxml" in sys.modules and "zeep" not in sys.modules')
    subprocess.run([sys.executable, '-c', code], check=True)


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix('').parts
    return '.'.join(parts[:-1] if parts[-1] == '__init__' else parts)


def _top_level_imports(path: Path, modules: set[str]) -> set[str]:
    """The package's modules this one imports when it is itself imported (not in functions, not
    for type checking only)."""
    found: set[str] = set()
    name = _module_name(path)
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ''
            if node.level:
                anchor = name if path.name == '__init__.py' else name.rpartition('.')[0]
                for _ in range(node.level - 1):
                    anchor = anchor.rpartition('.')[0]
                base = f'{anchor}.{base}' if base else anchor
            found.add(base)
            found.update(f'{base}.{alias.name}' for alias in node.names)
    return {module for module in found if module in modules and module != name}


def test_no_module_level_import_cycle() -> None:
    paths = {_module_name(path): path for path in PACKAGE.rglob('*.py')}
    graph = {name: _top_level_imports(path, set(paths)) for name, path in paths.items()}
    visiting: list[str] = []
    done: set[str] = set()

    def visit(name: str) -> None:
        if name in done:
            return
        assert name not in visiting, f'import cycle: {" -> ".join(visiting[visiting.index(name):] + [name])}'
        visiting.append(name)
        for imported in sorted(graph[name]):
            visit(imported)
        visiting.pop()
        done.add(name)

    for name in sorted(graph):
        visit(name)


def test_no_module_is_over_500_lines() -> None:
    long = {str(path.relative_to(PACKAGE)): count for path in PACKAGE.rglob('*.py')
            if (count := len(path.read_text().splitlines())) > 500}
    assert not long
