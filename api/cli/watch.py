"""`suspects watch …`: standing watchlists, their alerts and webhooks from the operator's console.

Every command acts for one office (``--office``), as an API key of that office would, and is
audited under that office as the operator.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from api.cli.base import Context, echo_json, operator_client, pass_ctx
from api.cli.base import cli as group
from indexer.records import OFFICES
from search.access.factory import open_access
from search.access.store import AuditEvent
from search.storage.factory import open_store
from search.watching.factory import open_watching, require_watching
from search.watching.service import Watching
from search.watching.webhooks import Deliverer

OFFICE = click.option(
    "--office", required=True, type=click.Choice(list(OFFICES), case_sensitive=False), help="The watching office."
)


@contextmanager
def _watching(ctx: Context) -> Iterator[Watching]:
    records = open_store(ctx.settings)
    watching = open_watching(ctx.settings, records)
    try:
        yield require_watching(watching)
    finally:
        if watching is not None:
            watching.store.close()
        records.close()


def _audit(ctx: Context, office: str, action: str, terms: list[str], detail: dict[str, object]) -> None:
    access = open_access(ctx.settings)
    try:
        access.record(AuditEvent(action, "cli", office, "operator", operator_client(), terms, dict(detail)))
    finally:
        access.close()


@group.group(help="Standing watchlists: partners' new and changed records that match them raise alerts.")
def watch() -> None:
    pass


@watch.command(name="create", help="Create a watchlist; prints its id.")
@OFFICE
@click.argument("name")
@pass_ctx
def create(ctx: Context, office: str, name: str) -> None:
    with _watching(ctx) as w:
        wl = w.create_list(office, name)
    _audit(ctx, office, "watch.list.create", [], wl.to_dict())
    click.echo(wl.list_id)


@watch.command(name="lists", help="The office's watchlists.")
@OFFICE
@pass_ctx
def lists(ctx: Context, office: str) -> None:
    with _watching(ctx) as w:
        echo_json([wl.to_dict() for wl in w.lists(office)])


@watch.command(name="entries", help="The entries of one watchlist.")
@OFFICE
@click.argument("list_id")
@pass_ctx
def entries(ctx: Context, office: str, list_id: str) -> None:
    with _watching(ctx) as w:
        echo_json([e.to_dict() for e in w.entries(office, list_id)])


@watch.command(name="delete", help="Delete a watchlist and its entries (their open alerts close).")
@OFFICE
@click.argument("list_id")
@pass_ctx
def delete(ctx: Context, office: str, list_id: str) -> None:
    with _watching(ctx) as w:
        n = w.delete_list(office, list_id)
    _audit(ctx, office, "watch.list.delete", [], {"list_id": list_id, "entries": n})
    click.echo(f"deleted {list_id} and its {n} entries")


@watch.command(name="add", help="Add one entry; it is screened at once.")
@OFFICE
@click.argument("list_id")
@click.argument("name")
@click.option("--type", "entity_type", type=click.Choice(["person", "company"]))
@click.option("--id-number")
@click.option("--birth-date")
@click.option("--reference", help="The office's own reference (a case number).")
@click.option("--note")
@pass_ctx
def add(
    ctx: Context,
    office: str,
    list_id: str,
    name: str,
    entity_type: str | None,
    id_number: str | None,
    birth_date: str | None,
    reference: str | None,
    note: str | None,
) -> None:
    with _watching(ctx) as w:
        w.get_list(office, list_id)
        entry = w.new_entry(office, list_id, name, entity_type, id_number, birth_date, None, reference, note)
        new = w.add(office, list_id, [entry])
    _audit(ctx, office, "watch.entries.add", [name], {"list_id": list_id, "alerts": len(new)})
    click.echo(f"{entry.entry_id}: {len(new)} alert(s)")


@watch.command(name="upload", help="Add entries from a watchlist file (the format `suspects check` reads).")
@OFFICE
@click.argument("list_id")
@click.argument("file", type=click.Path(path_type=Path))
@pass_ctx
def upload(ctx: Context, office: str, list_id: str, file: Path) -> None:
    with _watching(ctx) as w:
        report = w.upload(office, list_id, file, ctx.settings.max_screening_rows)
    _audit(ctx, office, "watch.entries.upload", [], {"list_id": list_id, "file": str(file),
                                                      **{k: report[k] for k in ("read", "stored", "rejected", "alerts")}})  # fmt: skip
    echo_json(report)


@watch.command(name="remove", help="Remove one entry (its open alerts close).")
@OFFICE
@click.argument("entry_id")
@pass_ctx
def remove(ctx: Context, office: str, entry_id: str) -> None:
    with _watching(ctx) as w:
        w.remove(office, entry_id)
    _audit(ctx, office, "watch.entry.remove", [], {"entry_id": entry_id})
    click.echo(f"removed {entry_id}")


@watch.command(name="alerts", help="The office's alerts after a cursor, oldest first (JSON).")
@OFFICE
@click.option("--after", type=click.IntRange(min=0), default=0, help="The last alert id you have.")
@click.option("--limit", type=click.IntRange(1, 10_000), default=100)
@click.option("--status", type=click.Choice(["open", "acknowledged", "dismissed", "closed"]))
@pass_ctx
def alerts(ctx: Context, office: str, after: int, limit: int, status: str | None) -> None:
    with _watching(ctx) as w:
        found = w.alerts(office, after, limit, status, None)
    _audit(ctx, office, "alerts.read", [], {"after": after, "returned": len(found)})
    echo_json([a.to_dict() for a in found])


@watch.command(name="ack", help="Acknowledge an alert.")
@OFFICE
@click.argument("alert_id", type=int)
@click.option("--reason")
@pass_ctx
def ack(ctx: Context, office: str, alert_id: int, reason: str | None) -> None:
    with _watching(ctx) as w:
        w.decide(office, alert_id, "acknowledged", reason)
    _audit(ctx, office, "alert.acknowledge", [], {"alert_id": alert_id, "reason": reason})
    click.echo(f"alert {alert_id} acknowledged")


@watch.command(name="dismiss", help="Dismiss an alert; the pair stays silent until the record changes.")
@OFFICE
@click.argument("alert_id", type=int)
@click.option("--reason", required=True)
@pass_ctx
def dismiss(ctx: Context, office: str, alert_id: int, reason: str) -> None:
    with _watching(ctx) as w:
        w.decide(office, alert_id, "dismissed", reason)
    _audit(ctx, office, "alert.dismiss", [], {"alert_id": alert_id, "reason": reason})
    click.echo(f"alert {alert_id} dismissed")


@watch.command(name="rescreen", help="Screen every standing entry again (catches up after a crash; else no change).")
@pass_ctx
def rescreen(ctx: Context) -> None:
    with _watching(ctx) as w:
        new = w.rescreen()
    click.echo(f"{len(new)} new alert(s)")


@watch.command(name="deliver", help="Send the webhook deliveries due now, once (the server does this continuously).")
@pass_ctx
def deliver(ctx: Context) -> None:
    s = ctx.settings
    with _watching(ctx) as w:
        d = Deliverer(w.store, s.webhook_timeout, s.webhook_max_attempts, s.webhook_backoff_seconds,
                      s.webhook_backoff_cap_seconds, s.webhook_poll_seconds)  # fmt: skip
        n = d.run_once(limit=10_000)
    click.echo(f"{n} delivery(ies) tried")
