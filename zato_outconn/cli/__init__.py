'''The ``zato-outconn`` command line, one module per noun.'''

from zato_outconn.cli.app import cli, main

__all__ = ['cli', 'main']
