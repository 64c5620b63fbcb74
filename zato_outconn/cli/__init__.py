"""The ``zato-outconn`` command line, one module per noun."""

from zato_outconn.cli.commands import main

__all__ = ['main']
