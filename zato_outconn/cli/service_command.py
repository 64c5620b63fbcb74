"""``zato-outconn invoke module:Class``: run a service once."""

from __future__ import annotations

import json
import os
import sys

import click

from zato_outconn.cli.context import Context, fail, pass_context
from zato_outconn.exceptions import OutconnError
from zato_outconn.runtime import Runtime
from zato_outconn.runtime.service import load_service_class


@click.command('invoke')
@click.argument('service')
@click.option('--payload', default=None, help='Request payload as JSON, e.g. \'{"cust_id": 1}\'.')
@click.option('--cid', default=None, help='Correlation ID (default: a new one).')
@pass_context
def invoke(state: Context, service: str, payload: str | None, cid: str | None) -> None:
    """Run SERVICE (package.module:ClassName) once and print its response payload."""
    try:
        request = json.loads(payload) if payload is not None else None
    except json.JSONDecodeError as error:
        fail(f'--payload is not valid JSON: {error}')
    except RecursionError:
        fail('--payload is JSON nested too deeply to read; nest it less')
    # Services are found the way `python -m` finds modules: from the working folder first.
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        service_class = load_service_class(service)
    except (ImportError, ValueError) as error:
        fail(f'cannot load service {service!r}: {error}')
    except Exception as error:  # noqa: BLE001 - the module's own code failed on import
        fail(f'cannot load service {service!r}: {type(error).__name__}: {error}')
    # A command runs once: it follows nothing and is no node.
    with Runtime(store=state.store, sync=False) as runtime:
        try:
            result = runtime.invoke(service_class, payload=request, cid=cid)
        except OutconnError:
            raise
        except Exception as error:  # noqa: BLE001 - the service's own failure, reported in one line
            fail(f'service {service!r} failed: {type(error).__name__}: {error}')
    if isinstance(result, str | bytes):
        click.echo(result)
    elif result is not None:
        click.echo(json.dumps(result, indent=2, default=str))
