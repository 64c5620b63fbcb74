"""Secrets come from stdin or a hidden prompt, never from the command line."""

from __future__ import annotations

import sys

import click

from zato_outconn.cli.context import fail


def read_secret(from_stdin: bool, what: str) -> str:
    """One line from stdin, or a hidden prompt on a terminal; never an argument."""
    if from_stdin:
        secret = sys.stdin.readline().rstrip('\r\n')
    elif sys.stdin.isatty():
        secret = click.prompt(what.capitalize(), hide_input=True, confirmation_prompt=True)
    else:
        fail(f'no {what} given; pipe it in and add --{what.replace(" ", "-")}-stdin')
    if not secret:
        fail(f'the {what} is empty; give a non-empty {what}')
    return secret
