"""Time as the service writes it: UTC, ISO 8601 to the second (audit entries, keys, jobs)."""

from __future__ import annotations

from datetime import UTC, datetime


def now_utc() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def iso(dt: datetime) -> str:
    """A datetime as the UTC ISO timestamp used everywhere (``2026-12-01T12:00:00+00:00``)."""
    return dt.astimezone(UTC).isoformat(timespec="seconds")


def stamp(unix: float) -> str:
    """A unix time as the same UTC ISO timestamp."""
    return datetime.fromtimestamp(unix, UTC).isoformat(timespec="seconds")
