"""Standing watchlists: what an office watches, and the alerts and webhook deliveries it gets.

An entry is a standing query (the fields of ``/match``, plus the office's own reference and a
note); it is validated by the same core check as every query (:func:`query_profiles`). An alert
is one (entry, record version) the matcher judged ``match`` or ``possible``; its ``seq`` is the
cursor of ``GET /alerts``. A delivery is one alert on its way to one webhook.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from search.errors import InvalidInput
from search.matching.query import Query, query_profiles

MAX_NOTE = 2000
MAX_REFERENCE = 200
MAX_LIST_NAME = 200

ALERT_STATUSES = ("open", "acknowledged", "dismissed", "closed")
DELIVERY_STATUSES = ("pending", "delivered", "dead")


@dataclass(frozen=True, slots=True)
class Watchlist:
    list_id: str
    office: str
    name: str
    created_at: str
    entries: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True, slots=True)
class Entry:
    """One watched entity of one office's list."""

    entry_id: str
    list_id: str
    office: str
    name: str
    entity_type: str | None = None
    id_number: str | None = None
    birth_date: str | None = None
    gender: str | None = None
    reference: str | None = None  # the office's own reference (a case number)
    note: str | None = None
    version: int = 1
    created_at: str = ""
    updated_at: str = ""
    keyed: int = 0  # the QUERY_KEYS_VERSION its stored keys were computed with (0: before there was one)

    def query(self) -> Query:
        return Query(self.name, self.entity_type, self.entry_id, self.id_number, self.birth_date, self.gender)

    def to_dict(self) -> dict[str, Any]:
        """The entry as its owner sees it (API, CLI, web page)."""
        out = asdict(self)
        del out["keyed"]
        return out

    def stored(self) -> dict[str, Any]:
        """The entry as the watch store keeps it."""
        return asdict(self)


def check_entry(entry: Entry, max_name_length: int) -> None:
    """The one validation of an entry, whichever way it came (CLI, HTTP, bulk upload): the query
    check every /match goes through, and the lengths of the entry's own fields."""
    query_profiles(entry.query(), max_name_length)
    if entry.note is not None and len(entry.note) > MAX_NOTE:
        raise InvalidInput(f"note is {len(entry.note)} characters; at most {MAX_NOTE}", field="note")
    if entry.reference is not None and len(entry.reference) > MAX_REFERENCE:
        raise InvalidInput(
            f"reference is {len(entry.reference)} characters; at most {MAX_REFERENCE}", field="reference"
        )


def check_list_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise InvalidInput("name must not be empty", field="name")
    if len(name) > MAX_LIST_NAME:
        raise InvalidInput(f"name is {len(name)} characters; at most {MAX_LIST_NAME}", field="name")
    return name


@dataclass(slots=True)
class Alert:
    """A watched entry met a partner's record version; what the matcher said, and what the
    watching office did about it."""

    seq: int
    office: str  # the watching office
    list_id: str
    entry_id: str
    record_office: str
    record_id: str
    digest: str  # the record version
    verdict: str  # match | possible
    score: float
    status: str  # open | acknowledged | dismissed | closed
    created_at: str
    updated_at: str
    detail: dict[str, Any] = field(default_factory=dict)  # entry, record, explanation, trigger, reason

    def to_dict(self) -> dict[str, Any]:
        return {
            "alert_id": self.seq,
            "office": self.office,
            "list_id": self.list_id,
            "entry_id": self.entry_id,
            "record_office": self.record_office,
            "record_id": self.record_id,
            "verdict": self.verdict,
            "score": self.score,
            "status": self.status,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
            **self.detail,
        }


@dataclass(frozen=True, slots=True)
class Pair:
    """Where one (entry, record) stands: the verdict of its last screening, for which record
    version, and the version a person dismissed (silent until the record changes)."""

    entry_id: str
    doc: str  # office:record_id
    verdict: str
    digest: str
    alert_seq: int | None
    dismissed_digest: str | None
    weight: float = 0.0  # summed weight of the keys the record shares with the entry: its candidate rank
    # The scorer's own verdict before a demotion (demotion.basis), and the Chinese names a match by
    # reading or a possible stands for (demotion.pair_names): what decides a demotion without
    # scoring again. None for a pair stored before these were kept (its entry is then screened in full).
    raw: str | None = None
    names: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Webhook:
    hook_id: str
    office: str
    url: str
    secret: str
    created_at: str

    def public(self) -> dict[str, Any]:
        return {"hook_id": self.hook_id, "office": self.office, "url": self.url, "created_at": self.created_at}


@dataclass(frozen=True, slots=True)
class Delivery:
    delivery_id: int
    hook_id: str
    office: str
    alert_seq: int
    url: str
    payload: str
    status: str
    attempts: int
    next_at: float
    last_error: str | None
    created_at: str
    delivered_at: str | None

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        del out["payload"]
        return out
