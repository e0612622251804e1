"""Serving and demonstrating: ``suspects serve``, ``suspects demo`` and ``suspects eval``."""

from __future__ import annotations

import ctypes
import ctypes.util
import importlib.util
import shutil
import socket
import sys
import tempfile
from pathlib import Path

import click

from api.cli.base import Context, fail, pass_ctx
from api.cli.base import cli as group
from indexer.intake.offices import load_profile
from indexer.keys import KEYS_VERSION
from search.access.buckets import BucketTable
from search.access.factory import open_access
from search.access.keys import new_key
from search.access.store import AuditEvent
from search.clock import iso, now_utc
from search.errors import NoRecords, StaleKeys
from search.ingest import load_file
from search.settings import Settings, share_metrics
from search.storage.factory import open_records, rekey_records
from search.watching.factory import open_writable


def _few_malloc_arenas() -> None:
    """Cap glibc's malloc arenas at 2 before any thread starts: with its default (8 per core) the
    request threads each grew an arena and the server's memory crept up under sustained load
    (bench/concurrency.py). A no-op where glibc is absent."""
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
    settings = ctx.settings
    open_records(settings).close()  # refuse a missing or empty store before binding the port
    shared: Path | None = None
    if settings.serve_processes > 1:
        # Before prometheus_client is first imported (by the web stack below): the processes'
        # counters go to files there, which /metrics sums. Imported already, it would not take it.
        if "prometheus_client" in sys.modules:
            fail("cannot share metrics between processes: prometheus_client was imported before serve")
        shared = Path(tempfile.mkdtemp(prefix="suspects-metrics-"))
        share_metrics(shared)
    # The web stack is imported only to serve: FastAPI and uvicorn cost 0.3 s that every other
    # command's start-up would pay (issue #15: commands start in < 0.5 s).
    import uvicorn

    from api.cli import prefork  # forks uvicorn servers: the same reason as above
    from api.http.app import create_app  # the same reason: FastAPI is the bulk of those 0.3 s

    _few_malloc_arenas()
    # One table for the rate limits of every process of this server (search/access/buckets.py).
    app = create_app(settings, buckets=BucketTable(), metrics_folder=shared)
    config = uvicorn.Config(
        app, host=host or settings.host, port=port or settings.port,
        log_level=settings.log_level.lower(), timeout_graceful_shutdown=30,
        # Our logging (plain or JSON) for uvicorn's loggers too; api.access replaces its access log.
        log_config=None, access_log=False,
        # X-Forwarded-For only from configured proxies: uvicorn's default trusts 127.0.0.1, so any
        # local client could forge the audit's client address (issue #18).
        proxy_headers=bool(settings.trusted_proxies), forwarded_allow_ips=settings.trusted_proxies or None,
        # uvloop's event loop (single /match p50 4.5 → 2.1 ms with the async dependencies,
        # bench/realistic.py); h11 named, not left to "auto": httptools answers an unknown method
        # with a plain-text 400 before the app can give its JSON 405, and measured no faster.
        loop="uvloop" if _has_uvloop() else "asyncio", http="h11",
    )  # fmt: skip
    if shared is not None:
        try:
            prefork.serve(config, settings.serve_processes)
        finally:
            shutil.rmtree(shared, ignore_errors=True)
        return
    server = uvicorn.Server(config)
    server.run()
    if not server.started:  # as uvicorn.run: the app's start-up failed
        raise SystemExit(prefork.STARTUP_FAILURE)


def _has_uvloop() -> bool:
    return importlib.util.find_spec("uvloop") is not None


@group.command(help="Generate the 11 sample office files, load them, and serve the API.")
@click.option(
    "--folder", type=click.Path(file_okay=False, path_type=Path), default=Path("var/sample"), show_default=True
)
@click.option("--no-serve", is_flag=True, help="Load only; do not start the server.")
@click.option("--host", help="Listen address [env SUSPECTS_HOST].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [env SUSPECTS_PORT, default 8000].")
@pass_ctx
def demo(ctx: Context, folder: Path, no_serve: bool, host: str | None, port: int | None) -> None:
    # The sample generator reads names through pypinyin (0.5 s to import): only the demo needs it.
    from indexer.synth.offices import sample_records, write_office_files

    s = ctx.settings = ctx.settings.model_copy(update={k: v for k, v in (("host", host), ("port", port)) if v})
    if not no_serve:
        _port_free(s.host, s.port)  # before loading: a taken port found after 10 s of loading is rude
    paths = write_office_files(folder, sample_records())
    _rekey_if_stale(s)
    store = open_writable(ctx.settings)
    try:
        for office, path in paths.items():
            rep = load_file(store, path, office, load_profile(office.lower()), None, 1)
            click.echo(f"{office}: {path} read {rep.read}, stored {rep.stored}, rejected {len(rep.rejected)}")
        total = sum(sum(c.values()) for c in store.counts().values())
    finally:
        store.close()
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
        ctx_obj.invoke(serve, host=s.host, port=s.port)


def _rekey_if_stale(settings: Settings) -> None:
    """The README's first command must work again after an upgrade: a store an earlier demo keyed
    with an older keys version is keyed again before the samples are loaded, or the server this
    command starts would refuse it ("run suspects rekey")."""
    try:
        open_records(settings).close()
    except NoRecords:
        return  # a new store: nothing to key again
    except StaleKeys:
        done = rekey_records(settings)
        click.echo(f"keyed {done.records:,} records again (keys version {done.was} → {KEYS_VERSION})")


def _port_free(host: str, port: int) -> None:
    """Exit 2 with one line if ``host:port`` cannot be listened on (another server holds it)."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn binds
        try:
            probe.bind((host, port))
        except OSError as exc:
            fail(f"cannot listen on {host}:{port} ({exc.strerror}): pass --port N or set SUSPECTS_PORT")


def _demo_keys(ctx: Context) -> tuple[str, str]:
    """Fresh investigator and analyst keys for the demo; earlier demo keys are revoked (there is
    no unauthenticated mode, and no key outlives the demo that printed it)."""
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
@click.option("--seed", default=11, show_default=True, type=int)
@click.option("--per-category", default=200, show_default=True, type=click.IntRange(1, 100_000))
def evaluate(seed: int, per_category: int) -> None:
    # The benchmark generator reads names through pypinyin (0.5 s to import): only eval needs it.
    from search.matching.evaluation import benchmark, format_table, legco_pairs, summary
    from search.matching.evaluation import evaluate as run_evaluation  # (the same module, renamed)

    tallies = benchmark(seed, per_category)
    s = summary(tallies)
    click.echo(f"precision {s['precision']:.4f} recall {s['recall']:.4f} F1 {s['f1']:.4f}")
    click.echo(f"possible expected: found {s['possible_found']:.4f}, confirmed {s['possible_confirmed']:.4f}")
    click.echo(format_table(tallies))
    legco = run_evaluation(legco_pairs())
    s2 = summary(legco)
    click.echo(f"\nHK LegCo: precision {s2['precision']:.4f} recall {s2['recall']:.4f} F1 {s2['f1']:.4f}")
    click.echo(format_table(legco))
