"""The CLI's commands (attached to the group in :mod:`api.cli`)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from api.cli_base import Context, echo_json, fail, pass_ctx
from api.cli_base import cli as group
from indexer.loading import load_profile, profile_names
from indexer.readers import FileError
from indexer.records import OFFICES
from search.backends import open_store
from search.engine import Matcher, Query
from search.ingest import load_file


@group.command(help="Load office files (CSV, JSONL, XLSX) into the store; reloading is idempotent.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--office", type=click.Choice(list(OFFICES)), help="Office of every record (else from the profile or a column)."
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
    store = open_store(ctx.settings)
    reports = []
    failed: list[str] = []
    try:
        for path in files:
            try:
                file_prof = prof or _profile_for(path)
                report = _with_progress(store, path, office, file_prof, encoding, ctx.settings.workers)
            except FileError as exc:
                failed.append(f"{path}: {exc}")
                click.echo(f"error: {path}: {exc}", err=True)
                continue
            reports.append(report)
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
        import csv

        with rejections.open("w", newline="", encoding="utf-8-sig") as fh:
            w = csv.writer(fh)
            w.writerow(["file", "line", "field", "reason"])
            for rep in reports:
                for r in rep.rejected:
                    w.writerow([r.file, r.line, r.field or "", r.reason])
    if failed:
        sys.exit(2)


def _profile_for(path: Path) -> object | None:
    """A shipped profile whose name matches the file name (cn-gd.csv → cn-gd), else none."""
    stem = path.stem.lower()
    return load_profile(stem) if stem in profile_names() else None


def _with_progress(store: object, path: Path, office: str | None, prof: object, encoding: str | None, workers: int):  # type: ignore[no-untyped-def]
    from indexer.loading import Profile

    profile = prof if isinstance(prof, Profile) else None
    if not sys.stderr.isatty():
        return load_file(store, path, office, profile, encoding, workers)  # type: ignore[arg-type]
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    with Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), TextColumn("{task.completed:,} rows"),
        TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), transient=True,
    ) as bar:  # fmt: skip
        task = bar.add_task(path.name, total=None, rate="")

        def tick(rows: int) -> None:
            elapsed = bar.tasks[task].elapsed or 1e-9
            bar.update(task, completed=rows, rate=f"{rows / elapsed:,.0f} rows/s")

        return load_file(store, path, office, profile, encoding, workers, tick)  # type: ignore[arg-type]


@group.command(help="Elasticsearch: rebuild the index from these files and swap it in with no downtime.")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--office", type=click.Choice(list(OFFICES)), help="Office of every record (else from the profile or a column)."
)
@pass_ctx
def reindex(ctx: Context, files: tuple[Path, ...], office: str | None) -> None:
    if not ctx.settings.es_url:
        fail("reindex needs Elasticsearch (--es-url); with SQLite, load into a new --store file instead")
    from search.es_store import ElasticsearchStore

    store = open_store(ctx.settings)
    assert isinstance(store, ElasticsearchStore)
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        fail(f"no such file: {', '.join(missing)}")
    reports = []

    def fill(target: ElasticsearchStore) -> None:
        for path in files:
            reports.append(load_file(target, path, office, _profile_for(path), None, ctx.settings.workers))  # type: ignore[arg-type]

    try:
        name = store.reindex(fill)
    finally:
        store.close()
    for rep in reports:
        click.echo(f"{rep.file}: read {rep.read}, stored {rep.stored}, rejected {len(rep.rejected)}")
    click.echo(f"alias {store.alias} now points at {name}")


@group.command(help="Withdraw one record of an office.")
@click.argument("office", type=click.Choice(list(OFFICES)))
@click.argument("record_id")
@pass_ctx
def withdraw(ctx: Context, office: str, record_id: str) -> None:
    store = open_store(ctx.settings)
    try:
        if not store.withdraw(office, record_id):
            fail(f"no record {record_id!r} in {office}")
        click.echo(f"withdrawn {office}:{record_id}")
    finally:
        store.close()


@group.command(help="Records per office and entity type.")
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def stats(ctx: Context, as_json: bool) -> None:
    store = open_store(ctx.settings)
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
@click.option("--type", "entity_type", type=click.Choice(["person", "company"]), default="person")
@click.option("--id", "id_number", help="ID number, USCC, HKID or phone.")
@click.option("--dob", "birth_date", help="Birth date, YYYY-MM-DD.")
@click.option("--office", "offices", multiple=True, type=click.Choice(list(OFFICES)), help="Only these offices.")
@click.option("--limit", default=10, show_default=True, type=click.IntRange(1, 100))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def search(
    ctx: Context,
    name: str,
    entity_type: str,
    id_number: str | None,
    birth_date: str | None,
    offices: tuple[str, ...],
    limit: int,
    as_json: bool,
) -> None:
    store = open_store(ctx.settings)
    try:
        result = Matcher(store, ctx.settings.candidates).match(
            Query(name, entity_type, None, id_number, birth_date), list(offices) or None, limit
        )
    finally:
        store.close()
    if as_json:
        echo_json(result.to_dict())
        return
    if not result.seen:
        click.echo(f"{name}: not seen by any partner office ({result.candidates} candidates checked)")
        return
    held = ", ".join(f"{o} ({n})" for o, n in result.offices().items())
    click.echo(f"{name}: seen by {len(result.offices())} office(s): {held}")
    for m in result.matches:
        r = m.record
        click.echo(f"  {m.decision.score:.3f}  {r.office}  {r.record_id:<16} {r.name}")
        for f in m.decision.features:
            click.echo(f"           {f.detail}")


def _few_malloc_arenas() -> None:
    """Cap glibc's malloc arenas at 2 before any thread starts: with its default (8 per core) the
    request threads each grew an arena and the server's memory crept up under sustained load
    (bench/concurrency.py). A no-op where glibc is absent."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if name is None:
        return
    try:
        ctypes.CDLL(name).mallopt(-8, 2)  # M_ARENA_MAX
    except (OSError, AttributeError):
        return


@group.command(help="Serve the HTTP API and web page.")
@click.option("--host", help="Listen address [env SUSPECTS_HOST].")
@click.option("--port", type=int, help="Port [env SUSPECTS_PORT].")
@pass_ctx
def serve(ctx: Context, host: str | None, port: int | None) -> None:
    import uvicorn

    from api.app import create_app

    settings = ctx.settings
    _few_malloc_arenas()
    uvicorn.run(
        create_app(settings), host=host or settings.host, port=port or settings.port,
        log_level=settings.log_level.lower(), timeout_graceful_shutdown=30,
        # Our logging (plain or JSON) for uvicorn's loggers too; api.access replaces its access log.
        log_config=None, access_log=False,
    )  # fmt: skip


@group.command(help="Generate the 11 sample office files, load them, and serve the API.")
@click.option(
    "--folder", type=click.Path(file_okay=False, path_type=Path), default=Path("var/sample"), show_default=True
)
@click.option("--no-serve", is_flag=True, help="Load only; do not start the server.")
@pass_ctx
def demo(ctx: Context, folder: Path, no_serve: bool) -> None:
    from indexer.synth.offices import sample_records, write_office_files

    paths = write_office_files(folder, sample_records())
    store = open_store(ctx.settings)
    try:
        for office, path in paths.items():
            rep = load_file(store, path, office, load_profile(office.lower()), None, 1)
            click.echo(f"{office}: {path} read {rep.read}, stored {rep.stored}, rejected {len(rep.rejected)}")
        total = sum(sum(c.values()) for c in store.counts().values())
    finally:
        store.close()
    s = ctx.settings
    token, analyst = _demo_keys(ctx)
    click.echo(f"\n{total:,} records from 11 offices in {s.store}.")
    click.echo("Demo API keys (CN-GD; shown once, stored only hashed; revoked by the next demo):")
    click.echo(f"  investigator: {token}")
    click.echo(f"  analyst:      {analyst}")
    click.echo(f"Web page: http://{s.host}:{s.port}/ui (sign in with a key above)")
    click.echo("Try:")
    click.echo(
        f"  curl -s http://{s.host}:{s.port}/match -H 'Authorization: Bearer {token}' "
        """-H 'Content-Type: application/json' -d '{"queries": [{"query_id": "q1", "name": "CHAN Tai Man"}]}'"""
    )
    click.echo(f"  open http://{s.host}:{s.port}/docs")
    if not no_serve:
        ctx_obj = click.get_current_context()
        ctx_obj.invoke(serve)


def _demo_keys(ctx: Context) -> tuple[str, str]:
    """Fresh investigator and analyst keys for the demo; earlier demo keys are revoked (there is
    no unauthenticated mode, and no key outlives the demo that printed it)."""
    from search.access import AuditEvent, iso, new_key, now_utc
    from search.backends import open_access

    access = open_access(ctx.settings)
    try:
        for old in access.list_keys("CN-GD"):
            if old.label == "demo" and old.revoked_at is None:
                access.revoke_key(old.key_id, iso(now_utc()))
        tokens = []
        for role in ("investigator", "analyst"):
            key, token = new_key("CN-GD", role, "demo")
            access.add_key(key)
            access.record(AuditEvent("key.create", "cli", "-", "operator", "cli", [], key.public()))
            tokens.append(token)
    finally:
        access.close()
    return tokens[0], tokens[1]


@group.command(name="eval", help="Accuracy on the labeled benchmark and the real HK LegCo name list.")
@click.option("--seed", default=11, show_default=True)
@click.option("--per-category", default=200, show_default=True)
def evaluate(seed: int, per_category: int) -> None:
    from search.evaluate import benchmark, format_table, legco_pairs, summary
    from search.evaluate import evaluate as run

    tallies = benchmark(seed, per_category)
    s = summary(tallies)
    click.echo(f"precision {s['precision']:.4f} recall {s['recall']:.4f} F1 {s['f1']:.4f}")
    click.echo(format_table(tallies))
    legco = run(legco_pairs())
    s2 = summary(legco)
    click.echo(f"\nHK LegCo: precision {s2['precision']:.4f} recall {s2['recall']:.4f} F1 {s2['f1']:.4f}")
    click.echo(format_table(legco))
