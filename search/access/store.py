"""The audit trail's event and the interface of the store that keeps keys and audit entries.

Both backends (SQLite beside the records, Elasticsearch indexes beside the records) implement
:class:`AccessStore`; the audit is append-only in both, and only :func:`purge_expired` deletes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from indexer.names.text import fold
from search.clock import iso, now_utc
from search.errors import InvalidInput


@dataclass(frozen=True, slots=True)
class ApiKey:
    """A stored key (without its secret)."""

    key_id: str
    office: str
    role: str
    label: str
    created_at: str
    expires_at: str | None = None
    revoked_at: str | None = None
    salt: str = ""
    hash: str = ""

    def public(self) -> dict[str, Any]:
        return {
            "key_id": self.key_id,
            "office": self.office,
            "role": self.role,
            "label": self.label,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
        }

    def active(self, now: datetime) -> bool:
        if self.revoked_at is not None:
            return False
        return self.expires_at is None or datetime.fromisoformat(self.expires_at) > now


@dataclass(frozen=True, slots=True)
class Session:
    """A web page sign-in. The browser holds a random token; the store holds only its SHA-256
    (``session_id``), so a copy of the store signs nobody in. Ending it (sign-out) is final."""

    session_id: str
    key_id: str
    created_at: str
    expires_at: str
    ended_at: str | None = None

    def active(self, now: datetime) -> bool:
        return self.ended_at is None and datetime.fromisoformat(self.expires_at) > now


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which audit entries to read: all conditions given must hold; newest first, at most ``limit``."""

    office: str | None = None
    key_id: str | None = None
    since: str | None = None  # ISO date or time, inclusive
    until: str | None = None  # ISO date or time, exclusive
    q: str | None = None  # text in the query terms or the details
    limit: int = 1000

    def __post_init__(self) -> None:
        # The one check of the audit filter, so the CLI (exit 2) and HTTP (400) say the same.
        for name in ("since", "until"):
            value = getattr(self, name)
            if value:
                try:
                    datetime.fromisoformat(value)
                except ValueError:
                    raise InvalidInput(f"{name} must be an ISO date or time, not {value!r}", field=name) from None

    @property
    def q_folded(self) -> str | None:
        """``q`` folded like the stored :func:`searchable` text: 陈大文 finds 陳大文."""
        return fold(self.q) if self.q else None


def searchable(terms: list[str]) -> str:
    """The query terms folded to one script and case, stored beside the audit entry so that a
    search for a name finds it in any script (issue #15)."""
    return " ".join(fold(t) for t in terms)


ALL_EVENTS = AuditFilter()


@dataclass(slots=True)
class AuditEvent:
    """One entry of the append-only audit trail."""

    action: str  # match, read, load, withdraw, key.create, key.revoke, audit.read, audit.purge
    key_id: str
    office: str
    role: str
    client: str = ""
    terms: list[str] = field(default_factory=list)  # the query terms (names, ids), searchable
    detail: dict[str, Any] = field(default_factory=dict)  # what was returned or changed
    at: str = ""  # UTC ISO timestamp, set when recorded
    id: int | None = None


class AccessStore(Protocol):
    """Keys and the audit trail, kept in the same backend as the records."""

    def add_key(self, key: ApiKey) -> None: ...

    def get_key(self, key_id: str) -> ApiKey | None: ...

    def list_keys(self, office: str | None = None) -> list[ApiKey]: ...

    def revoke_key(self, key_id: str, at: str) -> bool: ...

    def add_session(self, session: Session) -> None: ...

    def get_session(self, session_id: str) -> Session | None: ...

    def end_session(self, session_id: str, at: str) -> bool: ...

    def record(self, event: AuditEvent) -> None: ...

    def events(self, where: AuditFilter = ALL_EVENTS) -> list[AuditEvent]: ...

    def purge(self, before: str, by: AuditEvent) -> int: ...

    def close(self) -> None: ...


def purge_expired(access: AccessStore, retention_days: int) -> int:
    """Delete audit entries older than the retention period; the purge records itself."""
    before = iso(now_utc() - timedelta(days=retention_days))
    by = AuditEvent("audit.purge", "system", "-", "service", "", [], {"retention_days": retention_days})
    return access.purge(before, by)
