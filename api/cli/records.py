"""The records commands: load, reindex, rekey, withdraw, stats and search (attached to the group in :mod:`api.cli.base`)."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from api.cli.base import Context, cli_audit, echo_json, fail, pass_ctx
from api.cli.base import cli as group
from indexer.intake.offices import OfficeProfile, load_profile, profile_names
from indexer.intake.readers import FileError
from indexer.keys import KEYS_VERSION
from indexer.records import OFFICES
from search.ingest import LoadReport, load_file
from search.matching.entities import describe
from search.matching.matcher import Matcher
from search.matching.query import Query
from search.matching.results import Result
from search.storage.base import Store, doc_id
from search.storage.factory import open_records, rekey_records
from search.watching.factory import open_watching, open_writable, watched


@group.command(help="Load office files (CSV, JSONL, XLSX) into the store; reloading is idempotent.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--office",
    type=click.Choice(list(OFFICES), case_sensitive=False),
    help="Office of every record (else from the profile or a column).",
)
@click.option(
    "--profile",
    "profile_name",
    help=f"Column mapping: a shipped profile ({', '.join(profile_names())}) or a .toml path.",
)
@click.option("--encoding", help="Force the file encoding (utf-8, gb18030, big5hkscs); detected otherwise.")
@click.option("--json", "as_json", is_flag=True, help="Print the load reports as JSON.")
@click.option(
    "--rejections", type=click.Path(dir_okay=False, path_type=Path), help="Write every rejected row to this CSV."
)
@pass_ctx
def load(
    ctx: Context,
    files: tuple[Path, ...],
    office: str | None,
    profile_name: str | None,
    encoding: str | None,
    as_json: bool,
    rejections: Path | None,
) -> None:
    prof = load_profile(profile_name) if profile_name else None
    store = open_writable(ctx.settings)  # every load re-screens the standing watchlists
    reports = []
    failed: list[str] = []
    try:
        for path in files:
            # Audited before the first row: a load killed part-way leaves this entry with no
            # "load" after it, so its committed rows are never unaccounted for (issue #18).
            cli_audit(ctx.settings, "load.start", [], {"file": str(path), "office": office})
            try:
                file_prof = prof or profile_for(path)
                report = _with_progress(store, path, office, file_prof, encoding, ctx.settings.workers)
            except FileError as exc:
                failed.append(f"{path}: {exc}")
                cli_audit(ctx.settings, "load.refused", [], {"file": str(path), "office": office, "error": str(exc)})
                click.echo(f"error: {path}: {exc}", err=True)
                continue
            reports.append(report)
            cli_audit(
                ctx.settings, "load", [],
                {"file": str(path), "office": office, "read": report.read, "stored": report.stored,
                 "rejected": len(report.rejected)},
            )  # fmt: skip
            if not as_json:
                click.echo(
                    f"{path}: read {report.read}, stored {report.stored} (new {report.inserted}, changed {report.updated}, "
                    f"unchanged {report.unchanged}), rejected {len(report.rejected)} in {report.seconds:.1f} s"
                )
                for r in report.rejected[:10]:
                    click.echo(f"  rejected {r}")
                if len(report.rejected) > 10:
                    click.echo(f"  … {len(report.rejected) - 10} more (use --rejections FILE)")
    finally:
        store.close()
    if as_json:
        echo_json([r.to_dict() for r in reports])
    if rejections is not None:
        with rejections.open("w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow(["file", "line", "field", "reason"])
            for rep in reports:
                for r in rep.rejected:
                    w.writerow([r.file, r.line, r.field or "", r.reason])
    if failed:
        sys.exit(2)


def profile_for(path: Path) -> OfficeProfile | None:
    """A shipped profile whose name matches the file name (cn-gd.csv → cn-gd), else none."""
    stem = path.stem.lower()
    return load_profile(stem) if stem in profile_names() else None


def _with_progress(
    store: Store, path: Path, office: str | None, profile: OfficeProfile | None, encoding: str | None, workers: int
) -> LoadReport:
    if not sys.stderr.isatty():
        return load_file(store, path, office, profile, encoding, workers)
    # rich is imported only for a terminal: it costs ~60 ms of start-up that scripts never need.
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(path.name, total=None, rate="")

        def tick(rows: int) -> None:
            elapsed = bar.tasks[task].elapsed or 1e-9
            bar.update(task, completed=rows, rate=f"{rows / elapsed:,.0f} rows/s")

        return load_file(store, path, office, profile, encoding, workers, tick)


@group.command(help="Elasticsearch: rebuild the index from these files and swap it in with no downtime.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--office",
    type=click.Choice(list(OFFICES), case_sensitive=False),
    help="Office of every record (else from the profile or a column).",
)
@pass_ctx
def reindex(ctx: Context, files: tuple[Path, ...], office: str | None) -> None:
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        fail(f"no such file: {', '.join(missing)}")
    store = open_writable(ctx.settings)  # with SQLite, its reindex refuses (exit 2) before reading a file
    reports = []

    def fill(target: Store) -> None:
        for path in files:
            reports.append(load_file(target, path, office, profile_for(path), None, ctx.settings.workers))

    try:
        name = store.reindex(fill)
    finally:
        store.close()
    for rep in reports:
        click.echo(f"{rep.file}: read {rep.read}, stored {rep.stored}, rejected {len(rep.rejected)}")
    click.echo(f"alias {ctx.settings.es_index_prefix}-records now points at {name}")


@group.command(
    help="Key every stored record again with this version's keys (after an upgrade), from the stored documents: "
    "SQLite in place, Elasticsearch into a new index swapped in with no downtime."
)
@pass_ctx
def rekey(ctx: Context) -> None:
    done = rekey_records(ctx.settings)
    # The new keys can put other records among an entry's candidates: its answer is screened again.
    records = open_records(ctx.settings)
    watching = open_watching(ctx.settings, records)
    try:
        new = watching.rescreen() if watching is not None else []
    finally:
        records.close()
        if watching is not None:
            watching.store.close()
    cli_audit(ctx.settings, "rekey", [], {"records": done.records, "from": done.was, "alerts": len(new)})
    click.echo(
        f"keyed {done.records:,} records again (keys version {done.was} → {KEYS_VERSION}) in {done.seconds:.1f} s; "
        f"standing entries screened again: {len(new)} new alert(s)"
    )


@group.command(help="Withdraw one record of an office.")
@click.argument("office", type=click.Choice(list(OFFICES), case_sensitive=False))
@click.argument("record_id")
@pass_ctx
def withdraw(ctx: Context, office: str, record_id: str) -> None:
    records = open_records(ctx.settings)
    store = watched(records, open_watching(ctx.settings, records))  # its open alerts close
    try:
        if not store.withdraw(office, record_id):
            fail(f"no record {record_id!r} in {office}")
        cli_audit(ctx.settings, "withdraw", [], {"record": doc_id(office, record_id)})
        click.echo(f"withdrawn {office}:{record_id}")
    finally:
        store.close()


@group.command(help="Records per office and entity type.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def stats(ctx: Context, as_json: bool) -> None:
    store = open_records(ctx.settings)
    try:
        counts = store.counts()
    finally:
        store.close()
    if as_json:
        echo_json(counts)
        return
    total = 0
    for office in OFFICES:
        c = counts.get(office, {})
        n = sum(c.values())
        total += n
        click.echo(
            f"{office:6} {OFFICES[office]:10} persons {c.get('person', 0):>8,}  companies {c.get('company', 0):>8,}"
        )
    click.echo(f"total  {total:,} records")


@group.command(help="Search one name: which partner offices hold a record of this entity, and why.")
@click.argument("name")
@click.option(
    "--type",
    "entity_type",
    type=click.Choice(["person", "company"]),
    default=None,
    help="Omitted: a name ending in a legal form is searched as a company, any other as both.",
)
@click.option("--id", "id_number", help="ID number, USCC, HKID or phone.")
@click.option("--dob", "birth_date", help="Birth date, YYYY-MM-DD.")
@click.option(
    "--office",
    "offices",
    multiple=True,
    type=click.Choice(list(OFFICES), case_sensitive=False),
    help="Only these offices.",
)
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def search(
    ctx: Context,
    name: str,
    entity_type: str | None,
    id_number: str | None,
    birth_date: str | None,
    offices: tuple[str, ...],
    limit: int,
    as_json: bool,
) -> None:
    store = open_records(ctx.settings)
    try:
        result = Matcher(store, ctx.settings.candidates, ctx.settings.max_name_length).match(
            Query(name, entity_type, None, id_number, birth_date), list(offices) or None, limit
        )
    finally:
        store.close()
    found = [[doc_id(m.record.office, m.record.record_id), m.decision.score] for m in result.matches]
    cli_audit(ctx.settings, "match", [t for t in (name, id_number) if t], {"offices": list(offices), "results": found})
    if as_json:
        echo_json(result.to_dict())
        return
    if result.assumed:
        click.echo(f"({result.assumed})")
    if not result.seen:
        click.echo(f"{name}: not seen by any partner office ({result.candidates} candidates checked)")
        _echo_possible(result)
        return
    held = ", ".join(f"{o} ({n})" for o, n in result.offices().items())
    click.echo(f"{name}: seen by {len(result.offices())} office(s): {held}")
    click.echo(describe(result.entities))
    grouped = {i for e in result.entities for i in e.members}
    sections = [(f"entity {n}", e.members, e.separated_by) for n, e in enumerate(result.entities, start=1)]
    rest = [i for i in range(len(result.matches)) if i not in grouped]
    for title, members, apart in [*sections, *([("not grouped", rest, [])] if rest else [])]:
        if len(result.entities) > 1 or rest:
            click.echo(f"[{title}]" + "".join(f" {why}" for why in apart))
        for i in members:
            m = result.matches[i]
            r = m.record
            facts = "  ".join(v for v in (r.birth_date, r.id_number, r.gender) if v)
            click.echo(f"  {m.decision.score:.3f}  {r.office}  {r.record_id:<16} {r.name}  {facts}".rstrip())
            for f in m.decision.features:
                click.echo(f"           {f.detail}")
    _echo_possible(result)


def _echo_possible(result: Result) -> None:
    """The records worth a human look but not confirmed, each with why it is only possible."""
    if not result.possible:
        return
    click.echo(f"worth a look, not confirmed ({len(result.possible)}):")
    for m in result.possible:
        r = m.record
        facts = "  ".join(v for v in (r.birth_date, r.id_number, r.gender) if v)
        click.echo(f"  {m.decision.score:.3f}  {r.office}  {r.record_id:<16} {r.name}  {facts}".rstrip())
        for f in m.decision.features:
            click.echo(f"           {f.detail}")
        click.echo(f"           only possible: {m.decision.doubt}")
