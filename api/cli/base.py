"""Shared pieces of the `suspects` command line: the command group, its context, and the
one-line failure helper (exit code 2)."""

from __future__ import annotations

import getpass
import json
import sys
from pathlib import Path
from typing import Any

import click

from api.logs import configure_logging
from search.access.factory import open_access
from search.access.store import AuditEvent
from search.settings import Settings


class Context:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings


pass_ctx = click.make_pass_decorator(Context)


def fail(message: str) -> None:
    """One line on stderr, exit code 2."""
    click.echo(f"error: {message}", err=True)
    sys.exit(2)


@click.group(help="Record-linkage search over the PPRD IP-enforcement offices' suspect records.")
@click.option(
    "--store", type=click.Path(dir_okay=False, path_type=Path), help="SQLite store path [env SUSPECTS_STORE]."
)
@click.option("--es-url", help="Use Elasticsearch at this URL [env SUSPECTS_ES_URL].")
@click.pass_context
def cli(ctx: click.Context, store: Path | None, es_url: str | None) -> None:
    overrides: dict[str, Any] = {}
    if store is not None:
        overrides["store"] = store
    if es_url is not None:
        overrides["es_url"] = es_url
    try:
        settings = Settings(**overrides)
    except Exception as exc:
        fail(f"invalid settings: {str(exc).splitlines()[0]}")
    configure_logging(settings)
    ctx.obj = Context(settings)


def operator_client() -> str:
    """The audit's client for a command run on the server: the operating-system user."""
    return f"cli:{getpass.getuser()}"


def cli_audit(settings: Settings, action: str, terms: list[str], detail: dict[str, Any]) -> None:
    """Record a CLI action in the audit trail like an API call, under the operating-system user
    (``cli:<user>``): searches from a shell on the server are as accountable as over HTTP."""
    access = open_access(settings)
    try:
        access.record(AuditEvent(action, "cli", "-", "operator", operator_client(), terms, detail))
    finally:
        access.close()


def echo_json(obj: Any) -> None:
    click.echo(json.dumps(obj, ensure_ascii=False, indent=2))
