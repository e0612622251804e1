"""The background side of screening jobs: submitting a watchlist and the runner that works through it.

The runner is one thread per server process. It claims an active job (a lease, renewed at every
chunk, so a job whose server died is taken over once the lease runs out), matches a slice of its
chunks in order, storing each chunk's output with the job's progress, then gives the job back and
claims again: the office it served longest ago goes first, so offices take turns. Matching happens in a worker
process at lower CPU priority (``screening_workers``), so a 100,000-row screening uses the second
core and the GIL of the server stays free for interactive /match requests. With
``screening_workers = 0`` the runner matches in its own thread instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing
import os
import threading
import time
import uuid
from collections import deque
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from typing import Any

from search.access.store import AccessStore, AuditEvent
from search.clock import iso, now_utc
from search.errors import StoreUnavailable
from search.matching.matcher import Matcher
from search.screening.jobs import Job, JobStore, new_job_id
from search.screening.pool import CHUNK, chunks, init_worker, run_chunk, screen_chunk
from search.screening.watchlist import Output, Rows
from search.settings import Settings
from search.storage.base import doc_id

logger = logging.getLogger(__name__)

AUDITED_MATCHES = 100  # matches listed in a screening.done audit entry; the rest by count and digest

RETRY_SECONDS = 2.0  # wait after the store was unavailable before trying again
NICE = 10  # the worker's CPU priority: below the API's request threads
# Chunks of one job matched before the runner gives it back and claims again in turn: offices are
# served round-robin by slices of 5 x 200 rows (a few seconds), so one office's 500,000-row job no
# longer holds every other office for half an hour (issue #18).
SLICE_CHUNKS = 5


def submit(
    jobs: JobStore, rows: Rows, office: str, key_id: str, filename: str, limit: int, offices: list[str] | None
) -> Job:
    """Store a new job (header and input chunks); the runner picks it up."""
    job = Job(
        job_id=new_job_id(),
        office=office,
        key_id=key_id,
        filename=filename,
        total=len(rows),
        chunks=(len(rows) + CHUNK - 1) // CHUNK,
        limit=limit,
        created_at=iso(now_utc()),
        offices=list(offices or []),
    )
    jobs.create(job, chunks(iter(rows)))
    return job


class Runner:
    """Works through screening jobs in the background of a server process."""

    def __init__(self, jobs: JobStore, settings: Settings, matcher: Matcher, access: AccessStore | None = None) -> None:
        self.jobs = jobs
        self.settings = settings
        self.matcher = matcher
        self.access = access
        self.owner = f"runner-{uuid.uuid4().hex[:12]}"
        self.lease = settings.screening_lease_seconds
        self._wake = threading.Event()
        self._idle = threading.Event()  # set while no job is in hand (tests and shutdown wait on it)
        self._idle.set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool: Executor | None = None
        self._served: dict[str, float] = {}  # office → when this runner last served it

    def _turn(self, job: Job) -> float:
        """The office served longest ago goes first (never served: at once)."""
        return self._served.get(job.office, 0.0)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="screening-runner", daemon=True)
        self._thread.start()

    def wait_idle(self, timeout: float) -> bool:
        """Block until no job is in hand (e.g. a cancelled job's last chunk is stored); False on
        timeout."""
        return self._idle.wait(timeout)

    def wake(self) -> None:
        """A job was submitted: look now rather than at the next poll."""
        self._wake.set()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the chunk in hand, then stop; the job continues at the next start."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                job = self.jobs.claim(self.owner, self.lease, time.time(), self._turn)
                if job is None:
                    self._wake.wait(self.settings.screening_poll_seconds)
                    self._wake.clear()
                    continue
                self._idle.clear()
                try:
                    self._run(job)
                finally:
                    self._served[job.office] = time.monotonic()
                    self._idle.set()
            except StoreUnavailable as exc:
                logger.warning("screening paused: %s", exc.message)
                self._stop.wait(RETRY_SECONDS)
            except Exception:  # a bug must not kill the runner thread: log it and go on polling
                logger.exception("screening runner error")
                self._stop.wait(RETRY_SECONDS)

    def _ensure_pool(self) -> Executor:
        if self._pool is None:
            # spawn, not fork: the server process has threads (a forked lock could be held forever).
            self._pool = ProcessPoolExecutor(
                max_workers=self.settings.screening_workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=init_worker,
                initargs=(self.settings, NICE, os.getpid()),
            )
            self._pool.submit(int).result()  # wait for the worker to start: not matching time
        return self._pool

    def _submit(self, rows: Rows, job: Job) -> Future[Output]:
        offices = job.offices or None
        if self.settings.screening_workers == 0:
            done: Future[Output] = Future()
            done.set_result(screen_chunk(self.matcher, rows, job.limit, offices))
            return done
        return self._ensure_pool().submit(run_chunk, rows, job.limit, offices)

    def _run(self, job: Job) -> None:
        """Match the job's chunks in order, up to one per worker in flight, storing each output
        (with the wall time since the previous one, so rows/s is what the analyst sees)."""
        logger.info("screening %s: %d rows (%d done)", job.job_id, job.total, job.done)
        if self.settings.screening_workers:
            self._ensure_pool()
        window = max(1, self.settings.screening_workers)
        inflight: deque[tuple[int, Future[Output]]] = deque()
        start, exhausted, submitted = 0, False, 0
        last = time.perf_counter()
        try:
            while not self._stop.is_set():
                if not self.jobs.renew(job, self.owner, self.lease, time.time()):
                    logger.info("screening %s: cancelled or taken over", job.job_id)
                    return
                while len(inflight) < window and not exhausted and submitted < SLICE_CHUNKS:
                    pending = self.jobs.pending_chunk(job.job_id, start)
                    if pending is None:
                        exhausted = True
                        break
                    n, rows = pending
                    inflight.append((n, self._submit(rows, job)))
                    start, submitted = n + 1, submitted + 1
                if not inflight and not exhausted:  # its slice is matched: the next office's turn
                    self.jobs.release(job.job_id, self.owner)
                    return
                if not inflight:
                    # Audit first: a client that sees "done" may read the audit trail at once, and
                    # on a loaded machine the entry written after the status was not there yet (CI:
                    # test_a_large_job_audits_a_digest_not_every_match on Elasticsearch). A crash in
                    # between runs the last slice again and audits twice, never not at all.
                    self._audit_done(job)
                    self.jobs.finish(job.job_id, "done", iso(now_utc()))
                    logger.info("screening %s: done", job.job_id)
                    return
                n, future = inflight.popleft()
                output = future.result()
                now = time.perf_counter()
                self.jobs.save_output(job, n, output, now - last)
                last = now
        except StoreUnavailable:
            raise  # the lease runs out and the job continues later, here or elsewhere
        except Exception as exc:
            logger.exception("screening %s failed", job.job_id)
            self.jobs.finish(job.job_id, "failed", iso(now_utc()), f"{exc.__class__.__name__}: {exc}")
        finally:
            for _, future in inflight:
                future.cancel()

    def _audit_done(self, job: Job) -> None:
        """What the screening returned, in the audit trail (its terms were recorded at submission):
        the first :data:`AUDITED_MATCHES` matches, their count, a SHA-256 of all of them and where
        the results are. Every match of a 120,000-row job made one 9.2 MB audit row (issue #18)."""
        if self.access is None:
            return
        digest = hashlib.sha256()
        matches: list[list[Any]] = []
        count = 0
        for output in self.jobs.outputs(job.job_id):
            for _, _, result in output:
                for m in result.get("matches", []):
                    row = [result.get("query_id"), doc_id(m["office"], m["record_id"]), m["score"]]
                    digest.update(json.dumps(row, ensure_ascii=False).encode())
                    count += 1
                    if len(matches) < AUDITED_MATCHES:
                        matches.append(row)
        final = self.jobs.get(job.job_id)
        detail = {
            "job": job.job_id,
            "rows": job.total,
            "matches": matches,
            "match_count": count,
            "matches_sha256": digest.hexdigest(),
            "results": f"/screenings/{job.job_id}/results",
        }
        if final is not None:
            detail |= {"seen": final.seen, "rejected": final.rejected}
        self.access.record(AuditEvent("screening.done", job.key_id, job.office, "-", "", [], detail))
