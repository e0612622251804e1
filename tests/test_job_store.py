"""One contract for screening-job storage, run on both backends (SQLite, and a real Elasticsearch
cluster): leases, takeover, chunk outputs, progress, cancel."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from search.matching.query import Query
from search.screening.factory import open_jobs
from search.screening.jobs import Job, JobStore
from search.screening.pool import chunks
from search.screening.watchlist import BadRow, Rows
from tests.backends import Backend


def _rows(n: int) -> Rows:
    return [(i + 2, BadRow(i + 2, str(i), "name is empty") if i % 50 == 0 else Query(f"人{i}")) for i in range(n)]


def _output(rows: Rows) -> list[tuple[int, str, dict[str, Any]]]:
    return [
        (
            line,
            getattr(q, "name", ""),
            {"query_id": str(line), "seen": line % 3 == 0, "error": getattr(q, "reason", None), "line": line},
        )
        for line, q in rows
    ]


def exercise(jobs: JobStore) -> None:
    job = Job(uuid.uuid4().hex[:16], "CN-GD", "k1", "w.csv", 450, 3, created_at="2026-11-25T00:00:00+00:00")
    jobs.create(job, chunks(iter(_rows(450))))
    stored = jobs.get(job.job_id)
    assert stored is not None and (stored.status, stored.total, stored.chunks) == ("queued", 450, 3)
    assert [j.job_id for j in jobs.list("CN-GD")].count(job.job_id) == 1
    assert all(j.job_id != job.job_id for j in jobs.list("CN-HK"))

    a = jobs.claim("runner-a", 30, 1000.0)
    assert a is not None and a.job_id == job.job_id and a.status == "running" and a.started_at
    assert jobs.claim("runner-b", 30, 1001.0) is None  # the lease is held
    pending = jobs.pending_chunk(job.job_id)
    assert pending is not None and pending[0] == 0 and len(pending[1]) == 200
    assert isinstance(pending[1][0][1], BadRow) and pending[1][1][1] == Query("人1")
    jobs.save_output(a, 0, _output(pending[1]), 2.0)
    jobs.save_output(a, 0, _output(pending[1]), 2.0)  # a chunk stored twice counts once
    nxt = jobs.pending_chunk(job.job_id, 1)
    assert nxt is not None and nxt[0] == 1

    # Runner A dies; once its lease has run out, B takes over and A can no longer renew.
    b = jobs.claim("runner-b", 30, 1031.0)
    assert b is not None and b.job_id == job.job_id
    assert not jobs.renew(a, "runner-a", 30, 1032.0)
    assert jobs.renew(b, "runner-b", 30, 1032.0)
    again = jobs.pending_chunk(job.job_id)
    assert again is not None and again[0] == 1  # continues at the first chunk without output
    jobs.save_output(b, 1, _output(again[1]), 1.0)

    progress = jobs.get(job.job_id)
    assert progress is not None and (progress.done, progress.rejected) == (400, 8)
    assert progress.seen == sum(1 for line, _ in _rows(400) if line % 3 == 0)
    assert progress.seconds == pytest.approx(3.0)

    assert jobs.cancel(job.job_id, "2026-11-25T00:01:00+00:00")
    assert not jobs.cancel(job.job_id, "2026-11-25T00:02:00+00:00")  # already ended
    assert not jobs.renew(b, "runner-b", 30, 1033.0)
    jobs.finish(job.job_id, "done", "2026-11-25T00:03:00+00:00")  # no effect on a cancelled job
    final = jobs.get(job.job_id)
    assert final is not None and final.status == "cancelled" and final.done == 400
    outputs = list(jobs.outputs(job.job_id))
    assert [len(o) for o in outputs] == [200, 200]
    assert [line for o in outputs for line, _, _ in o] == list(range(2, 402))
    assert jobs.claim("runner-c", 30, 2000.0) is None  # nothing active is left


def test_job_store_contract(backend: Backend, tmp_path: Path) -> None:
    jobs = open_jobs(backend.settings(tmp_path))
    try:
        exercise(jobs)
    finally:
        jobs.close()
