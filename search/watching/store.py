"""What the watch features need from a backend: lists, entries with their blocking keys, the
reverse key lookup, pair states, alerts and the webhook outbox.

State changes arrive as :class:`Change` lists that the backend applies in one transaction, so an
alert, the pair state that says it was sent and its outbox rows are written together or not at all
(a webhook is never owed for an alert that was not stored, nor an alert left without its delivery).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from search.watching.model import Alert, Delivery, Entry, Pair, Watchlist, Webhook

# An entry's blocking keys as stored: (key hash, entity type, weight).
Posting = tuple[int, str, int]
# An entry as put_entries stores it: the entry, its blocking keys, its profiles packed.
KeyedEntry = tuple[Entry, Sequence[Posting], bytes]
# (entry id, key hash, entity type, weight): one of an entry's blocking keys, as stored.
Keyed = tuple[str, int, str, int]
# (entry id, entity type, what it was computed for, weight, last): the key weight of an entry's K-th
# candidate of that type when it was last looked up, with the entry version, entry keys version,
# records keys version and K it holds for (``v3:k3:r6:K50``), and that candidate's document id
# ("" with fewer than K, or kept before it was); see search.watching.reverse.
Floor = tuple[str, str, str, float, str]
# An entry's K best candidates of one entity type as /match ranks them (key weight descending, then
# document id): (document id, weight) each. Kept with its floor, so that a load's end can tell what
# /match ranks after the load from the records the load wrote, without looking every entry up.
Top = tuple[tuple[str, float], ...]
# What set_floors keeps: a floor and the K best candidates it is the last of.
KeptFloor = tuple[str, str, str, float, Top]


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Every standing entry and its keys, as the store held them when a load began (the reverse
    lookup's table: search.watching.reverse)."""

    entries: tuple[Entry, ...]
    keys: tuple[Keyed, ...]
    floors: tuple[Floor, ...] = ()
    kept: dict[str, bytes] = field(default_factory=dict)  # entry → its profiles, packed (put_entries)

    def versions(self) -> dict[str, int]:
        return {e.entry_id: e.version for e in self.entries}


@dataclass(frozen=True, slots=True)
class NewAlert:
    """Store an alert, point the pair at it (clearing a dismissal), close the alert it supersedes,
    and queue it for the office's webhooks."""

    alert: Alert
    supersedes: int | None
    weight: float  # the record's key weight for the entry (see Pair.weight)
    raw: str  # see Pair.raw and Pair.names
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class UpdatePair:
    """The pair's verdict or record version changed without a new alert."""

    entry_id: str
    doc: str
    verdict: str
    digest: str
    weight: float
    raw: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ClosePair:
    """The record no longer matches (or was withdrawn, or the entry deleted): close its alert."""

    entry_id: str
    doc: str
    alert_seq: int | None
    reason: str


Change = NewAlert | UpdatePair | ClosePair


@dataclass(frozen=True, slots=True)
class AlertFilter:
    office: str
    after: int = 0
    limit: int = 100
    status: str | None = None
    list_id: str | None = None


class WatchStore(Protocol):
    """The watch tables of one backend."""

    def add_list(self, wl: Watchlist) -> None: ...
    def get_list(self, list_id: str) -> Watchlist | None: ...
    def lists(self, office: str) -> list[Watchlist]: ...
    def delete_list(self, list_id: str) -> None: ...

    def put_entries(self, entries: Sequence[KeyedEntry]) -> None:
        """Store entries, each with its blocking keys and its profiles packed (search.storage.profiles),
        in one go: a watchlist's upload, a re-key after an upgrade."""
        ...

    def get_entry(self, entry_id: str) -> Entry | None: ...
    def entries(self, list_id: str) -> list[Entry]: ...
    def entries_by_id(self, entry_ids: Sequence[str]) -> dict[str, Entry]: ...
    def all_entry_ids(self) -> list[str]: ...
    def delete_entry(self, entry_id: str) -> None: ...

    def snapshot(self) -> Snapshot:
        """Every entry and its keys, read in one go (a load's reverse lookup works from it)."""
        ...

    def entry_versions(self) -> dict[str, int]:
        """Every entry's version (what changed since a snapshot)."""
        ...

    def set_floors(self, floors: Sequence[KeptFloor]) -> None:
        """Keep these entries' floors and K best candidates (one per entry and entity type, replacing
        the one before; the last of several for one wins)."""
        ...

    def tops(self, entry_ids: Sequence[str]) -> dict[tuple[str, str], tuple[str, Top]]:
        """The kept K best candidates of these entries, by (entry, entity type): with their tag."""
        ...

    def pairs_of_docs(self, docs: Sequence[str]) -> list[Pair]: ...
    def pairs_of_entries(self, entry_ids: Sequence[str]) -> dict[str, list[Pair]]:
        """Each entry's pairs, by entry (one with none is absent)."""
        ...

    def lightest_pairs(self, entry_ids: Sequence[str]) -> dict[str, float]:
        """Per entry with pairs, the smallest key weight among its paired records."""
        ...

    def apply(self, changes: Sequence[Change], now: str) -> list[int]:
        """Apply state changes in one transaction; the new alerts' sequence numbers."""
        ...

    def alerts(self, f: AlertFilter) -> list[Alert]: ...
    def get_alert(self, seq: int) -> Alert | None: ...
    def set_status(self, seq: int, status: str, reason: str | None, now: str) -> Alert: ...
    def unread(self, office: str) -> int: ...

    def add_hook(self, hook: Webhook) -> None: ...
    def hooks(self, office: str) -> list[Webhook]: ...
    def secret_of(self, hook_id: str) -> str | None: ...
    def delete_hook(self, hook_id: str) -> bool: ...
    def claim(self, now: float, lease: float, limit: int) -> list[Delivery]: ...
    def delivered(self, delivery_id: int, now_iso: str) -> None: ...
    def failed(self, delivery_id: int, error: str, next_at: float | None) -> None: ...
    def deliveries(self, office: str, status: str | None, limit: int) -> list[Delivery]: ...
    def redeliver(self, delivery_id: int, office: str, now: float) -> Delivery | None: ...
    def next_due(self) -> float | None: ...

    def close(self) -> None: ...


def last_of(weight: float, top: Top) -> str:
    """The document id of a floor's K-th candidate: the last of its kept K best (``top``, at most K),
    when the floor is that candidate's weight (0 with fewer than K candidates: no last)."""
    return top[-1][0] if weight > 0 and top and top[-1][1] == weight else ""


def top_text(top: Top) -> str:
    """A kept top as both backends store it (JSON text)."""
    return json.dumps(top, ensure_ascii=False, separators=(",", ":"))


def top_of(text: str) -> Top:
    return tuple((str(d), float(w)) for d, w in json.loads(text))


def payload_of(alert: Alert) -> dict[str, Any]:
    """The webhook body for one alert: the alert as ``GET /alerts`` shows it, as an event."""
    return {"event": "alert", "idempotency_key": f"alert-{alert.seq}", "alert": alert.to_dict()}
