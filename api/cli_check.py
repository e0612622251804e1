"""`suspects check`: screen a watchlist file, streaming one result per row in input order."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import IO, Any

import click

from api.cli_base import Context, pass_ctx
from api.cli_base import cli as group
from search.backends import open_store
from search.engine import Matcher
from search.errors import InvalidInput
from search.screening import BadRow, csv_header, csv_rows, csv_text, jsonl_line, read_watchlist


@group.command(help="Screen a watchlist (CSV/XLSX/JSONL with a name column): one result per row.")
@click.argument("watchlist", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Output file (default: standard output).")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["jsonl", "csv"]),
    default=None,
    help="Output format (default from --out's suffix, else jsonl).",
)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100), help="Most matches per row.")
@pass_ctx
def check(ctx: Context, watchlist: Path, out: Path | None, fmt: str | None, limit: int) -> None:
    fmt = fmt or ("csv" if out is not None and out.suffix.lower() == ".csv" else "jsonl")
    store = open_store(ctx.settings)
    matcher = Matcher(store, ctx.settings.candidates)
    # UTF-8 with BOM for CSV so Excel shows Chinese correctly.
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    sink: IO[str] = sys.stdout if out is None else out.open("w", encoding=encoding, newline="")
    rows = seen = bad = 0
    try:
        if fmt == "csv":
            sink.write(csv_header())
        for line, item in read_watchlist(watchlist):
            rows += 1
            result: dict[str, Any]
            if isinstance(item, BadRow):
                bad += 1
                result = _error(item.query_id, line, item.reason)
                name = ""
            else:
                name = item.name
                try:
                    result = matcher.match(item, None, limit).to_dict()
                    result["line"] = line
                except InvalidInput as exc:
                    bad += 1
                    result = _error(item.query_id, line, exc.message)
            seen += bool(result["seen"])
            if fmt == "csv":
                sink.write(csv_text(csv_rows(line, name, result)))
            else:
                sink.write(jsonl_line(result))
    finally:
        if out is not None:
            sink.close()
        store.close()
    click.echo(f"checked {rows} rows: {seen} seen, {rows - seen - bad} not seen, {bad} rejected", err=True)


def _error(query_id: str | None, line: int, reason: str) -> dict[str, Any]:
    """The output line of a watchlist row that could not be checked: reported, never dropped."""
    return {"query_id": query_id, "line": line, "seen": False, "matches": [], "error": f"line {line}: {reason}"}
