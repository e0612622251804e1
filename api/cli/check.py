"""`suspects check`: screen a watchlist file, streaming one result per row in input order.

Both cores by default (``--workers``); results are written as they come, in input order, so a
100,000-row watchlist never sits in memory. ``--resume`` continues an interrupted run: the output
file is cut back to its last complete query and the rows after it are checked.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import IO

import click

from api.cli.base import Context, cli_audit, fail, pass_ctx
from api.cli.base import cli as group
from indexer.intake.readers import FileError
from search.errors import SuspectsError
from search.screening.pool import run_screening
from search.screening.watchlist import csv_header, csv_rows, csv_text, jsonl_line, read_watchlist
from search.storage.factory import open_records

# What --out's suffix writes when --format is not given; any other suffix (.xlsx) is refused.
OUT_SUFFIXES = {"": "jsonl", ".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


def _resume_point(out: Path, fmt: str) -> int:
    """Cut ``out`` back to whole queries and return the last watchlist line it holds (0: none)."""
    raw = out.read_bytes()
    if fmt == "jsonl":
        keep = raw[: raw.rfind(b"\n") + 1]  # drop a half-written last line
        last = 0
        for line in keep.decode("utf-8").splitlines():
            last = int(json.loads(line)["line"])
        out.write_bytes(keep)
        return last
    # Cut at the last whole line before decoding: a run stopped mid-write can end inside a
    # character, and decoding first raised UnicodeDecodeError instead of resuming.
    text = raw[: raw.rfind(b"\n") + 1].decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    if len(rows) <= 1:
        out.write_bytes("\ufeff".encode() + csv_header().encode())
        return 0
    lines = [int(r[1]) for r in rows[1:] if len(r) > 1 and r[1].isdigit()]
    last = max(lines) if lines else 0
    # The last query may have been cut off between its rows: drop it and check it again.
    kept = [rows[0]] + [r for r in rows[1:] if len(r) > 1 and r[1].isdigit() and int(r[1]) < last]
    buf = io.StringIO()
    csv.writer(buf).writerows(kept)
    out.write_bytes("\ufeff".encode() + buf.getvalue().encode())
    return max([int(r[1]) for r in kept[1:]], default=0)


def _progress(total: int | None) -> tuple[Callable[[int], None], Callable[[], None]]:
    """A rich progress bar (rows, rows/s, ETA) on a terminal; nothing otherwise."""
    if not sys.stderr.isatty():
        return (lambda n: None), (lambda: None)
    # rich is imported only for a terminal: it costs ~60 ms of start-up that scripts never need.
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    bar = Progress(
        TextColumn("screening"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[rate]}"),
        TimeRemainingColumn(), transient=True,
    )  # fmt: skip
    task = bar.add_task("rows", total=total, rate="")
    bar.start()

    def tick(n: int) -> None:
        elapsed = bar.tasks[task].elapsed or 1e-9
        bar.update(task, completed=n, rate=f"{n / elapsed:,.0f} rows/s")

    return tick, bar.stop


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
@click.option("--workers", type=click.IntRange(1, 64), help="Processes matching rows [default: SUSPECTS_WORKERS].")
@click.option("--resume", is_flag=True, help="Continue an interrupted run into the same --out file.")
@pass_ctx
def check(
    ctx: Context, watchlist: Path, out: Path | None, fmt: str | None, limit: int, workers: int | None, resume: bool
) -> None:
    suffix = out.suffix.lower() if out is not None else ""
    if fmt is None and suffix not in OUT_SUFFIXES:
        fail(f"--out {out}: cannot write {suffix or 'a file without suffix'}; use .csv (opens in Excel) or .jsonl")
    fmt = fmt or OUT_SUFFIXES[suffix]
    if resume and out is None:
        fail("--resume needs --out")
    if not watchlist.is_file():
        fail(f"{watchlist}: no such file")
    # Everything that can refuse the run is checked before --out is touched: a failed check
    # must leave no half-written output (issue #15).
    open_records(ctx.settings).close()
    next(iter(read_watchlist(watchlist)), None)  # a missing name column raises here
    created = out is not None and not out.exists()
    after = _resume_point(out, fmt) if resume and out is not None and out.exists() else 0
    # UTF-8 with BOM for CSV so Excel shows Chinese correctly.
    encoding = "utf-8-sig" if fmt == "csv" else "utf-8"
    mode = "a" if after or (resume and out is not None and out.exists()) else "w"
    sink: IO[str] = (
        sys.stdout if out is None else out.open(mode, encoding="utf-8" if mode == "a" else encoding, newline="")
    )
    total = sum(1 for _ in read_watchlist(watchlist)) if sys.stderr.isatty() else None
    tick, stop = _progress(total)
    rows = seen = bad = 0
    try:
        if fmt == "csv" and mode == "w":
            sink.write(csv_header())
        results = run_screening(read_watchlist(watchlist), ctx.settings, limit, workers or ctx.settings.workers, after)
        for line, name, result in results:
            rows += 1
            bad += bool(result.get("error"))
            seen += bool(result["seen"])
            sink.write(csv_text(csv_rows(line, name, result)) if fmt == "csv" else jsonl_line(result))
            if rows % 200 == 0:
                sink.flush()
                tick(rows)
    except (SuspectsError, FileError):
        if out is not None and created:
            sink.close()
            out.unlink(missing_ok=True)
        raise
    finally:
        stop()
        if out is not None:
            sink.close()
    cli_audit(ctx.settings, "screening", [], {"watchlist": str(watchlist), "rows": rows, "seen": seen, "rejected": bad})
    resumed = f" (resumed after line {after})" if after else ""
    click.echo(f"checked {rows} rows{resumed}: {seen} seen, {rows - seen - bad} not seen, {bad} rejected", err=True)
