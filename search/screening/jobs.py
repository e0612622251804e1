"""Screening jobs: a watchlist submitted over HTTP, checked in the background, kept in the backend.

A job is stored as its header (:class:`Job`: owner, status, progress) plus its rows cut into chunks
of :data:`~search.screening.pool.CHUNK` rows. Each chunk is stored twice over its life: first its input
rows, then — once matched — its output, written together with the job's progress in one step. So a
server that dies mid-job loses at most the chunk in hand; the next server to start (or any other
server process) takes the job over once its lease runs out and continues with the first chunk that
has no output. Writing a chunk's output is idempotent, so a chunk matched twice is stored once.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from search.matching.query import Query
from search.screening.watchlist import BadRow, Output, Rows

ACTIVE = ("queued", "running")
# How a runner ranks claimable jobs (lower first): e.g. when it last served the job's office.
Turn = Callable[["Job"], float]


@dataclass(slots=True)
class Job:
    """The header of one screening job."""

    job_id: str
    office: str
    key_id: str
    filename: str
    total: int  # rows in the watchlist, rejected ones included
    chunks: int
    limit: int = 10
    status: str = "queued"
    done: int = 0  # rows with output
    seen: int = 0  # rows seen by at least one office
    rejected: int = 0  # rows that could not be checked (each reported in the results)
    seconds: float = 0.0  # matching time so far, for rows/s
    created_at: str = ""
    started_at: str | None = None
    finished_at: str | None = None
    error: str | None = None
    lease_owner: str | None = None
    lease_until: float = 0.0  # unix time; another runner may take the job over after it
    offices: list[str] = field(default_factory=list)  # filter: only these offices' records (empty: all)

    def public(self) -> dict[str, Any]:
        rate = self.done / self.seconds if self.seconds > 0 else None
        left = self.total - self.done
        return {
            "id": self.job_id,
            "status": self.status,
            "filename": self.filename,
            "office": self.office,
            "rows_total": self.total,
            "rows_done": self.done,
            "rows_seen": self.seen,
            "rows_rejected": self.rejected,
            "rows_per_second": round(rate, 1) if rate else None,
            "eta_seconds": round(left / rate, 1) if rate and self.status in ACTIVE else None,
            "limit": self.limit,
            "offices": self.offices,
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "error": self.error,
        }

    def to_doc(self) -> dict[str, Any]:
        return asdict(self)


# (An alias: inside the job stores, ``list`` names their own ``list`` method.)
JobList = list[Job]


def new_job_id() -> str:
    return secrets.token_hex(8)


def encode_rows(rows: Rows) -> list[list[Any]]:
    """Rows as JSON-ready lists: [line, "q", query fields] or [line, "bad", query_id, reason]."""
    out: list[list[Any]] = []
    for line, item in rows:
        if isinstance(item, BadRow):
            out.append([line, "bad", item.query_id, item.reason])
        else:
            out.append(
                [line, "q", item.name, item.entity_type, item.query_id, item.id_number, item.birth_date, item.gender]
            )
    return out


def decode_rows(data: list[list[Any]]) -> Rows:
    rows: Rows = []
    for line, kind, *rest in data:
        rows.append((int(line), BadRow(int(line), rest[0], rest[1]) if kind == "bad" else Query(*rest)))
    return rows


class JobStore(Protocol):
    """Screening jobs in the same backend as the records."""

    def create(self, job: Job, chunks: Iterator[Rows]) -> None:
        """Store the job's header and its input chunks (all or nothing)."""

    def get(self, job_id: str) -> Job | None: ...

    def list(self, office: str, limit: int = 100) -> list[Job]:
        """The office's jobs, newest first."""

    def claim(self, owner: str, lease_seconds: float, now: float, turn: Turn | None = None) -> Job | None:
        """Take an active job whose lease is free or expired (marking it running): the one ``turn``
        ranks first (the oldest first among equals; without ``turn``, the oldest)."""

    def release(self, job_id: str, owner: str) -> None:
        """Give a running job back to the queue (its lease freed), to be claimed again in turn."""

    def active(self) -> JobList:
        """Every queued or running job of every office, oldest first."""

    def renew(self, job: Job, owner: str, lease_seconds: float, now: float) -> bool:
        """Extend the lease; False if the job was cancelled or taken over meanwhile."""

    def pending_chunk(self, job_id: str, start: int = 0) -> tuple[int, Rows] | None:
        """The first chunk from ``start`` on without output, or None when all are done."""

    def save_output(self, job: Job, chunk: int, output: Output, seconds: float) -> None:
        """Store a chunk's output and add its counts to the job's progress, atomically."""

    def finish(self, job_id: str, status: str, at: str, error: str | None = None) -> None: ...

    def cancel(self, job_id: str, at: str) -> bool:
        """Mark an active job cancelled; False if it had already ended."""

    def outputs(self, job_id: str) -> Iterator[Output]:
        """Chunk outputs in input order (only the chunks done so far)."""

    def close(self) -> None: ...


def queue_places(active: list[Job]) -> dict[str, dict[str, int]]:
    """Where each active job stands: ``queue_position`` is its place in its own office's line (1:
    next for the office; a running job is 0), ``offices_waiting`` how many offices have active jobs
    (the runners serve them in turn, a slice of each office's first job at a time)."""
    offices = {j.office for j in active}
    places: dict[str, dict[str, int]] = {}
    line: dict[str, int] = {}
    for job in active:
        if job.status == "running":
            places[job.job_id] = {"queue_position": 0, "offices_waiting": len(offices)}
            continue
        line[job.office] = line.get(job.office, 0) + 1
        places[job.job_id] = {"queue_position": line[job.office], "offices_waiting": len(offices)}
    return places


def count_output(output: Output) -> tuple[int, int]:
    """(seen, rejected) rows of one chunk's output."""
    seen = sum(1 for _, _, r in output if r.get("seen"))
    bad = sum(1 for _, _, r in output if r.get("error"))
    return seen, bad
