"""`suspects keys …` and `suspects audit`: key management and the audit trail from the command line.

The command line is the operator's console (whoever can read the store file); its key changes and
audit reads are themselves audited, as the operator.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import timedelta

import click

from api.cli.base import Context, echo_json, fail, operator_client, pass_ctx
from api.cli.base import cli as group
from indexer.records import OFFICES
from search.access.factory import open_access
from search.access.keys import ROLES, new_key
from search.access.store import AuditEvent, AuditFilter
from search.clock import iso, now_utc
from search.screening.watchlist import safe_cell

OPERATOR = ("cli", "-", "operator")


@group.group(help="API keys: each bound to one office and one role.")
def keys() -> None:
    pass


@keys.command(name="create", help="Create a key; its token is printed once and never stored.")
@click.option("--office", required=True, type=click.Choice(list(OFFICES), case_sensitive=False))
@click.option("--role", required=True, type=click.Choice(list(ROLES)))
@click.option("--label", required=True, help="Who or what holds the key.")
@click.option("--expires-days", type=click.IntRange(1, 3650), help="Expire after this many days.")
@pass_ctx
def create(ctx: Context, office: str, role: str, label: str, expires_days: int | None) -> None:
    key, token = new_key(office, role, label, now_utc() + timedelta(days=expires_days) if expires_days else None)
    access = open_access(ctx.settings)
    try:
        access.add_key(key)
        # Under the key's office, where that office's auditor reads it (was office "-").
        access.record(AuditEvent("key.create", "cli", office, "operator", operator_client(), detail=key.public()))
    finally:
        access.close()
    click.echo(f"key {key.key_id} ({office}, {role}) created; the token is shown only now:", err=True)
    click.echo(token)


@keys.command(name="list", help="Keys (never their secrets).")
@click.option("--office", type=click.Choice(list(OFFICES), case_sensitive=False))
@click.option("--json", "as_json", is_flag=True)
@pass_ctx
def list_(ctx: Context, office: str | None, as_json: bool) -> None:
    access = open_access(ctx.settings)
    try:
        found = [k.public() for k in access.list_keys(office)]
    finally:
        access.close()
    if as_json:
        echo_json(found)
        return
    for k in found:
        state = "revoked" if k["revoked_at"] else (f"expires {k['expires_at']}" if k["expires_at"] else "active")
        click.echo(f"{k['key_id']}  {k['office']:6} {k['role']:13} {state:28} {k['label']}")


@keys.command(help="Revoke a key; it stops working on its next request.")
@click.argument("key_id")
@pass_ctx
def revoke(ctx: Context, key_id: str) -> None:
    access = open_access(ctx.settings)
    try:
        key = access.get_key(key_id)
        if key is None or not access.revoke_key(key_id, iso(now_utc())):
            fail(f"no active key {key_id!r}")
            return
        detail = {"key_id": key_id, "role": key.role}
        access.record(AuditEvent("key.revoke", "cli", key.office, "operator", operator_client(), detail=detail))
    finally:
        access.close()
    click.echo(f"revoked {key_id}")


@group.command(help="Read the audit trail: who searched for a name, what a key did.")
@click.option("--office", type=click.Choice(list(OFFICES), case_sensitive=False))
@click.option("--key", "key_id", help="Only this key's actions.")
@click.option("--since", help="ISO date or time, inclusive.")
@click.option("--until", help="ISO date or time, exclusive.")
@click.option("--q", help="Text in the query terms or details (a name, an ID number).")
@click.option("--limit", default=1000, show_default=True, type=click.IntRange(1, 1_000_000))
@click.option("--csv", "as_csv", is_flag=True, help="CSV on standard output.")
@pass_ctx
def audit(
    ctx: Context,
    office: str | None,
    key_id: str | None,
    since: str | None,
    until: str | None,
    q: str | None,
    limit: int,
    as_csv: bool,
) -> None:
    access = open_access(ctx.settings)
    try:
        events = access.events(AuditFilter(office, key_id, since, until, q, limit))
        access.record(
            AuditEvent("audit.read", *OPERATOR, client="cli", terms=[q] if q else [], detail={"returned": len(events)})
        )
    finally:
        access.close()
    if as_csv:
        w = csv.writer(sys.stdout)
        w.writerow(["id", "at", "action", "key_id", "office", "role", "client", "terms", "detail"])
        for e in events:
            # Searched names are attacker-chosen text: "=HYPERLINK(...)" must not be a formula.
            row = [e.id, e.at, e.action, e.key_id, e.office, e.role, e.client, " | ".join(e.terms), e.detail]
            w.writerow([safe_cell(v) for v in row])
        return
    for e in events:
        terms = f" [{' | '.join(e.terms)}]" if e.terms else ""
        detail = json.dumps(e.detail, ensure_ascii=False)
        detail = detail if len(detail) <= 160 else detail[:157] + "..."
        click.echo(f"{e.at}  {e.action:11} {e.key_id:12} {e.office:6} {e.role:13}{terms} {detail}")
