"""The watch features as every entry point uses them (CLI, HTTP, web page): one office's lists,
entries, alerts and webhooks, each check made here once.

An office sees only what it owns: another office's list, entry, alert or webhook is "not found",
never "forbidden", so an id says nothing about who watches whom.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

from indexer.keys import QUERY_KEYS_VERSION, query_keys
from search.clock import iso, now_utc
from search.errors import InvalidInput, NotFound, SuspectsError
from search.matching.query import query_profiles
from search.screening.watchlist import BadRow, read_watchlist
from search.storage.codec import key_hash
from search.storage.profiles import pack_profiles, profiles_current
from search.watching.model import (
    ALERT_STATUSES,
    Alert,
    Delivery,
    Entry,
    Watchlist,
    Webhook,
    check_entry,
    check_list_name,
)
from search.watching.screen import Watcher
from search.watching.store import AlertFilter, Posting, WatchStore

MAX_ENTRIES_PER_OFFICE = 100_000

logger = logging.getLogger(__name__)


def keyed_entry(entry: Entry, max_name_length: int) -> tuple[Entry, list[Posting], bytes]:
    """What ``put_entries`` stores: the entry marked with this version's query keys, its blocking keys
    (those /match computes for it) and the profiles it is searched as, packed."""
    plan = query_profiles(entry.query(), max_name_length)
    out: dict[tuple[int, str], int] = {}
    for p in plan.profiles:
        for key, w in query_keys(p).items():
            out[(key_hash(key), p.entity_type)] = round(w)
    postings = [(h, etype, w) for (h, etype), w in out.items()]
    kept = pack_profiles(entry.entry_id, entry.name, plan.profiles, plan.assumed)
    return replace(entry, keyed=QUERY_KEYS_VERSION), postings, kept


class Watching:
    """One backend's watch tables and the watcher that keeps them screened."""

    def __init__(self, store: WatchStore, watcher: Watcher) -> None:
        self.store = store
        self.watcher = watcher
        self.max_name_length = watcher.max_name_length

    # -- lists ---------------------------------------------------------------------------------

    def create_list(self, office: str, name: str) -> Watchlist:
        wl = Watchlist("wl_" + secrets.token_hex(6), office, check_list_name(name), iso(now_utc()))
        self.store.add_list(wl)
        return wl

    def get_list(self, office: str, list_id: str) -> Watchlist:
        wl = self.store.get_list(list_id)
        if wl is None or wl.office != office:
            raise NotFound(f"no watchlist {list_id!r} in office {office}", field="list_id")
        return wl

    def lists(self, office: str) -> list[Watchlist]:
        return self.store.lists(office)

    def delete_list(self, office: str, list_id: str) -> int:
        """Delete a list and its entries (their open alerts close); the number of entries."""
        self.get_list(office, list_id)
        entries = self.store.entries(list_id)
        for e in entries:
            self.watcher.entry_removed(e)
        self.store.delete_list(list_id)
        return len(entries)

    # -- entries -------------------------------------------------------------------------------

    def new_entry(
        self,
        office: str,
        list_id: str,
        name: str,
        entity_type: str | None = None,
        id_number: str | None = None,
        birth_date: str | None = None,
        gender: str | None = None,
        reference: str | None = None,
        note: str | None = None,
    ) -> Entry:
        """A checked entry, not yet stored (see :meth:`add`)."""
        now = iso(now_utc())
        entry = Entry("we_" + secrets.token_hex(8), list_id, office, name.strip(), entity_type, id_number or None,
                      birth_date or None, gender or None, reference or None, note or None, 1, now, now)  # fmt: skip
        check_entry(entry, self.max_name_length)
        return entry

    def add(self, office: str, list_id: str, entries: list[Entry]) -> list[int]:
        """Store entries and screen them at once (the owner starts from the current state)."""
        self.get_list(office, list_id)
        self.store.put_entries([keyed_entry(e, self.max_name_length) for e in entries])
        return self.watcher.screen_entries(entries, "entry")

    def upload(self, office: str, list_id: str, path: Path, max_rows: int) -> dict[str, object]:
        """Bulk entries from a watchlist file (the format `suspects check` reads): every row is
        stored as an entry or reported rejected with its line."""
        self.get_list(office, list_id)
        entries: list[Entry] = []
        rejected: list[dict[str, object]] = []
        read = 0
        for line, item in read_watchlist(path, self.max_name_length, max_rows):
            read += 1
            if isinstance(item, BadRow):
                rejected.append({"line": line, "reason": item.reason})
                continue
            try:
                entries.append(
                    self.new_entry(
                        office,
                        list_id,
                        item.name,
                        item.entity_type,
                        item.id_number,
                        item.birth_date,
                        item.gender,
                        item.query_id if item.query_id != str(line) else None,
                    )
                )
            except SuspectsError as exc:
                rejected.append({"line": line, "reason": exc.message, "field": exc.field})
        new = self.add(office, list_id, entries)
        return {"read": read, "stored": len(entries), "rejected": len(rejected), "rejections": rejected,
                "alerts": len(new)}  # fmt: skip

    def entry(self, office: str, entry_id: str) -> Entry:
        e = self.store.get_entry(entry_id)
        if e is None or e.office != office:
            raise NotFound(f"no watch entry {entry_id!r} in office {office}", field="entry_id")
        return e

    def entries(self, office: str, list_id: str) -> list[Entry]:
        self.get_list(office, list_id)
        return self.store.entries(list_id)

    def update(self, office: str, entry_id: str, changes: dict[str, str | None]) -> tuple[Entry, list[int]]:
        """Change an entry's fields and screen it again (alerts for what it now matches; the
        alerts of what it no longer matches close)."""
        old = self.entry(office, entry_id)
        allowed = {"name", "entity_type", "id_number", "birth_date", "gender", "reference", "note"}
        unknown = set(changes) - allowed
        if unknown:
            raise InvalidInput(f"unknown field(s): {', '.join(sorted(unknown))}", field=sorted(unknown)[0])
        fields = {k: (v.strip() or None) if isinstance(v, str) else None for k, v in changes.items()}
        if "name" in fields and not fields["name"]:
            raise InvalidInput("name must not be empty", field="name")

        def pick(key: str, current: str | None) -> str | None:
            return fields.get(key, current)

        new = replace(
            old,
            name=pick("name", old.name) or old.name,
            entity_type=pick("entity_type", old.entity_type),
            id_number=pick("id_number", old.id_number),
            birth_date=pick("birth_date", old.birth_date),
            gender=pick("gender", old.gender),
            reference=pick("reference", old.reference),
            note=pick("note", old.note),
            version=old.version + 1,
            updated_at=iso(now_utc()),
        )
        check_entry(new, self.max_name_length)
        self.store.put_entries([keyed_entry(new, self.max_name_length)])
        return new, self.watcher.screen_entries([new], "entry")

    def remove(self, office: str, entry_id: str) -> None:
        self.watcher.entry_removed(self.entry(office, entry_id))

    def rekey(self, entries: Iterable[Entry], kept: dict[str, bytes]) -> int:
        """Give entries whose stored keys or kept profiles (``kept``, by entry) an older version
        computed this version's; how many.

        A write finds the entries it concerns through their stored keys; /match for an entry looks
        up the keys this version computes. When a query's keys grow (3 Dec: the spelling
        neighbours, 2 Dec: the Wade-Giles fuzzy key), an entry saved before would not alert on a
        record reachable only through a new key while /match for it reports that record. Run at
        the start of each write (a few milliseconds an entry, once per entry after an upgrade)."""
        stale = [e for e in entries if e.keyed != QUERY_KEYS_VERSION or not profiles_current(kept.get(e.entry_id))]
        for start in range(0, len(stale), 500):
            self.store.put_entries([keyed_entry(e, self.max_name_length) for e in stale[start : start + 500]])
        if stale:
            logger.info("re-keyed %d standing entries for query keys version %d", len(stale), QUERY_KEYS_VERSION)
        return len(stale)

    def rescreen(self, entry_ids: Iterable[str] | None = None) -> list[int]:
        """Screen every entry (or these) forward again: what a crash between a write and its
        screening could have missed is caught up; otherwise it changes nothing."""
        ids = list(entry_ids) if entry_ids is not None else self.store.all_entry_ids()
        return self.watcher.screen_ids(ids, "rescreen")

    # -- alerts --------------------------------------------------------------------------------

    def alerts(self, office: str, after: int, limit: int, status: str | None, list_id: str | None) -> list[Alert]:
        if status is not None and status not in ALERT_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(ALERT_STATUSES)}", field="status")
        return self.store.alerts(AlertFilter(office, after, limit, status, list_id))

    def alert(self, office: str, seq: int) -> Alert:
        a = self.store.get_alert(seq)
        if a is None or a.office != office:
            raise NotFound(f"no alert {seq} in office {office}", field="alert_id")
        return a

    def decide(self, office: str, seq: int, status: str, reason: str | None) -> Alert:
        """Acknowledge or dismiss an alert (a dismissal needs a reason: it silences the pair)."""
        if status not in ("acknowledged", "dismissed"):
            raise InvalidInput("action must be acknowledge or dismiss", field="action")
        if status == "dismissed" and not (reason or "").strip():
            raise InvalidInput("a dismissal needs a reason", field="reason")
        if reason is not None and len(reason) > 1000:
            raise InvalidInput(f"reason is {len(reason)} characters; at most 1000", field="reason")
        alert = self.alert(office, seq)
        if alert.status == "closed":
            raise InvalidInput(f"alert {seq} is closed", field="alert_id")
        return self.store.set_status(seq, status, reason, iso(now_utc()))

    # -- webhooks ------------------------------------------------------------------------------

    def add_hook(self, office: str, url: str, secret: str | None) -> Webhook:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 2000:
            raise InvalidInput("url must be an http(s) URL of at most 2,000 characters", field="url")
        secret = secret or secrets.token_urlsafe(32)
        if len(secret) < 16 or len(secret) > 200:
            raise InvalidInput("secret must be 16 to 200 characters", field="secret")
        hook = Webhook("wh_" + secrets.token_hex(6), office, url, secret, iso(now_utc()))
        self.store.add_hook(hook)
        return hook

    def remove_hook(self, office: str, hook_id: str) -> None:
        if not any(h.hook_id == hook_id for h in self.store.hooks(office)):
            raise NotFound(f"no webhook {hook_id!r} in office {office}", field="hook_id")
        self.store.delete_hook(hook_id)

    def redeliver(self, office: str, delivery_id: int) -> Delivery:
        d = self.store.redeliver(delivery_id, office, now_utc().timestamp())
        if d is None:
            raise NotFound(f"no delivered or dead delivery {delivery_id} in office {office}", field="delivery_id")
        return d
