"""The `suspects` command line: load, withdraw, stats, search, check, serve, demo, eval.

Bad input ends with exit code 2 and one line on stderr, never a traceback.
"""

from __future__ import annotations

import sys

import click

from api.cli import check, keys, records, serve, watch  # noqa: F401  (importing registers the commands)
from api.cli.base import cli
from indexer.intake.readers import FileError
from search.errors import SuspectsError


def main() -> None:
    """Entry point: run the CLI, turning bad input into exit code 2 with one line."""
    try:
        cli(standalone_mode=False)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        sys.exit(2)
    except (SuspectsError, FileError) as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(130)
