"""Screening jobs in the embedded SQLite file (the same file as the records).

Each state change is one ``BEGIN IMMEDIATE`` transaction, so two server processes on one file never
both claim a job, and a chunk's output and the job's progress are written together or not at all.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from typing import Any

from search.clock import stamp
from search.screening.jobs import ACTIVE, Job, JobList, Turn, count_output, decode_rows, encode_rows
from search.screening.watchlist import Output, Rows
from search.storage.sqlite_conn import SQLiteTables

_SCHEMA = """
CREATE TABLE IF NOT EXISTS screening_jobs (
    job_id TEXT PRIMARY KEY,
    office TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at TEXT NOT NULL,
    doc TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS screening_jobs_office ON screening_jobs (office, created_at);
CREATE INDEX IF NOT EXISTS screening_jobs_status ON screening_jobs (status, created_at);
CREATE TABLE IF NOT EXISTS screening_chunks (
    job_id TEXT NOT NULL,
    n INTEGER NOT NULL,
    input TEXT NOT NULL,
    output TEXT,
    PRIMARY KEY (job_id, n)
);
"""


def _job(doc: str) -> Job:
    return Job(**json.loads(doc))


class SQLiteJobs(SQLiteTables):
    """Screening jobs and their chunks in two tables."""

    SCHEMA = _SCHEMA

    def _tx(self) -> _Transaction:
        return _Transaction(self._conn())

    def _put(self, conn: sqlite3.Connection, job: Job) -> None:
        conn.execute(
            "INSERT OR REPLACE INTO screening_jobs VALUES (?,?,?,?,?)",
            (job.job_id, job.office, job.status, job.created_at, json.dumps(job.to_doc(), ensure_ascii=False)),
        )

    def _load(self, conn: sqlite3.Connection, job_id: str) -> Job | None:
        row = conn.execute("SELECT doc FROM screening_jobs WHERE job_id = ?", (job_id,)).fetchone()
        return _job(row[0]) if row else None

    def create(self, job: Job, chunks: Iterator[Rows]) -> None:
        with self._tx() as conn:
            for n, rows in enumerate(chunks):
                conn.execute(
                    "INSERT INTO screening_chunks VALUES (?,?,?,NULL)",
                    (job.job_id, n, json.dumps(encode_rows(rows), ensure_ascii=False)),
                )
            self._put(conn, job)

    def get(self, job_id: str) -> Job | None:
        return self._load(self._conn(), job_id)

    def list(self, office: str, limit: int = 100) -> list[Job]:
        rows = self._conn().execute(
            "SELECT doc FROM screening_jobs WHERE office = ? ORDER BY created_at DESC, job_id LIMIT ?", (office, limit)
        )
        return [_job(r[0]) for r in rows]

    def claim(self, owner: str, lease_seconds: float, now: float, turn: Turn | None = None) -> Job | None:
        with self._tx() as conn:
            marks = ",".join("?" * len(ACTIVE))
            rows = conn.execute(
                f"SELECT doc FROM screening_jobs WHERE status IN ({marks}) ORDER BY created_at, job_id", ACTIVE
            ).fetchall()
            free = [j for j in (_job(doc) for (doc,) in rows) if j.lease_owner in (None, owner) or j.lease_until <= now]
            if not free:
                return None  # every active job is held by another runner
            job = min(free, key=turn) if turn is not None else free[0]  # min keeps the oldest among equals
            job.status, job.lease_owner, job.lease_until = "running", owner, now + lease_seconds
            job.started_at = job.started_at or stamp(now)
            self._put(conn, job)
            return job

    def release(self, job_id: str, owner: str) -> None:
        with self._tx() as conn:
            job = self._load(conn, job_id)
            if job is not None and job.status == "running" and job.lease_owner == owner:
                job.status, job.lease_owner, job.lease_until = "queued", None, 0.0
                self._put(conn, job)

    def active(self) -> JobList:
        marks = ",".join("?" * len(ACTIVE))
        rows = self._conn().execute(
            f"SELECT doc FROM screening_jobs WHERE status IN ({marks}) ORDER BY created_at, job_id", ACTIVE
        )
        return [_job(doc) for (doc,) in rows]

    def renew(self, job: Job, owner: str, lease_seconds: float, now: float) -> bool:
        with self._tx() as conn:
            current = self._load(conn, job.job_id)
            if current is None or current.status != "running" or current.lease_owner != owner:
                return False
            current.lease_until = now + lease_seconds
            self._put(conn, current)
            return True

    def pending_chunk(self, job_id: str, start: int = 0) -> tuple[int, Rows] | None:
        row = (
            self._conn()
            .execute(
                "SELECT n, input FROM screening_chunks WHERE job_id = ? AND n >= ? AND output IS NULL ORDER BY n LIMIT 1",
                (job_id, start),
            )
            .fetchone()
        )
        return (int(row[0]), decode_rows(json.loads(row[1]))) if row else None

    def save_output(self, job: Job, chunk: int, output: Output, seconds: float) -> None:
        with self._tx() as conn:
            cur = conn.execute(
                "UPDATE screening_chunks SET output = ? WHERE job_id = ? AND n = ? AND output IS NULL",
                (json.dumps(output, ensure_ascii=False), job.job_id, chunk),
            )
            current = self._load(conn, job.job_id)
            if cur.rowcount == 0 or current is None:
                return  # already stored by an earlier run of the same chunk
            seen, bad = count_output(output)
            current.done += len(output)
            current.seen += seen
            current.rejected += bad
            current.seconds += seconds
            self._put(conn, current)
            job.done, job.seen, job.rejected, job.seconds = (
                current.done,
                current.seen,
                current.rejected,
                current.seconds,
            )

    def finish(self, job_id: str, status: str, at: str, error: str | None = None) -> None:
        with self._tx() as conn:
            job = self._load(conn, job_id)
            if job is None or job.status not in ACTIVE:
                return
            job.status, job.finished_at, job.error, job.lease_owner = status, at, error, None
            self._put(conn, job)

    def cancel(self, job_id: str, at: str) -> bool:
        with self._tx() as conn:
            job = self._load(conn, job_id)
            if job is None or job.status not in ACTIVE:
                return False
            job.status, job.finished_at, job.lease_owner = "cancelled", at, None
            self._put(conn, job)
            return True

    def outputs(self, job_id: str) -> Iterator[Output]:
        n = 0
        while True:  # one chunk at a time, so a large job's results are never all in memory
            row = (
                self._conn()
                .execute("SELECT output FROM screening_chunks WHERE job_id = ? AND n = ?", (job_id, n))
                .fetchone()
            )
            if row is None or row[0] is None:
                return
            yield [(int(line), name, result) for line, name, result in json.loads(row[0])]
            n += 1


class _Transaction:
    """``BEGIN IMMEDIATE`` … ``COMMIT`` (``ROLLBACK`` on error): one writer at a time across processes."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> sqlite3.Connection:
        self.conn.execute("BEGIN IMMEDIATE")
        return self.conn

    def __exit__(self, exc_type: Any, *_: Any) -> None:
        self.conn.execute("ROLLBACK" if exc_type else "COMMIT")
