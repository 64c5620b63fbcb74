"""``zato-outconn export`` and ``import``: every template and definition, secrets left out."""

from __future__ import annotations

import sys

import click

from zato_outconn.cli.context import Context, fail, pass_context
from zato_outconn.exceptions import ImportRefused
from zato_outconn.store.transfer import ON_CONFLICT, ImportReport, dump, load


@click.command('export')
@click.option('--output', type=click.Path(dir_okay=False, writable=True), default=None,
              help='File to write (default: standard output).')
@click.option('--format', 'output_format', type=click.Choice(('json', 'yaml')), default='json', show_default=True,
              help='JSON or YAML.')
@pass_context
def export(state: Context, output: str | None, output_format: str) -> None:
    """Write every template and security definition, with every setting; secrets are left out."""
    document = state.store.export_document()
    text = dump(document, output_format)
    if output is None:
        click.echo(text, nl=False)
        return
    with open(output, 'w', encoding='utf-8') as target:
        target.write(text)
    click.echo(f'Exported {len(document["security"])} security definitions and {len(document["outconns"])} '
               f'connections to {output}', err=True)


@click.command('import')
@click.argument('file', type=click.Path(dir_okay=False, allow_dash=True))
@click.option('--dry-run', is_flag=True, help='Say what would change, and write nothing.')
@click.option('--on-conflict', type=click.Choice(ON_CONFLICT), default='fail', show_default=True,
              help='What to do with a name that exists: fail the import, skip the item, or overwrite it.')
@pass_context
def import_(state: Context, file: str, dry_run: bool, on_conflict: str) -> None:
    """Import FILE (JSON or YAML, as export writes it) in one transaction, or nothing at all."""
    with click.open_file(file, 'rb') as source:
        document = load(source.read())
    try:
        if sys.stderr.isatty() and not dry_run:
            with click.progressbar(length=_count(document), label='Importing', file=sys.stderr) as bar:
                report = state.store.import_document(document, on_conflict=on_conflict,
                                                     progress=lambda done, total: bar.update(done - bar.pos))
        else:
            report = state.store.import_document(document, on_conflict=on_conflict, dry_run=dry_run)
    except ImportRefused as error:
        _print(error.report)
        fail(f'import refused, nothing was written: {len(error.errors)} problem(s), the first: '
             f'{error.field}: {error.rule}')
    _print(report)


def _count(document: dict[str, object]) -> int:
    return sum(len(items) for key in ('security', 'outconns') if isinstance(items := document.get(key), list))


def _print(report: ImportReport) -> None:
    for item in report.items:
        click.echo(item.line())
    click.echo(report.summary())
